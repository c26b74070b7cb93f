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
