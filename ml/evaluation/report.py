"""`python -m ml evaluate`: one evaluation code path for the CNN and the scikit-learn baselines.

Temperature and accept threshold are chosen on the validation split carved from the training set
(same seed as training); the test set only reports.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ml.data.mnist import mnist_load, split_train_validation
from ml.evaluation.calibration import (
    error_reject_curve,
    expected_calibration_error,
    reject_at,
    temperature_fit,
    threshold_for_error,
)
from ml.evaluation.metrics import accuracy, confusion_matrix, per_class_report
from ml.evaluation.plots import confusion_plot, error_reject_plot, misclassified_grid
from ml.infer.session import softmax

logger = logging.getLogger(__name__)


def report_write(
    *,
    name: str,
    validation_logits: NDArray,
    validation_labels: NDArray,
    test_logits: NDArray,
    test_labels: NDArray,
    test_images: NDArray,
    output_dir: str | Path,
    target_error: float,
    calibrate: bool = True,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the report folder for one model's scores and return its summary.

    `*_logits` are [N,10] scores (log-probabilities for models without logits); `calibrate` fits a
    temperature on validation (off for baselines whose scores are not logits).
    """
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    temperature = temperature_fit(validation_logits, validation_labels) if calibrate else 1.0

    validation_probabilities = softmax(validation_logits, temperature)
    chosen = threshold_for_error(
        validation_probabilities.max(1),
        validation_probabilities.argmax(1) == validation_labels,
        target_error,
    )

    raw = softmax(test_logits, 1.0)
    calibrated = softmax(test_logits, temperature)
    predicted = calibrated.argmax(1)
    correct = predicted == test_labels
    matrix = confusion_matrix(test_labels, predicted)
    at_threshold = reject_at(calibrated.max(1), correct, chosen.threshold)
    curve = error_reject_curve(calibrated.max(1), correct)

    summary = {
        "model": name,
        "test_accuracy": accuracy(matrix),
        "test_errors": int((~correct).sum()),
        "test_size": len(test_labels),
        "per_class": [asdict(r) | {"class": c} for c, r in enumerate(per_class_report(matrix))],
        "calibration": {
            "temperature": temperature,
            "fitted_on": "validation",
            "ece_before": expected_calibration_error(raw, test_labels),
            "ece_after": expected_calibration_error(calibrated, test_labels),
        },
        "reject": {
            "target_error": target_error,
            "threshold": chosen.threshold,
            "chosen_on": "validation",
            "validation_reject_rate": chosen.reject_rate,
            "validation_accepted_error": chosen.accepted_error,
            "test_reject_rate": at_threshold.reject_rate,
            "test_accepted_error": at_threshold.accepted_error,
        },
        **(extra or {}),
    }
    (out / "report.json").write_text(json.dumps(summary, indent=1))
    (out / "confusion.json").write_text(json.dumps(matrix.tolist()))
    (out / "error_reject.json").write_text(
        json.dumps({"chosen": asdict(at_threshold), "curve": [asdict(p) for p in curve]})
    )
    confusion_plot(matrix, out / "confusion.png")
    wrong = np.flatnonzero(~correct)
    misclassified_grid(
        test_images[wrong], test_labels[wrong], predicted[wrong], out / "misclassified.png"
    )
    error_reject_plot(curve, at_threshold, out / "error_reject.png")
    logger.info("%s: test accuracy %.4f, report in %s", name, summary["test_accuracy"], out)
    return summary


def evaluate_checkpoint(
    checkpoint: str | Path,
    *,
    data_dir: str | Path | None,
    output_dir: str | Path,
    target_error: float = 0.0005,
    validation_size: int = 5000,
    seed: int = 0,
) -> dict[str, Any]:
    """Evaluate a training checkpoint on MNIST (validation for choices, test for the report)."""
    import torch

    from ml.checkpoint import checkpoint_load
    from ml.models.complexity import macs_per_sample, parameter_count
    from ml.training.loop import predict_logits

    model, payload = checkpoint_load(checkpoint)
    _, validation = split_train_validation(
        mnist_load(data_dir, "train"), validation_size=validation_size, seed=seed
    )
    test = mnist_load(data_dir, "test")

    def logits_of(images: NDArray[np.uint8]) -> NDArray[np.float32]:
        tensor = torch.from_numpy(images).float().div_(255).unsqueeze(1)
        return predict_logits(model, tensor).numpy()

    return report_write(
        name=payload["architecture"],
        validation_logits=logits_of(validation.images),
        validation_labels=validation.labels,
        test_logits=logits_of(test.images),
        test_labels=test.labels,
        test_images=test.images,
        output_dir=output_dir,
        target_error=target_error,
        extra={
            "checkpoint": str(checkpoint),
            "parameters": parameter_count(model),
            "macs_per_digit": macs_per_sample(model),
            "data_hashes": {**validation.hashes, **test.hashes},
        },
    )
