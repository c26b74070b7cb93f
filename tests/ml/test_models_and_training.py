"""Every registered model trains; a short CPU run learns; checkpoints rebuild through the registry."""

from __future__ import annotations

import pytest
import torch

from ml.augment import AugmentConfig, augment_batch, blur_random
from ml.checkpoint import checkpoint_load, checkpoint_save
from ml.errors import CheckpointError, UnknownModelError
from ml.models import create_model, model_names
from ml.models.complexity import macs_per_sample, parameter_count
from ml.training.config import TrainConfig
from ml.training.loop import ema_create, evaluate, train_one_epoch

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


def test_blur_softens_the_chosen_digits_and_keeps_their_ink(mnist_300):
    # One digit four times: blurred at two widths, and twice left alone.
    images = torch.from_numpy(mnist_300[0][:1]).float().div(255).unsqueeze(1).repeat(4, 1, 1, 1)
    mask = torch.tensor([True, True, False, False])

    out = blur_random(images, mask, torch.tensor([0.4, 1.0, 1.0, 1.0]))

    assert torch.equal(out[2:], images[2:])
    # A Gaussian moves ink around without creating or losing it (the borders are blank).
    assert torch.allclose(out[:2].sum(dim=(1, 2, 3)), images[:2].sum(dim=(1, 2, 3)), rtol=1e-3)
    # Wider sigma, softer strokes: fewer pixels stay at full ink.
    full = (out[:2] > 0.95).flatten(1).sum(1)
    assert full[1] < full[0] < (images[0] > 0.95).sum()


def test_blur_in_the_augmentation_is_off_by_default_and_seeded_when_on(mnist_300):
    # Off by default: the held-out negatives are augmented with the defaults.
    assert AugmentConfig().blur_prob == 0
    images = torch.from_numpy(mnist_300[0][:16]).float().div(255).unsqueeze(1)

    plain = augment_batch(images, AugmentConfig(), torch.Generator().manual_seed(3))
    blurred = augment_batch(images, AugmentConfig(blur_prob=1.0), torch.Generator().manual_seed(3))
    again = augment_batch(images, AugmentConfig(blur_prob=1.0), torch.Generator().manual_seed(3))

    assert torch.equal(blurred, again)
    assert (blurred > 0.95).sum() < (plain > 0.95).sum()


def test_the_weight_average_follows_the_live_weights_by_its_decay(mnist_300):
    torch.manual_seed(0)
    images = torch.from_numpy(mnist_300[0][:64]).float().div(255).unsqueeze(1)
    labels = torch.from_numpy(mnist_300[1][:64])
    model = create_model("lenet5")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    ema = ema_create(model, decay=0.9)

    def one_batch() -> None:
        train_one_epoch(
            model, images, labels, optimizer=optimizer, batch_size=64,
            generator=torch.Generator().manual_seed(0), augment=None, ema=ema,
        )  # fmt: skip

    one_batch()
    first = {k: v.clone() for k, v in ema.module.state_dict().items()}
    one_batch()
    live = model.state_dict()

    # The first step copies the weights; every later one moves a tenth of the way to them.
    weight = "classifier.5.weight"
    assert not torch.equal(first[weight], live[weight])
    expected = 0.9 * first[weight] + 0.1 * live[weight]
    assert torch.allclose(ema.module.state_dict()[weight], expected, atol=1e-6)


def test_a_weight_average_that_never_moves_is_refused():
    with pytest.raises(ValueError, match="decay"):
        ema_create(create_model("lenet5"), decay=1.0)
    with pytest.raises(ValueError, match="ema_decay"):
        TrainConfig(ema_decay=1.0)
