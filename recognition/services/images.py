"""Grey images stored as PNG files: pages, reference pages, crops."""

from __future__ import annotations

import cv2
import numpy as np

# zlib level 1: several times faster to write than the default for a few percent more bytes.
PNG_PARAMS = [cv2.IMWRITE_PNG_COMPRESSION, 1]


def png_bytes(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", image, PNG_PARAMS)
    if not ok:
        raise ValueError("could not encode image as PNG")
    return encoded.tobytes()


def grey_image_load(stored_file, *, what: str) -> np.ndarray:
    """A stored image file as (H, W) uint8 grey; ValueError naming `what` if it cannot be decoded."""
    with stored_file.open("rb") as handle:
        buffer = np.frombuffer(handle.read(), dtype=np.uint8)
    image = cv2.imdecode(buffer, cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ValueError(f"{what}: stored image cannot be decoded")
    return image
