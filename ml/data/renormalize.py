"""MNIST digits sent through the production crop normalization, as if scanned from a form.

MNIST images were normalized once, long ago, by NIST's own resampling; a box cut from a scan goes
through :func:`forms_ocr.normalize.crop_normalize_mnist` instead, which draws strokes with a
different edge profile. Negatives are made through that function, so digits must be too, or a
model learns the rendering ("crisp edges: not a digit") rather than the shapes. numpy + OpenCV.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from forms_ocr.normalize import crop_normalize_mnist

# How much larger than MNIST's 28 pixels the digit is "written" on the scan.
SCALE_RANGE = (1.5, 4.0)


def digits_renormalize(images: NDArray[np.uint8], seed: int) -> NDArray[np.float32]:
    """Each digit uint8 [N,28,28] (white on black) enlarged 1.5-4x, put on paper as dark ink of
    a random strength, and normalized by the production function; float32 [N,28,28] in [0,1]."""
    rng = np.random.default_rng(seed)
    out = np.zeros(images.shape, np.float32)
    for i, digit in enumerate(images):
        scale = rng.uniform(*SCALE_RANGE)
        large = cv2.resize(digit, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        ink = large.astype(np.float32) / 255 * rng.uniform(0.6, 1.0)
        paper = np.round(255 * (1 - ink)).astype(np.uint8)
        out[i] = crop_normalize_mnist(paper, ink_is_dark=True)
    return out


def digits_blur(images: NDArray, sigma: float) -> NDArray[np.float32]:
    """Digits [N,28,28] (uint8 or float in [0,1], white on black) under a Gaussian blur of
    ``sigma`` pixels, as a soft scan or a thick felt pen gives; float32 in [0,1]."""
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / 255
    return np.stack([cv2.GaussianBlur(np.float32(im), (0, 0), sigma) for im in images])
