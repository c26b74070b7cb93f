"""Fine-tuning the digit classifier on reviewed samples: the retraining job's training step.

The base model (a checkpoint) is trained a few epochs at a low learning rate on base data (MNIST
train when a data folder is given) mixed with the corrections, corrected samples repeated
`correction_weight` times, with the same batched augmentation as training; 11-class models keep
seeing generated negatives so their "not a digit" class does not fade. The temperature and the
accept threshold are chosen again on base validation digits (never on the holdout or the test
set), for 11-class models together with the "not a digit" limit on generated validation
negatives, and the result is exported to ONNX with its card. No Django: the platform passes
arrays in and gets files and figures back.
"""

from __future__ import annotations

import json
import logging
import math
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from ml.augment import AugmentConfig
from ml.checkpoint import checkpoint_load, checkpoint_save
from ml.evaluation.calibration import temperature_fit, threshold_for_error
from ml.evaluation.rejection import ACCEPT_RULE
from ml.export import OPSET, onnx_export, onnx_parity
from ml.infer.session import softmax
from ml.training.loop import predict_logits, train_one_epoch
from ml.training.run import device_resolve, hardware_describe

logger = logging.getLogger(__name__)


class FinetuneCancelled(Exception):
    """`should_stop` asked the run to stop; nothing was exported."""


@dataclass
class FinetuneConfig:
    epochs: int = 3
    batch_size: int = 128
    lr: float = 3e-4
    weight_decay: float = 1e-4
    # How many times a corrected sample is repeated in an epoch (its weight against base data).
    correction_weight: float = 5.0
    # Base digits mixed into each epoch (all of them when fewer are given).
    base_per_epoch: int = 20_000
    negatives_fraction: float = 0.15
    # Generated validation negatives that choose an 11-class candidate's "not a digit" limit.
    validation_negatives: int = 2000
    target_error: float = 0.0005
    seed: int = 0
    device: str = "auto"
    num_threads: int | None = None
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LabelledDigits:
    """float32 ``images`` [N,28,28] in [0,1] (white ink on black) and int ``labels`` [N]."""

    images: NDArray[np.float32]
    labels: NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @staticmethod
    def empty() -> LabelledDigits:
        return LabelledDigits(np.zeros((0, 28, 28), np.float32), np.zeros(0, np.int64))


@dataclass(frozen=True)
class FinetuneResult:
    checkpoint: Path
    onnx: Path
    card: dict[str, Any]
    history: list[dict[str, Any]]


def _tensor(images: NDArray, device) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(images, np.float32)).unsqueeze(1).to(device)


def accuracy_of(model, digits: LabelledDigits, device, temperature: float = 1.0) -> dict:
    """Accuracy (digits only: the reject class never counts as right) of `model` on `digits`."""
    if len(digits) == 0:
        return {"size": 0, "accuracy": None}
    logits = predict_logits(model, _tensor(digits.images, device)).cpu().numpy()
    predicted = logits[:, :10].argmax(1)
    winner = logits.argmax(1)
    right = (predicted == digits.labels) & (winner < 10)
    return {"size": len(digits), "accuracy": round(float(right.mean()), 6)}


def _calibrate(
    model,
    validation: LabelledDigits,
    device,
    config: FinetuneConfig,
    *,
    with_reject: bool,
) -> dict:
    """Temperature and accept threshold on base validation digits (the platform's routing reads
    them from the card). An 11-class model also gets its "not a digit" limit, chosen with the
    accept threshold on validation digits and generated validation negatives as ``python -m ml
    evaluate`` chooses it: without it the card would let any "not a digit" probability pass."""
    if len(validation) == 0:
        return {"temperature": 1.0, "accept_threshold": 0.99, "fitted_on": "nothing (defaults)"}
    logits = predict_logits(model, _tensor(validation.images, device)).cpu().numpy()
    if not with_reject or config.validation_negatives <= 0:
        temperature = float(temperature_fit(logits, validation.labels))
        probabilities = softmax(logits, temperature)
        confidence = probabilities[:, :10].max(1)
        correct = probabilities[:, :10].argmax(1) == validation.labels
        point = threshold_for_error(confidence, correct, config.target_error)
        return {
            "temperature": temperature,
            "accept_threshold": float(point.threshold),
            "fitted_on": f"base validation ({len(validation)} digits)",
            "validation_reject_rate": float(point.reject_rate),
            "validation_accepted_error": float(point.accepted_error),
        }
    from ml.evaluation.negatives_report import DEFAULT_TARGET_NEGATIVES
    from ml.evaluation.rejection import (
        operating_point_choose,
        reject_threshold_for_card,
        scores_from_logits,
        temperature_fit_with_negatives,
    )
    from ml.negatives import negatives_heldout

    held = negatives_heldout(
        "validation",
        digits=np.round(validation.images * 255).astype(np.uint8),
        labels=validation.labels,
        count=config.validation_negatives,
        seed=config.seed,
    )
    negative_logits = predict_logits(model, _tensor(held.images, device)).cpu().numpy()
    temperature = float(temperature_fit_with_negatives(logits, validation.labels, negative_logits))
    point = operating_point_choose(
        scores_from_logits(logits, temperature),
        validation.labels,
        scores_from_logits(negative_logits, temperature),
        target_error=config.target_error,
        target_negatives=DEFAULT_TARGET_NEGATIVES,
    )
    return {
        "temperature": temperature,
        "accept_threshold": float(point.digit_threshold),
        "reject_threshold": reject_threshold_for_card(point.reject_threshold),
        "fitted_on": f"base validation ({len(validation)} digits, {len(held)} generated negatives)",
        "validation_reject_rate": float(point.review_rate),
        "validation_accepted_error": float(point.accepted_error),
        "validation_negatives_accepted": float(point.negatives_accepted),
        "target_negatives_validation": DEFAULT_TARGET_NEGATIVES,
    }


