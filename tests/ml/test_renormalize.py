"""Digits re-scanned through the production normalization keep their shape, seeded."""

from __future__ import annotations

import numpy as np

from ml.data.renormalize import digits_blur, digits_renormalize
from ml.infer import DigitRecognizer
from tests.ml.test_reject_signal import WEIGHTS


def test_renormalized_digits_are_mnist_like_and_reproducible(mnist_300):
    images = mnist_300[0][:40]

    first, again = digits_renormalize(images, seed=1), digits_renormalize(images, seed=1)

    np.testing.assert_array_equal(first, again)
    assert first.shape == (40, 28, 28) and first.dtype == np.float32
    assert first.min() >= 0 and first.max() == 1
    # Fitted in 20x20 (the writing's ink box), as MNIST digits are.
    for image in first:
        rows = np.flatnonzero((image > 0.35).any(axis=1))
        cols = np.flatnonzero((image > 0.35).any(axis=0))
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= 21


def test_the_committed_model_still_reads_renormalized_digits(mnist_300):
    recognizer = DigitRecognizer(WEIGHTS / "digits-cnn-v1.onnx", threads=1)
    images, labels = mnist_300

    readings = recognizer.predict(digits_renormalize(images, seed=0))

    assert np.mean([r.digit for r in readings] == labels) >= 0.98


def test_blurred_digits_keep_their_ink_and_lose_their_sharp_strokes(mnist_300):
    images = mnist_300[0][:8]

    blurred = digits_blur(images, 1.0)

    assert blurred.shape == images.shape and blurred.dtype == np.float32
    assert np.array_equal(blurred, digits_blur(images.astype(np.float32) / 255, 1.0))
    # The same ink, spread: totals agree, full-strength pixels mostly go.
    assert np.allclose(blurred.sum(axis=(1, 2)), images.sum(axis=(1, 2)) / 255, rtol=0.02)
    assert (blurred > 0.95).sum() < (images > 242).sum() / 2
