"""Array aliases shared by every stage, so signatures say what kind of image they take."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

# (H, W) uint8, 0 = black, 255 = white, dark ink on a light page unless said otherwise.
GrayImage = NDArray[np.uint8]
# (H, W) uint8 with values 0 or 255; 255 marks ink (or line) pixels.
BinaryMask = NDArray[np.uint8]
# (H, W) float32 in [0, 1].
FloatImage = NDArray[np.float32]
# (2, 3) float64 affine matrix or (3, 3) float64 homography, mapping source to destination pixels.
Matrix = NDArray[np.float64]


def area_shrink(image: NDArray[np.uint8], fx: int, fy: int | None = None) -> NDArray[np.uint8]:
    """``image`` shrunk by whole factors (``fy`` defaults to ``fx``), each output pixel the mean
    of its block. The last rows and columns that do not fill a block are dropped: OpenCV's area
    resize is several times faster when the sizes divide exactly."""
    fy = fx if fy is None else fy
    if fx == 1 and fy == 1:
        return image
    if fx == fy and fx % 2 == 0:
        # OpenCV halves an image several times faster than it shrinks it by any other factor.
        h, w = image.shape[0] // fx * fx, image.shape[1] // fx * fx
        half = cv2.resize(image[:h, :w], (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        return area_shrink(half, fx // 2)
    h, w = image.shape[0] // fy, image.shape[1] // fx
    return cv2.resize(image[: h * fy, : w * fx], (w, h), interpolation=cv2.INTER_AREA)


def grey_percentiles(image: NDArray[np.uint8], percents: list[float]) -> list[int]:
    """The grey levels at ``percents`` (0-100) of a uint8 image, through its histogram: a
    fraction of the cost of sorting, exact to the grey level (the lowest level whose cumulative
    count reaches the share)."""
    counts = cv2.calcHist([np.ascontiguousarray(image)], [0], None, [256], [0, 256]).ravel()
    cumulative = np.cumsum(counts)
    shares = np.asarray(percents, dtype=np.float64) / 100.0 * cumulative[-1]
    return [int(level) for level in np.searchsorted(cumulative, shares)]


def paper_level(image: NDArray[np.uint8]) -> int:
    """The grey of the paper of a page (its 90th percentile), from every fourth pixel of every
    fourth row, which gives it as well as all of them at a fraction of the cost."""
    return grey_percentiles(image[::4, ::4], [90])[0]
