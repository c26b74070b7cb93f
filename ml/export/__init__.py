"""ONNX export of a digit checkpoint, checked against torch, with its JSON model card."""

from __future__ import annotations

import json
import logging
import platform
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ml.errors import CheckpointError
from ml.evaluation.rejection import reject_threshold_for_card

logger = logging.getLogger(__name__)

OPSET = 17
# The largest |logit difference| between torch and ONNX Runtime tolerated on a random batch.
PARITY_TOLERANCE = 1e-4


def onnx_export(model, path: Path, *, example) -> None:
    """Write `model` as ONNX with input `image` and output `logits`, batch size dynamic."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        # The TorchScript exporter: the torch.export one needs onnxscript, which we do not ship.
        torch.onnx.export(
            model.eval(),
            (example,),
            str(path),
            input_names=["image"],
            output_names=["logits"],
            dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}},
            opset_version=OPSET,
            dynamo=False,
        )


def onnx_parity(model, path: Path, *, example) -> float:
    """Max |logit difference| between torch and ONNX Runtime on `example`; raises above tolerance."""
    import torch

    from ml.infer.session import onnx_session_create

    with torch.no_grad():
        expected = model.eval()(example).numpy()
    session = onnx_session_create(path, providers=["CPUExecutionProvider"])
    got = session.run(["logits"], {"image": example.numpy()})[0]
    difference = float(np.abs(got - expected).max())
    if difference > PARITY_TOLERANCE:
        raise CheckpointError(f"ONNX parity failed: max |logit difference| {difference:.2e}")
    return difference


def model_export(
    checkpoint: str | Path,
    output: str | Path,
    *,
    report_dir: str | Path | None,
    version: str,
    training_command: str | None = None,
) -> dict[str, Any]:
    """Export a digit checkpoint to `output` (.onnx) and write its card beside it (.json)."""
    import torch

    from ml.checkpoint import checkpoint_load
    from ml.models.complexity import macs_per_sample, parameter_count

    model, payload = checkpoint_load(checkpoint)
    output = Path(output)
    example = torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    onnx_export(model, output, example=example)
    difference = onnx_parity(model, output, example=example)

    report: dict[str, Any] = {}
    if report_dir:
        report = json.loads((Path(report_dir) / "report.json").read_text())
    card = {
        "version": version,
        "kind": "digits",
        "architecture": payload["architecture"],
        "args": payload["args"],
        "parameters": parameter_count(model),
        "macs_per_digit": macs_per_sample(model),
        "classes": payload["classes"],
        "preprocessing": payload["preprocessing"],
        "training": {
            "data": payload.get("data", {}),
            "config": payload.get("config", {}),
            "best_epoch": payload.get("epoch"),
            "validation": payload.get("metrics", {}),
            "command": training_command,
            "seconds": payload.get("train_seconds"),
            "hardware": payload.get("hardware"),
        },
        "calibration": report.get("calibration", {"temperature": 1.0}),
        # Accept a digit when its calibrated probability is at least this (chosen on validation).
        "accept_threshold": report.get("reject", {}).get("threshold", 0.99),
        "test_metrics": {
            key: report[key]
            for key in (
                "test_accuracy",
                "test_errors",
                "test_size",
                "validation_digits",
                "validation_label_errors_dropped",
                "reject",
                "negatives",
            )
            if key in report
        },
        "onnx": {"opset": OPSET, "parity_max_abs_logit_difference": difference},
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "exported_on": platform.platform(),
    }
    if len(payload["classes"]) > 10 and "reject_threshold" in report.get("reject", {}):
        # ... and its "not a digit" probability is at most this (chosen with the above).
        card["reject_threshold"] = reject_threshold_for_card(report["reject"]["reject_threshold"])
        card["accept_rule"] = report["reject"]["rule"]
    output.with_suffix(".json").write_text(json.dumps(card, indent=1))
    logger.info("exported %s (parity %.1e) to %s", version, difference, output)
    return card
