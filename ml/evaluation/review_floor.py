"""How few digits a model, or an ensemble of models, can send to review at the error target.

Issue 3 asks for <= 0.05% error on accepted MNIST test digits with <= 1% sent to review. This
measures whether that is within reach of the models at hand, for each model alone and for all of
them together (the mean of their log-probabilities over the ten digits; a reject class is
dropped), under three confidence scores: the top probability (what the platform uses), the
margin between the top two, and the negative entropy. For each it gives

- ``review``, ``error``: the test digits sent to review and the error on the accepted ones at the
  threshold chosen on validation digits (the rule a model would ship with);
- ``floor``: the share the test set itself needs to reach the error target. It is chosen on
  test, so it is never an operating rule: it bounds what any threshold on that score can do.

The temperature of each reader is fitted on validation. Negatives play no part: the figures are
the digits' own floor, before any "not a digit" rule adds to it. ``test_accuracy_variants`` gives
each reader's accuracy on the test digits blurred as ``python -m ml evaluate`` blurs them, raw
and re-scanned through the production normalization.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ml.evaluation.calibration import reject_at, temperature_fit, threshold_for_error

DIGITS = 10


def digit_log_probabilities(logits: NDArray) -> NDArray[np.float64]:
    """Log-softmax over the ten digit columns of logits ``[N, 10]`` or ``[N, 11]``."""
    digits = np.asarray(logits, np.float64)[:, :DIGITS]
    shifted = digits - digits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def confidence_scores(log_probabilities: NDArray, temperature: float) -> dict[str, NDArray]:
    """Per digit: ``probability`` (top), ``margin`` (top minus second), ``neg_entropy``."""
    probabilities = np.exp(digit_log_probabilities(log_probabilities / temperature))
    ranked = np.sort(probabilities, axis=1)
    entropy = -(probabilities * np.log(np.clip(probabilities, 1e-300, None))).sum(axis=1)
    return {
        "probability": ranked[:, -1],
        "margin": ranked[:, -1] - ranked[:, -2],
        "neg_entropy": -entropy,
    }


def review_figures(
    validation: NDArray,
    validation_labels: NDArray,
    test: NDArray,
    test_labels: NDArray,
    *,
    target_error: float,
) -> dict[str, Any]:
    """The figures of one reader from its digit log-probabilities on validation and test."""
    temperature = temperature_fit(validation, validation_labels)
    validation_scores = confidence_scores(validation, temperature)
    test_scores = confidence_scores(test, temperature)
    validation_correct = validation.argmax(1) == validation_labels
    test_correct = test.argmax(1) == test_labels
    figures: dict[str, Any] = {
        "test_accuracy": float(test_correct.mean()),
        "temperature": temperature,
    }
    for name, scores in validation_scores.items():
        rule = threshold_for_error(scores, validation_correct, target_error)
        on_test = reject_at(test_scores[name], test_correct, rule.threshold)
        floor = threshold_for_error(test_scores[name], test_correct, target_error)
        figures[name] = {
            "threshold": rule.threshold,
            "validation_review": rule.reject_rate,
            "review": on_test.reject_rate,
            "error": on_test.accepted_error,
            "floor": floor.reject_rate,
        }
    return figures


def review_floor(
    models: list[str | Path],
    *,
    data_dir: str | Path | None,
    target_error: float = 0.0005,
    validation_size: int = 5000,
    seed: int = 0,
) -> dict[str, Any]:
    """:func:`review_figures` on MNIST for each model and, with two or more, their ensemble.

    Validation is the training split's held-out digits without the listed label errors, as in
    ``python -m ml evaluate``; test is MNIST test.
    """
    from ml.data.label_errors import validation_without_label_errors
    from ml.data.mnist import mnist_load
    from ml.data.renormalize import digits_blur, digits_renormalize
    from ml.evaluation.report import BLUR_SIGMAS, model_logits_function

    # Models first, so that a wrong path fails before the data is read. An ONNX model goes by its
    # card's version, a checkpoint by its path.
    runs = {}
    for model in models:
        run, facts = model_logits_function(model)
        name = str(facts["name"]) if str(model).endswith(".onnx") else str(model)
        runs[name if name not in runs else str(model)] = run
    validation, _ = validation_without_label_errors(
        mnist_load(data_dir, "train"), validation_size=validation_size, seed=seed
    )
    test = mnist_load(data_dir, "test")
    rescanned = digits_renormalize(test.images, seed)
    sets = {
        "validation": np.ascontiguousarray(validation.images[:, None], np.float32) / 255,
        "test": np.ascontiguousarray(test.images[:, None], np.float32) / 255,
    } | {
        # The test digits blurred as evaluation blurs them, raw and re-scanned: accuracy only.
        f"{prefix}blur_{sigma}": np.ascontiguousarray(digits_blur(images, sigma)[:, None])
        for prefix, images in (("", test.images), ("renormalized_", rescanned))
        for sigma in BLUR_SIGMAS
    }
    readings: dict[str, dict[str, NDArray]] = {
        name: {split: digit_log_probabilities(run(x)) for split, x in sets.items()}
        for name, run in runs.items()
    }
    if len(readings) > 1:
        readings["ensemble"] = {
            split: digit_log_probabilities(np.mean([r[split] for r in readings.values()], axis=0))
            for split in sets
        }
    return {
        "target_error": target_error,
        "validation_digits": len(validation),
        "test_digits": len(test),
        "readers": {
            name: review_figures(
                r["validation"],
                validation.labels,
                r["test"],
                test.labels,
                target_error=target_error,
            )
            | {
                "test_accuracy_variants": {
                    split: float((r[split].argmax(1) == test.labels).mean())
                    for split in r
                    if split not in ("validation", "test")
                }
            }
            for name, r in readings.items()
        },
    }
