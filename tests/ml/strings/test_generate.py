"""The synthetic string generator: determinism, label alignment, normalized output."""

from pathlib import Path

import numpy as np
import pytest

from ml.strings.batch import strings_pad
from ml.strings.generate import CHEQUE_STYLE, StringGenerator, StringStyle

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def digits():
    with np.load(FIXTURES / "digits_300.npz") as data:
        return data["images"], data["labels"]


def test_same_seed_same_strings(digits):
    """Two generators with one seed produce identical images and labels; another seed differs."""
    a = StringGenerator(*digits, seed=5, cheque_fraction=0.5).batch(6)
    b = StringGenerator(*digits, seed=5, cheque_fraction=0.5).batch(6)
    c = StringGenerator(*digits, seed=6, cheque_fraction=0.5).batch(6)
    assert [s.text for s in a] == [s.text for s in b]
    assert all(np.array_equal(x.image, y.image) for x, y in zip(a, b, strict=True))
    assert [s.text for s in a] != [s.text for s in c]


def test_label_is_the_digits_written_marks_excluded(digits):
    """The label equals the digits of the layout in order; separators and strokes are not in it."""
    samples = StringGenerator(*digits, seed=3, style=CHEQUE_STYLE).batch(40)
    with_marks = [s for s in samples if any(not ch.isdigit() for ch in s.layout)]
    assert len(with_marks) > 20
    for sample in samples:
        assert sample.text == "".join(ch for ch in sample.layout if ch.isdigit())
        assert 1 <= len(sample.text) <= 12


def test_output_follows_the_model_contract(digits):
    """Images are float32 (32, W), W a multiple of 4 in [32, 512], in [0, 1], with ink."""
    for sample in StringGenerator(*digits, seed=1, cheque_fraction=0.5).batch(20):
        height, width = sample.image.shape
        assert sample.image.dtype == np.float32 and height == 32
        assert width % 4 == 0 and 32 <= width <= 512
        assert sample.image.min() >= 0.0 and sample.image.max() <= 1.0 and sample.image.max() > 0.5
        # The raw scan is dark ink on light paper, as scanned.
        assert np.median(sample.raw) > 128


def test_wider_for_longer_strings(digits):
    """Twelve digits make a wider strip than one digit."""
    short = StringStyle(min_length=1, max_length=1)
    long = StringStyle(min_length=12, max_length=12)
    one = StringGenerator(*digits, seed=0, style=short).batch(5)
    twelve = StringGenerator(*digits, seed=0, style=long).batch(5)
    assert max(s.image.shape[1] for s in one) < min(s.image.shape[1] for s in twelve)


def test_padding_reports_each_strings_own_frames():
    """Padding to a common width keeps every strip and reports W/4 frames for each."""
    strips = [np.ones((32, 40), np.float32), np.ones((32, 96), np.float32)]
    batch, frames = strings_pad(strips)
    assert batch.shape == (2, 1, 32, 96)
    assert frames.tolist() == [10, 24]
    assert batch[0, 0, :, 40:].max() == 0.0