def candidate_report(
    model, test: LabelledDigits, device, *, temperature: float, threshold: float, folder: Path
) -> dict[str, Any]:
    """Confusion matrix and error-reject curve of a candidate on the base test set (JSON and
    PNG in `folder`); returns the file names and the figures."""
    from ml.evaluation.calibration import error_reject_curve, reject_at
    from ml.evaluation.metrics import confusion_matrix
    from ml.evaluation.plots import confusion_plot, error_reject_plot

    if len(test) == 0:
        return {}
    folder.mkdir(parents=True, exist_ok=True)
    logits = predict_logits(model, _tensor(test.images, device)).cpu().numpy()
    probabilities = softmax(logits, temperature)
    predicted = probabilities[:, :10].argmax(1)
    confidence = probabilities[:, :10].max(1)
    correct = predicted == test.labels
    matrix = confusion_matrix(test.labels, predicted)
    points = error_reject_curve(confidence, correct)
    chosen = reject_at(confidence, correct, threshold)
    confusion_plot(matrix, folder / "confusion.png")
    error_reject_plot(points, chosen, folder / "error_reject.png", title="Error-reject (base test)")
    figures = {
        "confusion_matrix": matrix.tolist(),
        "at_threshold": {
            "threshold": chosen.threshold,
            "reject_rate": chosen.reject_rate,
            "accepted_error": chosen.accepted_error,
        },
        "error_reject_curve": [
            [round(p.reject_rate, 5), round(p.accepted_error, 6)]
            for p in points[:: max(1, len(points) // 200)]
        ],
    }
    (folder / "report.json").write_text(json.dumps(figures, indent=1))
    return {"files": ["confusion.png", "error_reject.png", "report.json"], **figures}


def finetune_digits(
    base_checkpoint: str | Path,
    *,
    corrections: LabelledDigits,
    corrected: NDArray[np.bool_],
    base_train: LabelledDigits,
    base_validation: LabelledDigits,
    base_test: LabelledDigits,
    holdout: LabelledDigits,
    output_dir: str | Path,
    version: str,
    config: FinetuneConfig | None = None,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> FinetuneResult:
    """Fine-tune, evaluate and export a candidate; raises FinetuneCancelled when stopped.

    `corrections` are the reviewed training samples (`corrected` marks those a person changed);
    `holdout` the frozen correction holdout; `base_test` the base test set (MNIST test). Each
    epoch reports {"epoch", "loss", "accuracy", "holdout_accuracy", "seconds"} to `on_epoch`.
    """
    config = config or FinetuneConfig()
    started = time.perf_counter()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    device = device_resolve(config.device)
    model, payload = checkpoint_load(base_checkpoint)
    model.to(device)
    classes = payload["classes"]
    with_reject = len(classes) > 10

    repeats = np.where(corrected, max(1, round(config.correction_weight)), 1)
    sample_index = np.repeat(np.arange(len(corrections)), repeats)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    generator = torch.Generator(device=device)
    generator.manual_seed(config.seed)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    history: list[dict[str, Any]] = []
    for epoch in range(1, config.epochs + 1):
        if should_stop is not None and should_stop():
            raise FinetuneCancelled(f"stopped before epoch {epoch}")
        epoch_start = time.perf_counter()
        take = min(len(base_train), config.base_per_epoch)
        base_index = rng.choice(len(base_train), size=take, replace=False) if take else []
        images = np.concatenate(
            [base_train.images[base_index], corrections.images[sample_index]]
        ).astype(np.float32)
        labels = np.concatenate([base_train.labels[base_index], corrections.labels[sample_index]])
        negatives = None
        if with_reject and config.negatives_fraction > 0 and len(base_train):
            from ml.negatives import negatives_generate

            count = math.ceil(len(labels) * config.negatives_fraction)
            made = negatives_generate(
                count,
                split="train",
                digits=(base_train.images * 255).astype(np.uint8),
                labels=base_train.labels,
                seed=config.seed * 1000 + epoch,
            )
            negatives = torch.from_numpy(made.images).unsqueeze(1).to(device)
        stats = train_one_epoch(
            model,
            _tensor(images, device),
            torch.from_numpy(labels.astype(np.int64)).to(device),
            optimizer=optimizer,
            batch_size=config.batch_size,
            generator=generator,
            augment=config.augment,
            negatives=negatives,
        )
        row = {
            "epoch": epoch,
            "loss": round(stats.loss, 6),
            "accuracy": round(stats.accuracy, 6),
            "holdout_accuracy": accuracy_of(model, holdout, device)["accuracy"],
            "seconds": round(time.perf_counter() - epoch_start, 2),
        }
        history.append(row)
        logger.info("fine-tune epoch %d: %s", epoch, row)
        if on_epoch is not None:
            on_epoch(row)
    if should_stop is not None and should_stop():
        raise FinetuneCancelled("stopped after the last epoch")

    model.eval()
    calibration = _calibrate(model, base_validation, device, config, with_reject=with_reject)
    metrics = {
        "base_test": accuracy_of(model, base_test, device),
        "holdout": accuracy_of(model, holdout, device),
        "corrections_trained": len(corrections),
        "corrected_trained": int(np.count_nonzero(corrected)),
    }
    report = candidate_report(
        model,
        base_test,
        device,
        temperature=calibration["temperature"],
        threshold=calibration["accept_threshold"],
        folder=output_dir / f"{version}-report",
    )
    checkpoint = output_dir / f"{version}.pt"
    model.cpu()
    checkpoint_save(
        checkpoint,
        model,
        architecture=payload["architecture"],
        args=payload["args"],
        classes=classes,
        metadata={
            "config": {**payload.get("config", {}), "finetune": config.to_dict()},
            "data": {
                "fine_tuned_from": str(base_checkpoint),
                "base_train_size": len(base_train),
                "corrections": len(corrections),
            },
            "metrics": metrics,
            "train_seconds": round(time.perf_counter() - started, 1),
            "hardware": hardware_describe(device),
        },
    )
    onnx_path = output_dir / f"{version}.onnx"
    example = torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    onnx_export(model, onnx_path, example=example)
    difference = onnx_parity(model, onnx_path, example=example)
    card = {
        "version": version,
        "kind": "digits",
        "architecture": payload["architecture"],
        "args": payload["args"],
        "classes": classes,
        "preprocessing": payload.get("preprocessing", {}),
        "training": {
            "fine_tuned_from": str(base_checkpoint),
            "config": config.to_dict(),
            "history": history,
            "seconds": round(time.perf_counter() - started, 1),
            "hardware": hardware_describe(device),
        },
        "calibration": {
            "temperature": calibration["temperature"],
            "fitted_on": calibration["fitted_on"],
        },
        "accept_threshold": calibration["accept_threshold"],
        **(
            {
                "reject_threshold": calibration["reject_threshold"],
                "accept_rule": ACCEPT_RULE,
                "reject_rule": {
                    k: calibration[k]
                    for k in (
                        "validation_reject_rate",
                        "validation_accepted_error",
                        "validation_negatives_accepted",
                        "target_negatives_validation",
                    )
                },
            }
            if "reject_threshold" in calibration
            else {}
        ),
        "test_metrics": metrics,
        "report": {
            "folder": f"{version}-report",
            "files": report.get("files", []),
            "at_threshold": report.get("at_threshold"),
        },
        "onnx": {"opset": OPSET, "parity_max_abs_logit_difference": difference},
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "exported_on": platform.platform(),
    }
    onnx_path.with_suffix(".json").write_text(json.dumps(card, indent=1))
    return FinetuneResult(checkpoint, onnx_path, card, history)
