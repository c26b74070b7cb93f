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

from ml.data.label_errors import MNIST_TRAIN_LABEL_ERRORS, validation_without_label_errors
from ml.data.mnist import DigitSet, mnist_load
from ml.data.renormalize import digits_blur, digits_renormalize
from ml.evaluation.calibration import (
    error_reject_curve,
    expected_calibration_error,
    reject_at,
    temperature_fit,
    threshold_for_error,
)
from ml.evaluation.metrics import accuracy, confusion_matrix, per_class_report
from ml.evaluation.negatives_report import (
    DEFAULT_TARGET_NEGATIVES,
    LookalikesDropped,
    NegativeLogits,
    negatives_report_write,
)
from ml.evaluation.plots import (
    confusion_plot,
    error_reject_plot,
    image_grid,
    misclassified_grid,
)
from ml.evaluation.rejection import temperature_fit_with_negatives
from ml.infer.session import softmax
from ml.negatives import NegativeSet
from ml.negatives.fonts import fonts_missing
from ml.negatives.lookalike import LookalikeFilter

logger = logging.getLogger(__name__)

# Blurs (pixels) the test digits are also read under: a model must not lean on stroke sharpness.
BLUR_SIGMAS = (0.7, 1.0)


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
    negatives: NegativeLogits | None = None,
    target_negatives: float = DEFAULT_TARGET_NEGATIVES,
) -> dict[str, Any]:
    """Write the report folder for one model's scores and return its summary.

    `*_logits` are [N,10] scores (log-probabilities for models without logits), or [N,11] with a
    "not a digit" class; `calibrate` fits a temperature on validation (off for baselines whose
    scores are not logits). With `negatives`, the accept rule also uses the reject signal and
    is chosen on validation digits and negatives together (see :mod:`negatives_report`).
    """
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    temperature, fitted_on = 1.0, "validation"
    if calibrate and negatives is not None and validation_logits.shape[1] > 10:
        fitted_on = "validation digits + validation negatives (label 10)"
        temperature = temperature_fit_with_negatives(
            validation_logits, validation_labels, negatives.validation_logits
        )
    elif calibrate:
        temperature = temperature_fit(validation_logits, validation_labels)

    validation_digits = softmax(validation_logits, temperature)[:, :10]
    chosen = threshold_for_error(
        validation_digits.max(1),
        validation_digits.argmax(1) == validation_labels,
        target_error,
    )

    raw = softmax(test_logits, 1.0)
    calibrated = softmax(test_logits, temperature)
    # The digit read is the best of the ten digit classes; the reject class is a separate signal.
    predicted = calibrated[:, :10].argmax(1)
    correct = predicted == test_labels
    matrix = confusion_matrix(test_labels, predicted)
    at_threshold = reject_at(calibrated[:, :10].max(1), correct, chosen.threshold)
    curve = error_reject_curve(calibrated[:, :10].max(1), correct)

    summary = {
        "model": name,
        "test_accuracy": accuracy(matrix),
        "test_errors": int((~correct).sum()),
        "test_size": len(test_labels),
        "per_class": [asdict(r) | {"class": c} for c, r in enumerate(per_class_report(matrix))],
        "calibration": {
            "temperature": temperature,
            "fitted_on": fitted_on,
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
    if negatives is not None:
        summary.update(
            negatives_report_write(
                out=out,
                temperature=temperature,
                validation_logits=validation_logits,
                validation_labels=validation_labels,
                test_logits=test_logits,
                test_labels=test_labels,
                negatives=negatives,
                target_error=target_error,
                target_negatives=target_negatives,
            )
        )
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


def model_logits_function(model_path: str | Path) -> tuple[Any, dict[str, Any]]:
    """A function from float [N,1,28,28] images to logits, and facts about the model.

    A ``.onnx`` file runs through ONNX Runtime (so committed models can be re-measured);
    anything else is a training checkpoint.
    """
    if str(model_path).endswith(".onnx"):
        from ml.infer.session import model_card_load, onnx_session_create

        session = onnx_session_create(model_path, providers=["CPUExecutionProvider"])
        card = model_card_load(model_path)

        def run_onnx(images: NDArray[np.float32]) -> NDArray[np.float32]:
            return np.concatenate(
                [
                    session.run(["logits"], {"image": images[i : i + 1024]})[0]
                    for i in range(0, len(images), 1024)
                ]
            )

        facts = {
            "name": card.get("version", Path(model_path).stem),
            "parameters": card.get("parameters"),
            "macs_per_digit": card.get("macs_per_digit"),
        }
        return run_onnx, facts

    import torch

    from ml.checkpoint import checkpoint_load
    from ml.models.complexity import macs_per_sample, parameter_count
    from ml.training.loop import predict_logits

    model, payload = checkpoint_load(model_path)

    def run_torch(images: NDArray[np.float32]) -> NDArray[np.float32]:
        return predict_logits(model, torch.from_numpy(images)).numpy()

    facts = {
        "name": payload["architecture"],
        "parameters": parameter_count(model),
        "macs_per_digit": macs_per_sample(model),
    }
    return run_torch, facts


def _lookalikes_grid(dropped: NegativeSet, total: int, out: Path) -> None:
    """``lookalikes_dropped.png``: the test negatives the look-alike filter dropped, so a reader
    can check that they are digits to the eye."""
    out.mkdir(parents=True, exist_ok=True)
    image_grid(
        dropped.images,
        [dropped.kind_names[kind] for kind in dropped.kinds],
        out / "lookalikes_dropped.png",
        f"Test negatives dropped as digits to the eye ({len(dropped)} of {total})",
    )


def _validation_errors_grid(
    label_errors: NDArray[np.int64],
    train: DigitSet,
    validation: DigitSet,
    logits: NDArray,
    out: Path,
    shown: int = 24,
) -> None:
    """``validation_errors.png``: the listed label errors left out of validation, then the
    validation digits the model gets wrong with the most confidence, so that a reader can judge
    which labels are wrong."""
    out.mkdir(parents=True, exist_ok=True)
    probabilities = softmax(logits)[:, :10]
    read, confidence = probabilities.argmax(1), probabilities.max(1)
    wrong = np.flatnonzero(read != validation.labels)
    kept = wrong[np.argsort(-confidence[wrong])][: max(0, shown - len(label_errors))]
    shows = {error.index: error.shows for error in MNIST_TRAIN_LABEL_ERRORS}
    image_grid(
        np.concatenate([train.images[label_errors], validation.images[kept]]),
        [f"#{i}: label {train.labels[i]}, is {shows[int(i)]}" for i in label_errors]
        + [f"label {validation.labels[i]}, read {read[i]} {confidence[i]:.3f}" for i in kept],
        out / "validation_errors.png",
        f"Listed label errors (left out), then the most confident of the {len(wrong)} "
        "validation errors kept",
    )


def evaluate_checkpoint(
    checkpoint: str | Path,
    *,
    data_dir: str | Path | None,
    output_dir: str | Path,
    target_error: float = 0.0005,
    target_negatives: float = DEFAULT_TARGET_NEGATIVES,
    validation_size: int = 5000,
    seed: int = 0,
    negatives: int = 6000,
    lookalikes: LookalikeFilter | None = None,
    choose_on_rescanned: bool = False,
    drop_label_errors: bool = True,
) -> dict[str, Any]:
    """Evaluate a training checkpoint (or an exported ``.onnx``) on MNIST.

    Validation chooses, test reports. ``negatives`` > 0 also generates that many validation
    negatives (from the validation digits) and test negatives (from the MNIST test digits)
    and measures the reject signal on them. ``lookalikes`` drops, from both, the negatives
    that are digits to its judge; the report then also gives the test negatives accepted
    before the drop. ``choose_on_rescanned`` adds the validation digits re-scanned through the
    production normalization to the validation set that fits the temperature and chooses the
    thresholds (production crops are drawn that way). ``drop_label_errors`` leaves the MNIST
    training digits listed in :mod:`ml.data.label_errors` out of validation.
    ``target_negatives`` caps the share of validation negatives the chosen rule accepts.
    """
    run, facts = model_logits_function(checkpoint)
    train = mnist_load(data_dir, "train")
    # Only the listed digits that the split puts into validation leave it.
    validation, label_errors = validation_without_label_errors(
        train, validation_size=validation_size, seed=seed, drop=drop_label_errors
    )
    test = mnist_load(data_dir, "test")

    def as_float(images: NDArray) -> NDArray[np.float32]:
        if images.dtype == np.uint8:
            images = images.astype(np.float32) / 255
        return np.ascontiguousarray(images[:, None], dtype=np.float32)

    validation_logits = run(as_float(validation.images))
    validation_labels = validation.labels
    _validation_errors_grid(label_errors, train, validation, validation_logits, Path(output_dir))
    if choose_on_rescanned:
        rescanned = digits_renormalize(validation.images, seed + 1)
        validation_logits = np.concatenate([validation_logits, run(as_float(rescanned))])
        validation_labels = np.concatenate([validation_labels, validation.labels])

    negative_logits = None
    if negatives > 0:
        from ml.negatives import negatives_heldout

        held = {
            split: negatives_heldout(
                split, digits=digits.images, labels=digits.labels, count=negatives, seed=seed
            )
            for split, digits in (("validation", validation), ("test", test))
        }
        before_drop = None
        if lookalikes is not None:
            before_drop = LookalikesDropped(
                lookalikes.describe(), run(as_float(held["test"].images)), {}
            )
            for split in held:
                total = len(held[split])
                held[split], dropped = lookalikes.apply(held[split])
                before_drop.dropped[split] = {k: n for k, n in dropped.kind_counts().items() if n}
                if split == "test":
                    _lookalikes_grid(dropped, total, Path(output_dir))
        rescanned_test = digits_renormalize(test.images, seed)
        variants = {f"blur_{sigma}": digits_blur(test.images, sigma) for sigma in BLUR_SIGMAS} | {
            f"renormalized_blur_{sigma}": digits_blur(rescanned_test, sigma)
            for sigma in BLUR_SIGMAS
        }
        negative_logits = NegativeLogits(
            validation_logits=run(as_float(held["validation"].images)),
            test_logits=run(as_float(held["test"].images)),
            test_kinds=held["test"].kinds,
            kind_names=held["test"].kind_names,
            test_images=held["test"].images,
            renormalized_test_logits=run(as_float(rescanned_test)),
            lookalikes=before_drop,
            variant_test_logits={name: run(as_float(images)) for name, images in variants.items()},
        )

    return report_write(
        name=facts["name"],
        validation_logits=validation_logits,
        validation_labels=validation_labels,
        test_logits=run(as_float(test.images)),
        test_labels=test.labels,
        test_images=test.images,
        output_dir=output_dir,
        target_error=target_error,
        target_negatives=target_negatives,
        negatives=negative_logits,
        extra={
            "checkpoint": str(checkpoint),
            "parameters": facts["parameters"],
            "macs_per_digit": facts["macs_per_digit"],
            "data_hashes": {**validation.hashes, **test.hashes},
            "validation_digits": "raw and re-scanned" if choose_on_rescanned else "raw",
            "validation_label_errors_dropped": len(label_errors),
            **({"fonts_missing": fonts_missing()} if negatives > 0 else {}),
        },
    )
