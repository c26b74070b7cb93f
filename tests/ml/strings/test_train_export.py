"""Smoke training of the string model and ONNX export parity."""

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

from ml.models import create_model
from ml.strings.generate import StringGenerator
from ml.strings.train import StringBatches, ctc_loss, samples_to_tensors

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def samples():
    with np.load(FIXTURES / "digits_300.npz") as data:
        return StringGenerator(data["images"], data["labels"], seed=0).batch(8)


def test_ctc_loss_falls_in_a_few_steps(samples):
    """A few optimizer steps on one batch lower the CTC loss (the model can learn)."""
    torch.manual_seed(0)
    model = create_model("string_crnn", width=8, hidden=32)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    images, frames, targets, lengths = samples_to_tensors(samples)
    losses = []
    for _ in range(12):
        loss = ctc_loss(model(images), frames, targets, lengths)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.isfinite(losses).all()
    assert losses[-1] < 0.8 * losses[0]


def test_one_frame_per_four_columns():
    """The model emits W/4 frames of 11 classes for any width that is a multiple of 4."""
    model = create_model("string_crnn", width=8, hidden=16).eval()
    for width in (32, 100, 512):
        assert tuple(model(torch.zeros(1, 1, 32, width)).shape) == (1, width // 4, 11)


def test_onnx_matches_torch_at_two_widths(tmp_path):
    """The exported ONNX model gives the torch logits within 1e-4 at several widths."""
    import onnxruntime

    from ml.strings.export import string_onnx_export

    torch.manual_seed(0)
    model = create_model("string_crnn", width=8, hidden=16).eval()
    path = tmp_path / "m.onnx"
    assert string_onnx_export(model, path) <= 1e-4
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for width in (48, 256):
        images = torch.rand(2, 1, 32, width)
        (got,) = session.run(["logits"], {"image": images.numpy()})
        with torch.no_grad():
            assert np.abs(got - model(images).numpy()).max() <= 1e-4


def _loader_batches(workers: int, count: int) -> list[tuple[torch.Tensor, ...]]:
    with np.load(FIXTURES / "digits_300.npz") as data:
        dataset = StringBatches(
            data["images"], data["labels"], batch_size=6, seed=3, cheque_fraction=0.5
        )
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=None,
        num_workers=workers,
        prefetch_factor=2 if workers else None,
        multiprocessing_context="spawn" if workers else None,
    )
    iterator = iter(loader)
    return [next(iterator) for _ in range(count)]


def test_training_batches_from_a_worker_process_are_reproducible_and_width_sorted():
    """Batches generated in a worker process repeat exactly for the same seed, equal what the
    training loop would generate itself, and group strings of similar width (the four batches
    of a pool are cut from one width-sorted list)."""
    first = _loader_batches(workers=1, count=4)
    again = _loader_batches(workers=1, count=4)
    inline = _loader_batches(workers=0, count=4)
    for a, b, c in zip(first, again, inline, strict=True):
        for x, y, z in zip(a, b, c, strict=True):
            assert torch.equal(x, y) and torch.equal(x, z)
    widths = sorted((int(frames.min()), int(frames.max())) for _, frames, _, _ in first)
    for (_, high), (low, _) in itertools.pairwise(widths):
        assert high <= low
    for images, frames, targets, lengths in first:
        assert images.shape[3] == 4 * int(frames.max())
        assert int(lengths.sum()) == len(targets)
