"""Export of a string checkpoint to ONNX with a parity check, evaluation and model card."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from ml.checkpoint import checkpoint_load
from ml.data.mnist import mnist_load, split_train_validation
from ml.export import OPSET, onnx_parity
from ml.strings.evaluate import (
    field_temperature_fit,
    review_threshold_choose,
    routing_score,
    strings_score,
)
from ml.strings.generate import PLAIN_STYLE, StringGenerator

logger = logging.getLogger(__name__)


def string_onnx_export(model: torch.nn.Module, output: Path) -> float:
    """Write ``model`` as ONNX (dynamic N and W); return the max abs logit diff vs torch."""
    model.eval()
    output.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        model,
        (torch.rand(1, 1, 32, 96),),
        str(output),
        input_names=["image"],
        output_names=["logits"],
        dynamic_axes={"image": {0: "N", 3: "W"}, "logits": {0: "N", 1: "T"}},
        opset_version=OPSET,
        dynamo=False,
    )
    # The width axis is what the string contract adds; check a narrow, a middle and the widest.
    worst = max(
        onnx_parity(model, output, example=torch.rand(3, 1, 32, width)) for width in (32, 160, 512)
    )
    return worst


def string_model_export(
    checkpoint: str | Path,
    output: str | Path,
    *,
    data_dir: str | None,
    version: str,
    training_command: str | None = None,
    test_per_length: int = 100,
    cheque_strings: int = 600,
    validation_strings: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Export, then measure on generated test strings (MNIST test digits) and write the card.

    The review threshold is chosen on validation strings (MNIST train's validation digits),
    never on the test strings.
    """
    from ml.infer.strings import StringRecognizer

    model, payload = checkpoint_load(checkpoint)
    output = Path(output)
    parity = string_onnx_export(model, output)
    recognizer = StringRecognizer(output)
    config = payload.get("config", {})
    _, validation_set = split_train_validation(
        mnist_load(data_dir, "train"),
        validation_size=config.get("validation_size", 5000),
        seed=config.get("seed", 0),
    )
    validation = StringGenerator(
        validation_set.images, validation_set.labels, seed=seed + 11, cheque_fraction=0.5
    ).batch(validation_strings)
    val_logits, val_frames = recognizer.logits([s.image for s in validation])
    own_logits = [val_logits[i, : int(f)] for i, f in enumerate(val_frames)]
    temperature, temperature_losses = field_temperature_fit(
        own_logits[:400], [s.text for s in validation[:400]]
    )
    recognizer.temperature = temperature
    val_readings = recognizer.recognize([s.image for s in validation])
    threshold = review_threshold_choose(val_readings, 0.05)
    val_metrics = strings_score(val_readings, [s.text for s in validation])
    test_digits = mnist_load(data_dir, "test")
    plain = []
    for length in range(1, 13):
        style = replace(PLAIN_STYLE, min_length=length, max_length=length)
        plain += StringGenerator(
            test_digits.images, test_digits.labels, seed=seed + 100 + length, style=style
        ).batch(test_per_length)
    cheque = StringGenerator(
        test_digits.images, test_digits.labels, seed=seed + 200, cheque_fraction=1.0
    ).batch(cheque_strings)
    started = time.perf_counter()
    plain_readings = recognizer.recognize([s.image for s in plain])
    cheque_readings = recognizer.recognize([s.image for s in cheque])
    seconds = time.perf_counter() - started
    plain_metrics = strings_score(plain_readings, [s.text for s in plain])
    cheque_metrics = strings_score(cheque_readings, [s.text for s in cheque])
    everything = plain_readings + cheque_readings
    truths = [s.text for s in plain] + [s.text for s in cheque]
    card = {
        "version": version,
        "task": "digit strings (CTC)",
        "architecture": payload["architecture"],
        "args": payload["args"],
        "parameters": payload.get("parameters"),
        "preprocessing": payload["preprocessing"],
        "classes": payload["classes"],
        "training_data": payload.get("data"),
        # The data folder is machine-specific; the card names the variable that supplies it.
        "training_config": {**config, "data_dir": "$HDR_DATA_DIR"},
        "training_steps": payload.get("step"),
        "training_seconds": payload.get("train_seconds"),
        "training_command": training_command,
        "hardware": payload.get("hardware"),
        "kind": "string",
        "temperature": temperature,
        "calibration": {
            "method": "temperature on the logits minimizing the cross-entropy between field confidence and exact read",
            "fitted_on": "400 validation strings (MNIST train validation digits)",
            "losses": temperature_losses,
        },
        "validation_metrics": {
            "strings": val_metrics.strings,
            "accuracy": val_metrics.accuracy,
            "cer": val_metrics.cer,
        },
        "accept_threshold": threshold,
        "accept_threshold_rule": "field confidence quantile sending 5% of validation strings to review",
        "decoding": "prefix beam search, beam 8; field confidence = string probability",
        "onnx_parity_max_abs_diff": parity,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "test_metrics": {
            "test_data": "generated strings from MNIST test digits",
            "plain": {
                "strings": plain_metrics.strings,
                "accuracy": plain_metrics.accuracy,
                "cer": plain_metrics.cer,
                "accuracy_by_length": plain_metrics.accuracy_by_length,
            },
            "cheque": {
                "strings": cheque_metrics.strings,
                "accuracy": cheque_metrics.accuracy,
                "cer": cheque_metrics.cer,
            },
            "routing_at_validation_threshold": routing_score(everything, truths, threshold),
            "decode_seconds": round(seconds, 2),
        },
    }
    output.with_suffix(".json").write_text(json.dumps(card, indent=1) + "\n")
    return card
