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
    h, w = image.shape[0] // fy, image.shape[1] // fx
    return cv2.resize(image[: h * fy, : w * fx], (w, h), interpolation=cv2.INTER_AREA)
