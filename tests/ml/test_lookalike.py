"""Look-alike negatives: marks that are digits to the eye are dropped, plain marks never judged."""

from __future__ import annotations

import numpy as np
import pytest

from ml.negatives import NegativeSet
from ml.negatives.lookalike import LookalikeFilter

KINDS = ("stroke", "scribble", "other_script_numeral")


def _set(images: np.ndarray, kinds: list[int]) -> NegativeSet:
    return NegativeSet(images.astype(np.float32), np.array(kinds, np.int64), KINDS, "test", 0)


def test_a_clean_digit_drawn_by_a_judged_kind_is_dropped_and_counted(mnist_300):
    images, _ = mnist_300
    # Six clean digits of the fixture, each read by the judge with p >= 0.9998.
    digits = images[[1, 2, 4, 5, 7, 8]].astype(np.float32) / 255
    blank = np.zeros((1, 28, 28), np.float32)
    # The same clean digits labelled as a judged kind (stroke, numeral) and as a scribble.
    negatives = _set(np.r_[digits, digits, blank], [0] * 3 + [2] * 3 + [1] * 6 + [0])

    kept, dropped = LookalikeFilter(threshold=0.999).apply(negatives)

    # Every judged one goes, no scribble does, and the blank stroke stays.
    assert dropped.kind_counts() == {"stroke": 3, "scribble": 0, "other_script_numeral": 3}
    assert np.array_equal(dropped.images, digits)
    assert kept.kinds.tolist() == [1] * 6 + [0]
    assert np.array_equal(kept.images[:6], digits)
    assert kept.kind_names == KINDS and kept.split == "test"


def test_marks_the_judge_does_not_read_as_a_digit_are_kept():
    rng = np.random.default_rng(0)
    noise = (rng.random((8, 28, 28)) < 0.5).astype(np.float32)

    kept, dropped = LookalikeFilter().apply(_set(noise, [0] * 8))

    assert len(dropped) == 0 and len(kept) == 8


def test_the_judge_must_be_a_ten_class_model_and_the_threshold_a_probability(mnist_300):
    images, _ = mnist_300
    v2 = LookalikeFilter(judge="ml/weights/digits/digits-cnn-v2.onnx")
    with pytest.raises(ValueError, match="10-class"):
        v2.apply(_set(images[:2].astype(np.float32) / 255, [0, 0]))
    with pytest.raises(ValueError, match="threshold"):
        LookalikeFilter(threshold=0.3)
