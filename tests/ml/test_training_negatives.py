"""Training with negatives: an 11-class run learns the reject class and describes itself."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ml.checkpoint import REJECT_CLASS, checkpoint_load
from ml.data.mnist import DigitSet
from ml.models import create_model
from ml.negatives import negatives_generate
from ml.training import TrainConfig, train_digits
from ml.training.loop import evaluate, evaluate_negatives, train_one_epoch


def test_mixed_batches_teach_the_reject_class(mnist_300):
    torch.manual_seed(0)
    images, labels = mnist_300[0][:160], mnist_300[1][:160]
    digits = torch.from_numpy(images).float().div(255).unsqueeze(1)
    made = negatives_generate(60, split="train", digits=images, labels=labels)
    negatives = torch.from_numpy(made.images).unsqueeze(1)
    model = create_model("lenet5", num_classes=11)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    before = evaluate_negatives(model, negatives, mode="reject_class")

    for _ in range(5):
        train_one_epoch(
            model, digits, torch.from_numpy(labels), optimizer=optimizer, batch_size=32,
            generator=torch.Generator().manual_seed(0), augment=None, negatives=negatives,
        )  # fmt: skip

    after = evaluate_negatives(model, negatives, mode="reject_class")
    assert after.loss < before.loss * 0.5
    assert after.accuracy > 0.8  # share of the negatives whose argmax is "not a digit"


def _tiny_run(mnist_300, tmp_path, *, epochs: int, **overrides):
    """A lenet5 run with 20% negatives on fixture digits; its checkpoint payload."""
    images, labels = mnist_300
    train = DigitSet(images[:256], labels[:256], "fixture:train")
    validation = DigitSet(images[256:], labels[256:], "fixture:validation")
    config = TrainConfig(
        output_dir=str(tmp_path),
        architecture="lenet5",
        epochs=epochs,
        batch_size=64,
        negatives_fraction=0.2,
        validation_negatives=24,
        num_threads=1,
        **overrides,
    )
    result = train_digits(config, train_set=train, validation_set=validation)
    return checkpoint_load(result.best_checkpoint)


def test_an_11_class_run_writes_a_self_describing_checkpoint(mnist_300, tmp_path):
    model, payload = _tiny_run(mnist_300, tmp_path, epochs=2)

    assert payload["classes"][-1] == REJECT_CLASS and len(payload["classes"]) == 11
    assert payload["args"]["num_classes"] == 11
    assert payload["data"]["negatives"]["mode"] == "reject_class"
    assert "lookalikes_dropped" not in payload["data"]["negatives"]
    assert model(torch.rand(3, 1, 28, 28)).shape == (3, 11)
    log = json.loads((tmp_path / "log.json").read_text())
    assert len(log) == 2 and {"val_negatives_loss", "val_negatives_rejected"} <= set(log[0])
    assert np.isfinite(log[-1]["val_loss"])


def test_a_run_that_drops_lookalikes_records_the_filter(mnist_300, tmp_path):
    _, payload = _tiny_run(mnist_300, tmp_path, epochs=1, negatives_lookalike_threshold=0.999)

    dropped = payload["data"]["negatives"]["lookalikes_dropped"]
    assert dropped["judge"] == "digits-cnn-v1.onnx" and dropped["threshold"] == 0.999
    assert "other_script_numeral" in dropped["kinds"] and "scribble" not in dropped["kinds"]


def test_outlier_exposure_keeps_ten_classes_and_bad_modes_are_refused():
    assert TrainConfig(negatives_fraction=0.2, negatives_mode="outlier_exposure").num_classes == 10
    assert TrainConfig(negatives_fraction=0.2).num_classes == 11
    assert TrainConfig().num_classes == 10
    with pytest.raises(ValueError, match="negatives_mode"):
        TrainConfig(negatives_fraction=0.2, negatives_mode="energy")


def test_a_run_with_a_weight_average_validates_and_saves_the_average(mnist_300, tmp_path):
    images, labels = mnist_300
    train = DigitSet(images[:256], labels[:256], "fixture:train")
    validation = DigitSet(images[256:], labels[256:], "fixture:validation")
    config = TrainConfig(
        output_dir=str(tmp_path), architecture="lenet5", epochs=1, batch_size=32,
        num_threads=1, ema_decay=0.5,
    )  # fmt: skip

    result = train_digits(config, train_set=train, validation_set=validation)

    (row,) = json.loads((tmp_path / "log.json").read_text())
    saved, _ = checkpoint_load(result.best_checkpoint)
    val_x = torch.from_numpy(validation.images).float().div(255).unsqueeze(1)
    saved_loss = evaluate(saved, val_x, torch.from_numpy(validation.labels)).loss
    assert saved_loss == pytest.approx(row["val_loss"], abs=1e-5)
    assert abs(row["val_loss"] - row["live_val_loss"]) > 1e-4
