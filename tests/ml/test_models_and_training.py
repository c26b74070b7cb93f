"""Every registered model trains; a short CPU run learns; checkpoints rebuild through the registry."""

from __future__ import annotations

import pytest
import torch

from ml.augment import AugmentConfig, augment_batch
from ml.checkpoint import checkpoint_load, checkpoint_save
from ml.errors import CheckpointError, UnknownModelError
from ml.models import create_model, model_names
from ml.models.complexity import macs_per_sample, parameter_count
from ml.training.loop import evaluate, train_one_epoch

# Input of each contract in DESIGN.md: digit models read [N,1,28,28], string models [N,1,32,W].
_STRING_MODELS = {"string_crnn"}


@pytest.mark.parametrize("name", model_names())
def test_every_registered_model_runs_forward_and_backward(name):
    model = create_model(name)
    shape = (4, 1, 32, 128) if name in _STRING_MODELS else (4, 1, 28, 28)
    images = torch.rand(*shape, requires_grad=True)

    logits = model(images)
    logits.sum().backward()

    assert logits.shape[0] == 4 and logits.shape[-1] in (10, 11)
    assert images.grad is not None and torch.isfinite(images.grad).all()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_production_model_fits_the_budget():
    model = create_model("digit_cnn")

    assert parameter_count(model) <= 400_000
    assert macs_per_sample(model) <= 25_000_000


def test_unknown_model_names_the_registered_ones():
    with pytest.raises(UnknownModelError, match="digit_cnn"):
        create_model("resnet9000")


def test_short_cpu_training_lowers_the_loss(mnist_300):
    torch.manual_seed(0)
    images = torch.from_numpy(mnist_300[0]).float().div(255).unsqueeze(1)
    labels = torch.from_numpy(mnist_300[1])
    model = create_model("lenet5")
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    before = evaluate(model, images, labels).loss

    for _ in range(8):
        train_one_epoch(
            model, images, labels, optimizer=optimizer, batch_size=32,
            generator=torch.Generator().manual_seed(0), augment=None,
        )  # fmt: skip

    after = evaluate(model, images, labels)
    assert after.loss < before * 0.5
    assert after.accuracy > 0.8


def test_augmentation_keeps_shape_range_and_is_reproducible(mnist_300):
    images = torch.from_numpy(mnist_300[0][:16]).float().div(255).unsqueeze(1)

    first = augment_batch(images, AugmentConfig(), torch.Generator().manual_seed(3))
    second = augment_batch(images, AugmentConfig(), torch.Generator().manual_seed(3))

    assert first.shape == images.shape
    assert first.min() >= 0 and first.max() <= 1
    assert torch.equal(first, second)
    assert not torch.equal(first, images)


def test_checkpoint_round_trip_rebuilds_the_same_model(tmp_path):
    model = create_model("lenet5").eval()
    path = checkpoint_save(
        tmp_path / "m.pt", model, architecture="lenet5", args={}, metadata={"epoch": 3}
    )

    rebuilt, payload = checkpoint_load(path)

    x = torch.rand(2, 1, 28, 28)
    assert torch.allclose(rebuilt(x), model(x))
    assert payload["epoch"] == 3 and payload["classes"] == [str(d) for d in range(10)]


def test_checkpoint_whose_weights_do_not_fit_is_refused(tmp_path):
    path = checkpoint_save(
        tmp_path / "m.pt", create_model("lenet5"), architecture="digit_cnn", args={}
    )

    with pytest.raises(CheckpointError, match="weights do not fit digit_cnn"):
        checkpoint_load(path)
