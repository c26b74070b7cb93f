"""Crops are normalized exactly as the models expect; numbers split into their digits."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from forms_ocr.components import ink_components_split
from forms_ocr.normalize import box_is_empty, crop_normalize_mnist, crop_normalize_string


def _written(text: str, width: int, *, dark_ink: bool = True) -> np.ndarray:
    paper, ink = (245, 20) if dark_ink else (20, 235)
    crop = np.full((90, width), paper, np.uint8)
    cv2.putText(crop, text, (8, 70), cv2.FONT_HERSHEY_SIMPLEX, 2.2, ink, 7)
    return crop


@pytest.mark.parametrize("dark_ink", [True, False])
def test_box_normalization_is_mnist_style_whatever_the_polarity(dark_ink):
    out = crop_normalize_mnist(_written("4", 90, dark_ink=dark_ink))

    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() >= 0 and out.max() == pytest.approx(1.0)
    rows, cols = np.nonzero(out > 0.05)
    assert max(np.ptp(rows), np.ptp(cols)) <= 20  # fitted in 20x20
    total = out.sum()
    centre = (
        (np.indices(out.shape)[0] * out).sum() / total,
        (np.indices(out.shape)[1] * out).sum() / total,
    )
    assert centre == (pytest.approx(14, abs=1), pytest.approx(14, abs=1))
    assert out[0].sum() == 0 and out[:, 0].sum() == 0  # white ink on a black border


def test_an_empty_or_faint_box_is_empty_and_normalizes_to_zeros():
    blank = np.full((60, 60), 240, np.uint8)
    faint = blank.copy()
    cv2.line(faint, (10, 10), (50, 50), 225, 2)

    assert box_is_empty(blank) and box_is_empty(faint)
    assert not box_is_empty(_written("1", 60))
    assert not crop_normalize_mnist(blank).any()


def test_with_a_core_only_ink_reaching_the_middle_of_the_box_makes_it_written():
    """Ink confined to the crop's margin (a neighbour's digit crossing the border, what is left
    of the border) does not make a box written; a digit reaching the middle does."""
    crop = np.full((80, 80), 245, np.uint8)
    cv2.line(crop, (3, 5), (3, 75), 40, 3)  # a border remnant along the left edge
    cv2.ellipse(crop, (78, 40), (8, 14), 0, 90, 270, 30, 3)  # a neighbour's "0" poking in
    core = (14, 14, 52, 52)

    assert not box_is_empty(crop)  # without a core the margin ink counts
    assert box_is_empty(crop, core=core)
    written = crop.copy()
    cv2.line(written, (40, 15), (40, 65), 30, 4)  # a "1" in the middle
    assert not box_is_empty(written, core=core)


def test_string_normalization_keeps_height_32_and_width_a_multiple_of_4():
    short = crop_normalize_string(_written("7", 80))
    long = crop_normalize_string(_written("1234567890", 900))
    huge = crop_normalize_string(_written("12345678901234567890", 2400))

    for out in (short, long, huge):
        assert out.shape[0] == 32 and out.shape[1] % 4 == 0 and 32 <= out.shape[1] <= 512
        assert out.dtype == np.float32 and out.max() <= 1
    assert long.shape[1] > short.shape[1]
    assert huge.shape[1] > long.shape[1]


def test_a_written_number_splits_into_its_digits_left_to_right():
    components = ink_components_split(_written("3 0 8", 330))

    assert len(components) == 3
    assert [c.bbox[0] for c in components] == sorted(c.bbox[0] for c in components)
    assert ink_components_split(np.full((50, 200), 240, np.uint8)) == []
