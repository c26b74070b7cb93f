"""Array aliases shared by every stage, so signatures say what kind of image they take."""

from __future__ import annotations

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
