"""Digit data sets held in memory: MNIST-style IDX pairs, the validation split, the data folder.

The data folder is never hard-coded: it comes from the caller (a CLI flag) or the
``HDR_DATA_DIR`` environment variable, read when a function is called, never at import time.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ml.data.idx import idx_read
from ml.errors import DataFormatError

logger = logging.getLogger(__name__)

DATA_DIR_ENV = "HDR_DATA_DIR"

# File stems of the MNIST distribution; EMNIST-digits and QMNIST ship under similar names and
# can be read with `digit_set_load_idx` given explicit paths.
MNIST_FILES: dict[str, tuple[str, str]] = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclass(frozen=True)
class DigitSet:
    """A labelled set of digit images.

    ``images`` is uint8 ``[N, 28, 28]`` in 0..255, white ink on black; ``labels`` is int64 ``[N]``
    in 0..9. ``hashes`` maps each source file name to the sha256 of its decompressed bytes.
    """

    images: NDArray[np.uint8]
    labels: NDArray[np.int64]
    name: str
    hashes: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.images.ndim != 3 or self.images.dtype != np.uint8:
            raise DataFormatError(
                f"{self.name}: images must be uint8 [N,H,W], got {self.images.dtype} "
                f"{self.images.shape}"
            )
        if self.labels.shape != (self.images.shape[0],):
            raise DataFormatError(
                f"{self.name}: {self.images.shape[0]} images but labels of shape "
                f"{self.labels.shape}"
            )

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def subset(self, indices: NDArray[np.int64], name: str) -> DigitSet:
        """Return the digits at ``indices`` as a new set that keeps the source hashes."""
        return DigitSet(self.images[indices], self.labels[indices], name, dict(self.hashes))


def data_dir_resolve(data_dir: str | Path | None = None) -> Path:
    """Return the folder holding the MNIST files: ``data_dir`` or else ``$HDR_DATA_DIR``.

    Either the folder itself or its ``mnist/`` subfolder may hold the files. Raises
    ``FileNotFoundError`` with the way to fix it when neither is configured or found.
    """
    chosen = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV)
    if not chosen:
        raise FileNotFoundError(
            f"no data folder given: pass --data-dir or set {DATA_DIR_ENV} "
            "(fetch MNIST with `python -m ml data fetch --dest DIR`)"
        )
    root = Path(chosen).expanduser()
    for candidate in (root, root / "mnist"):
        if _idx_find(candidate, MNIST_FILES["train"][0]) is not None:
            return candidate
    raise FileNotFoundError(f"no MNIST IDX files in {root} or {root / 'mnist'}")


def _idx_find(folder: Path, stem: str) -> Path | None:
    # Mirrors name the files with a '-' or a '.' before 'idx'; some unpack them without .gz.
    dotted = stem.replace("-idx", ".idx")
    for name in (f"{stem}.gz", stem, f"{dotted}.gz", dotted):
        if (folder / name).is_file():
            return folder / name
    return None


def digit_set_load_idx(images_path: str | Path, labels_path: str | Path, name: str) -> DigitSet:
    """Load an images/labels pair of IDX files (gz or raw) into a :class:`DigitSet`.

    Only labels 0..9 are accepted: EMNIST "digits" and QMNIST qualify, letters do not.
    """
    images = idx_read(images_path)
    labels = idx_read(labels_path)
    if images.data.ndim != 3 or images.data.dtype != np.uint8:
        raise DataFormatError(f"{images_path}: expected uint8 images [N,H,W]")
    label_data = labels.data
    if label_data.ndim == 2:
        # QMNIST's extended labels keep the digit class in column 0.
        label_data = label_data[:, 0]
    if (
        label_data.ndim != 1
        or (label_data.size and not int(label_data.min()) >= 0)
        or (label_data.size and int(label_data.max()) > 9)
    ):
        raise DataFormatError(f"{labels_path}: expected labels [N] in 0..9")
    hashes = {Path(images.path).name: images.sha256, Path(labels.path).name: labels.sha256}
    return DigitSet(images.data, label_data.astype(np.int64), name, hashes)


def mnist_load(data_dir: str | Path | None, split: str) -> DigitSet:
    """Load the MNIST ``train`` (60,000) or ``test`` (10,000) split from the data folder."""
    if split not in MNIST_FILES:
        raise ValueError(f"split must be one of {sorted(MNIST_FILES)}, got {split!r}")
    folder = data_dir_resolve(data_dir)
    paths = []
    for stem in MNIST_FILES[split]:
        found = _idx_find(folder, stem)
        if found is None:
            raise FileNotFoundError(f"{stem}(.gz) not found in {folder}")
        paths.append(found)
    digits = digit_set_load_idx(paths[0], paths[1], name=f"mnist-{split}")
    logger.info("loaded %s: %d digits from %s", digits.name, len(digits), folder)
    return digits


def split_train_validation(
    digits: DigitSet,
    *,
    validation_size: int = 5000,
    seed: int = 0,
    validation_exclude: NDArray[np.int64] | None = None,
) -> tuple[DigitSet, DigitSet]:
    """Split a training set into (train, validation) with a fixed seed.

    The same seed and size always give the same split, so validation-chosen temperatures and
    thresholds can be reproduced. The test set never goes through here. ``validation_exclude``
    (indices into ``digits``, e.g. known label errors) leaves those digits out of validation
    without moving any digit into or out of train, so the train set stays the one a model was
    trained on.
    """
    train_indices, chosen = split_indices(len(digits), validation_size=validation_size, seed=seed)
    if validation_exclude is not None and len(validation_exclude):
        chosen = chosen[~np.isin(chosen, validation_exclude)]
    validation = digits.subset(chosen, f"{digits.name}:validation")
    train = digits.subset(train_indices, f"{digits.name}:train")
    return train, validation


def split_indices(
    count: int, *, validation_size: int, seed: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The sorted (train, validation) positions of :func:`split_train_validation`."""
    if not 0 < validation_size < count:
        raise ValueError(f"validation_size must be in 1..{count - 1}, got {validation_size}")
    order = np.random.default_rng(seed).permutation(count)
    return np.sort(order[validation_size:]), np.sort(order[:validation_size])
