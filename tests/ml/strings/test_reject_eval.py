"""`python -m ml strings reject-eval` chooses the string reject rule on validation only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ml.strings import reject_eval

ROOT = Path(__file__).resolve().parents[3]
DIGIT_MODEL = ROOT / "ml" / "weights" / "digits" / "digits-cnn-v4.onnx"
STRING_MODEL = ROOT / "ml" / "weights" / "strings" / "strings-crnn-v2.onnx"


def test_the_rule_is_the_best_on_validation_within_the_target_over_thresholds_and_bar_widths(
    tiny_mnist, monkeypatch
):
    measured = {}
    real_split_scores = reject_eval._split_scores

    def keep(split, **kwargs):
        measured[split] = real_split_scores(split, **kwargs)
        return measured[split]

    monkeypatch.setattr(reject_eval, "_split_scores", keep)

    section = reject_eval.string_reject_evaluate(
        DIGIT_MODEL, STRING_MODEL, data_dir=tiny_mnist, count=40, validation_size=100, target=0.05
    )

    assert section["glyph_threshold"] in reject_eval.GLYPH_THRESHOLDS
    assert section["min_aspect"] in reject_eval.MIN_ASPECTS
    chosen = section["validation"]["genuine_accepted"]
    assert section["validation"]["letters_and_scribbles_accepted"] <= 0.05
    # No other rule tried passes more validation strings while meeting the target.
    validation = measured["validation"]
    for glyph, aspect in validation.genuine_scores:
        for field in np.unique(np.r_[validation.genuine_scores[glyph, aspect], 0.0]):
            other = reject_eval._measure(validation, glyph, aspect, float(field))
            if other["letters_and_scribbles_accepted"] <= 0.05:
                assert other["genuine_accepted"] <= chosen
    # Test only reports, at the chosen rule.
    assert section["test"] == {
        "strings": 40,
        "negatives": 40,
        **reject_eval._measure(
            measured["test"], section["glyph_threshold"], section["min_aspect"],
            section["field_threshold"],
        ),
    }  # fmt: skip
