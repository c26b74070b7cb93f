"""A fine-tuned digit candidate carries the whole routing rule of its kind of model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ml.checkpoint import checkpoint_save
from ml.finetune import FinetuneConfig, LabelledDigits, finetune_digits
from ml.infer import DigitRecognizer
from ml.models import create_model
from ml.negatives import negatives_heldout


def _digits(images: np.ndarray, labels: np.ndarray) -> LabelledDigits:
    return LabelledDigits(images.astype(np.float32) / 255, labels.astype(np.int64))


@pytest.mark.parametrize("classes", [10, 11])
def test_a_candidate_gets_a_not_a_digit_limit_when_its_model_has_the_reject_class(
    mnist_300, tmp_path, classes
):
    images, labels = mnist_300
    torch.manual_seed(0)
    base = checkpoint_save(
        tmp_path / "base.pt", create_model("lenet5", num_classes=classes),
        architecture="lenet5", args={"num_classes": classes},
        classes=[str(d) for d in range(10)] + ["not a digit"] * (classes - 10),
    )  # fmt: skip
    validation = _digits(images[150:250], labels[150:250])
    config = FinetuneConfig(epochs=1, validation_negatives=400, num_threads=1, device="cpu")

    result = finetune_digits(
        base, corrections=_digits(images[:20], labels[:20]), corrected=np.zeros(20, bool),
        base_train=_digits(images[20:150], labels[20:150]), base_validation=validation,
        base_test=_digits(images[250:], labels[250:]), holdout=_digits(images[:5], labels[:5]),
        output_dir=tmp_path / "out", version="candidate", config=config,
    )  # fmt: skip

    card = json.loads(result.onnx.with_suffix(".json").read_text())
    if classes == 10:
        assert "reject_threshold" not in card
        return
    assert 0.0 <= card["reject_threshold"] <= 1.0
    # The rule the card states keeps the validation negatives it was chosen on within 0.5%.
    reader = DigitRecognizer(result.onnx, threads=1)
    held = negatives_heldout(
        "validation", digits=np.round(validation.images * 255).astype(np.uint8),
        labels=validation.labels, count=400, seed=config.seed,
    )  # fmt: skip
    accepted = [reader.accepts(r) for r in reader.predict(held.images[:, None])]
    assert np.mean(accepted) <= 0.005
    assert card["reject_rule"]["validation_negatives_accepted"] == pytest.approx(np.mean(accepted))
