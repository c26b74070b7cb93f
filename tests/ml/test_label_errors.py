"""The validation split is fixed by its seed, and listed MNIST label errors leave validation only."""

from __future__ import annotations

import numpy as np

from ml.data.label_errors import (
    MNIST_TRAIN_LABEL_ERRORS,
    MNIST_TRAIN_LABELS_SHA256,
    label_errors_find,
)
from ml.data.mnist import DigitSet, split_train_validation


def _digits(count: int, *, hashes: dict[str, str] | None = None) -> DigitSet:
    # Each digit's label is its position in the file, so a split can be traced back.
    images = np.zeros((count, 1, 1), np.uint8)
    return DigitSet(images, np.arange(count, dtype=np.int64), "digits", hashes or {})


def _mnist_train_lookalike(label_at_error: int, sha: str = MNIST_TRAIN_LABELS_SHA256) -> DigitSet:
    digits = _digits(60000, hashes={"train-labels-idx1-ubyte.gz": sha})
    for error in MNIST_TRAIN_LABEL_ERRORS:
        digits.labels[error.index] = label_at_error
    return digits


def test_the_split_is_fixed_by_its_seed_and_its_parts_are_disjoint():
    digits = _digits(300)

    train, validation = split_train_validation(digits, validation_size=40, seed=3)
    again_train, again_validation = split_train_validation(digits, validation_size=40, seed=3)
    _, other_validation = split_train_validation(digits, validation_size=40, seed=4)

    assert len(train) == 260 and len(validation) == 40
    assert not set(train.labels) & set(validation.labels)
    assert (validation.labels == again_validation.labels).all()
    assert (train.labels == again_train.labels).all()
    assert set(validation.labels) != set(other_validation.labels)


def test_excluded_digits_leave_validation_and_train_stays_the_same():
    digits = _digits(300)
    train, validation = split_train_validation(digits, validation_size=40, seed=3)
    excluded = validation.labels[[0, 7]]
    outside = train.labels[:1]

    new_train, new_validation = split_train_validation(
        digits, validation_size=40, seed=3, validation_exclude=np.concatenate([excluded, outside])
    )

    assert len(new_validation) == 38
    assert not set(excluded) & set(new_validation.labels)
    assert set(new_validation.labels) == set(validation.labels) - set(excluded)
    assert (new_train.labels == train.labels).all()


def test_listed_errors_are_found_in_the_mnist_training_file():
    digits = _mnist_train_lookalike(label_at_error=MNIST_TRAIN_LABEL_ERRORS[0].label)

    found = label_errors_find(digits)

    assert sorted(found) == sorted(error.index for error in MNIST_TRAIN_LABEL_ERRORS)


def test_no_error_is_found_in_another_file_or_where_the_label_differs():
    listed = MNIST_TRAIN_LABEL_ERRORS[0]
    other_file = _mnist_train_lookalike(listed.label, sha="0" * 64)
    relabelled = _mnist_train_lookalike(label_at_error=listed.shows)
    shorter = _digits(1000, hashes={"train-labels-idx1-ubyte.gz": MNIST_TRAIN_LABELS_SHA256})

    assert len(label_errors_find(other_file)) == 0
    assert len(label_errors_find(relabelled)) == 0
    assert len(label_errors_find(shorter)) == 0


def test_every_listed_error_says_what_the_digit_shows_instead():
    for error in MNIST_TRAIN_LABEL_ERRORS:
        assert 0 <= error.index < 60000
        assert error.label != error.shows and {error.label, error.shows} <= set(range(10))
        assert error.note
