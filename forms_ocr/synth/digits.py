"""Handwritten digit images for the generator: a small IDX reader and a committed-fixture loader.

IDX is the MNIST file format (big-endian header, then raw uint8 pixels); images are 28x28 white
ink on black. The folder comes from the caller (``--digits`` or ``HDR_DATA_DIR``), never from code.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from forms_ocr.errors import FormsOcrError

# IDX type codes we need: only unsigned bytes occur in MNIST.
_IDX_UBYTE = 0x08
DATA_DIR_ENV = "HDR_DATA_DIR"


@dataclass(frozen=True)
class DigitImages:
    """``images`` (N, 28, 28) uint8, white ink on black; ``labels`` (N,) uint8 in 0..9."""

    images: NDArray[np.uint8]
    labels: NDArray[np.uint8]

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def idx_read(path: str | os.PathLike[str]) -> NDArray[np.uint8]:
    """Read an IDX file (optionally gzip-compressed) into an array of its declared shape."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != _IDX_UBYTE:
        raise FormsOcrError(f"{path} is not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    count = int(np.prod(dims))
    if len(raw) - offset < count:
        raise FormsOcrError(f"{path} is truncated: {len(raw) - offset} of {count} bytes")
    return np.frombuffer(raw, dtype=np.uint8, count=count, offset=offset).reshape(dims)


def _idx_find(folder: Path, stem: str) -> Path:
    for name in (f"{stem}.gz", stem, stem.replace("-idx", ".idx")):
        if (folder / name).exists():
            return folder / name
    raise FormsOcrError(f"no {stem}[.gz] in {folder}")


def digits_load(
    folder: str | os.PathLike[str] | None = None, *, split: str = "t10k"
) -> DigitImages:
    """Load MNIST-format digits (``split`` is ``t10k`` or ``train``) from an IDX folder.

    ``folder`` defaults to ``$HDR_DATA_DIR`` (or its ``mnist`` subfolder).
    """
    if folder is None:
        env = os.environ.get(DATA_DIR_ENV)
        if not env:
            raise FormsOcrError(f"pass --digits IDX_DIR or set {DATA_DIR_ENV}")
        folder = Path(env)
        if (folder / "mnist").is_dir():
            folder = folder / "mnist"
    folder = Path(folder)
    images = idx_read(_idx_find(folder, f"{split}-images-idx3-ubyte"))
    labels = idx_read(_idx_find(folder, f"{split}-labels-idx1-ubyte"))
    if images.shape[0] != labels.shape[0]:
        raise FormsOcrError(f"{folder}: {images.shape[0]} images but {labels.shape[0]} labels")
    return DigitImages(images=images, labels=labels)


def digits_from_npz(path: str | os.PathLike[str]) -> DigitImages:
    """Load digits saved as an ``.npz`` with ``images`` (N, 28, 28) and ``labels`` (N,)."""
    with np.load(path) as data:
        return DigitImages(
            images=data["images"].astype(np.uint8), labels=data["labels"].astype(np.uint8)
        )
