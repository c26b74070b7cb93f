"""MNIST training digits whose label is plainly wrong, as checked by eye.

The validation split is carved from MNIST train, and the review threshold is the one that keeps
the error on accepted validation digits under 0.05%: with 5,000 validation digits that allows
two errors, so the third most confident "error" sets the threshold. When that digit is a
mislabelled one (the model is right and the file is wrong), the threshold climbs for nothing:
one such digit sent 3.6% of digits to review where 1.6% met the same error target on test
(docs/models/digits.md). Digits listed here are left out of the validation digits that choose
temperatures and thresholds; training sets are never changed.

Only digits that are plainly another digit are listed. Ambiguous ones (a 9 drawn like a g, a
1 with a long flag) stay: production sees those too. Each entry records the label the file
gives, so a list meant for one file never drops a digit from another.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ml.data.mnist import DigitSet, split_indices, split_train_validation


@dataclass(frozen=True)
class LabelError:
    """Digit ``index`` (0-based, file order) is labelled ``label`` but shows ``shows``."""

    index: int
    label: int
    shows: int
    note: str


# sha256 of the published MNIST training labels (decompressed), as DigitSet.hashes records it.
MNIST_TRAIN_LABELS_SHA256 = "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"

MNIST_TRAIN_LABEL_ERRORS: tuple[LabelError, ...] = (
    LabelError(
        index=7080,
        label=3,
        shows=5,
        note="a clean 5 (flat top, upright stem, open bowl); every digit model reads it as 5 "
        "with p > 0.9999",
    ),
)


def label_errors_find(digits: DigitSet) -> NDArray[np.int64]:
    """Indices into ``digits`` of its listed label errors; empty unless it is MNIST train.

    ``digits`` must be the whole training file (before any split): the list is by file
    position. A listed digit whose label differs from the one recorded is not dropped.
    """
    if MNIST_TRAIN_LABELS_SHA256 not in digits.hashes.values() or len(digits) != 60000:
        return np.zeros(0, dtype=np.int64)
    found = [
        error.index
        for error in MNIST_TRAIN_LABEL_ERRORS
        if int(digits.labels[error.index]) == error.label
    ]
    return np.asarray(found, dtype=np.int64)


def validation_without_label_errors(
    train: DigitSet, *, validation_size: int, seed: int, drop: bool = True
) -> tuple[DigitSet, NDArray[np.int64]]:
    """The validation split of ``train`` without its listed label errors (``drop``), and the
    positions in ``train`` of the listed digits that the split put into validation."""
    _, validation_indices = split_indices(len(train), validation_size=validation_size, seed=seed)
    label_errors = label_errors_find(train) if drop else np.zeros(0, np.int64)
    label_errors = label_errors[np.isin(label_errors, validation_indices)]
    _, validation = split_train_validation(
        train, validation_size=validation_size, seed=seed, validation_exclude=label_errors
    )
    return validation, label_errors
