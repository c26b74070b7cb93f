"""Batching of normalized strings of different widths (numpy only)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ml.strings import WIDTH_PER_FRAME


def strings_pad(
    images: Sequence[NDArray[np.float32]],
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Stack float32 (32, W_i) strings into ``[N,1,32,max W]`` padded with black on the right.

    Returns (batch, frames) where ``frames[i] = W_i / 4`` is the number of CTC frames that
    belong to string ``i``; decoding must ignore the frames past it (they only saw padding).
    """
    if not images:
        return np.zeros((0, 1, 32, 32), np.float32), np.zeros(0, np.int64)
    width = max(image.shape[1] for image in images)
    batch = np.zeros((len(images), 1, images[0].shape[0], width), dtype=np.float32)
    for i, image in enumerate(images):
        batch[i, 0, :, : image.shape[1]] = image
    frames = np.array([image.shape[1] // WIDTH_PER_FRAME for image in images], dtype=np.int64)
    return batch, frames
