"""Reader for folders of labelled digit images laid out as ``<label>/<name>.png``."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image

from ml.data.mnist import DigitSet
from ml.errors import DataFormatError

_IMAGE_SUFFIXES = {".png"}


def digit_set_load_folder(
    folder: str | Path, *, size: int = 28, invert: bool = False, name: str | None = None
) -> DigitSet:
    """Read every ``<label>/<name>.png`` under ``folder`` (label a single digit 0..9).

    Images must already be normalized ``size`` x ``size`` crops (see the crop contract);
    they are read as 8-bit grayscale. ``invert`` turns black-ink-on-white scans into the
    white-on-black polarity the models expect. Files are read in sorted order so the result
    is deterministic; ``hashes`` holds one sha256 over all file contents.
    """
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder")
    images: list[np.ndarray] = []
    labels: list[int] = []
    digest = hashlib.sha256()
    for label_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if label_dir.name not in {str(d) for d in range(10)}:
            raise DataFormatError(f"{label_dir}: sub-folder names must be digits 0..9")
        for path in sorted(label_dir.iterdir()):
            if path.suffix.lower() not in _IMAGE_SUFFIXES:
                continue
            raw = path.read_bytes()
            digest.update(raw)
            with Image.open(path) as img:
                array = np.asarray(img.convert("L"), dtype=np.uint8)
            if array.shape != (size, size):
                raise DataFormatError(f"{path}: expected {size}x{size}, got {array.shape}")
            images.append(255 - array if invert else array)
            labels.append(int(label_dir.name))
    if not images:
        raise DataFormatError(f"{root}: no <label>/<name>.png files")
    return DigitSet(
        np.stack(images),
        np.asarray(labels, dtype=np.int64),
        name or root.name,
        {root.name: digest.hexdigest()},
    )
