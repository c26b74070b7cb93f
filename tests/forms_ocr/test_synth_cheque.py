"""The cheque generator draws a date comb, a courtesy amount and an account-number comb."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from forms_ocr.synth import digits_from_npz, synth_page

DIGITS = Path(__file__).resolve().parent.parent / "ml" / "fixtures" / "mnist_test_300.npz"


def test_cheque_truth_lists_two_combs_and_an_amount_inside_the_page():
    page = synth_page("cheque", digits_from_npz(DIGITS), seed=11, dpi=150, degradations=())
    truth = page.truth
    assert page.image.shape == (truth.height, truth.width)
    assert [(f.kind, f.style) for f in truth.fields] == [
        ("digits", "comb"),
        ("string", "rectangle"),
        ("digits", "comb"),
    ]
    assert len(truth.fields[0].boxes) == 8  # DD MM YYYY
    for field in truth.fields:
        x, y, w, h = field.bbox
        assert x >= 0 and y >= 0 and x + w <= truth.width and y + h <= truth.height
    # The amount holds handwriting: the rectangle's inside is darker than blank paper.
    x, y, w, h = truth.fields[1].bbox
    assert truth.fields[1].value
    assert np.min(page.image[y + 3 : y + h - 3, x + 3 : x + w - 3]) < 128


def test_cheque_generation_is_deterministic_for_a_seed():
    digits = digits_from_npz(DIGITS)
    first = synth_page("cheque", digits, seed=3, dpi=150)
    second = synth_page("cheque", digits, seed=3, dpi=150)
    assert np.array_equal(first.image, second.image)
    assert first.truth == second.truth
