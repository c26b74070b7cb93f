"""Fixtures of the ml tests: a few hundred real MNIST test digits committed with the repo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def mnist_300() -> tuple[np.ndarray, np.ndarray]:
    """300 MNIST test digits: uint8 [300,28,28] white on black, and their int64 labels."""
    with np.load(FIXTURES / "mnist_test_300.npz") as data:
        return data["images"], data["labels"].astype(np.int64)


@pytest.fixture
def tiny_mnist(tmp_path, mnist_300) -> Path:
    """The fixture digits written as the four MNIST IDX files (200 train, 100 test)."""
    from ml.data import idx_write

    images, labels = mnist_300
    folder = tmp_path / "mnist"
    idx_write(folder / "train-images-idx3-ubyte.gz", images[:200], compress=True)
    idx_write(folder / "train-labels-idx1-ubyte.gz", labels[:200].astype(np.uint8), compress=True)
    idx_write(folder / "t10k-images-idx3-ubyte", images[200:], compress=False)
    idx_write(folder / "t10k-labels-idx1-ubyte", labels[200:].astype(np.uint8), compress=False)
    return folder
