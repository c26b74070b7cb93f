"""Small committed test sets: generated strings saved as one compressed ``.npz``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ml.strings.batch import strings_pad
from ml.strings.generate import StringGenerator


def string_fixture_write(
    path: str | Path,
    images: NDArray[np.uint8],
    labels: NDArray[np.integer],
    *,
    count: int,
    seed: int,
) -> Path:
    """Write ``count`` generated strings (half cheque style) to ``path``.

    The file holds ``images`` uint8 [N,32,max W] (0..255, padded with black), ``widths`` [N]
    and ``texts`` [N] (unicode). Use MNIST test digits so the strings are unseen in training.
    """
    samples = StringGenerator(images, labels, seed=seed, cheque_fraction=0.5).batch(count)
    batch, frames = strings_pad([s.image for s in samples])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        images=np.round(batch[:, 0] * 255).astype(np.uint8),
        widths=frames * 4,
        texts=np.array([s.text for s in samples]),
    )
    return path


def string_fixture_read(path: str | Path) -> tuple[list[NDArray[np.float32]], list[str]]:
    """Read a fixture: (float32 (32, W) strips in [0, 1], their digit strings)."""
    with np.load(path) as data:
        strips = [
            data["images"][i, :, :w].astype(np.float32) / 255 for i, w in enumerate(data["widths"])
        ]
        return strips, [str(t) for t in data["texts"]]
