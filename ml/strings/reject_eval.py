"""Measure and choose the string reject rule on generated strips (numpy + onnxruntime).

Genuine strings come from :class:`~ml.strings.generate.StringGenerator` (half cheque style),
negatives from :mod:`ml.negatives.strings`. The glyph and field thresholds of
:func:`ml.infer.string_reject.string_reject_scores`, and the thinnest glyph it scores, are
chosen on validation (strings of MNIST validation digits, validation negatives); the test split
(MNIST test digits, test negatives) only reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ml.data.mnist import mnist_load, split_train_validation
from ml.infer.digits import DigitRecognizer
from ml.infer.string_reject import reject_scores_from_readings, strip_glyph_readings
from ml.infer.strings import StringRecognizer
from ml.negatives.strings import string_negatives_generate
from ml.strings.generate import StringGenerator

# The target set: fields holding letters, words or scribbles only.
LETTERS_AND_SCRIBBLES = ("word", "letters", "scribble", "signature")
GLYPH_THRESHOLDS = (0.3, 0.5, 0.7)
# Glyphs thinner than this times their height are left out of the score (0: none).
MIN_ASPECTS = (0.0, 0.1, 0.15, 0.2)
# Share of validation letter/scribble fields the rule may accept (half the 1% test target).
DEFAULT_TARGET = 0.005


@dataclass(frozen=True)
class _SplitScores:
    genuine_accepted: NDArray[np.bool_]  # by field confidence alone
    genuine_correct: NDArray[np.bool_]
    genuine_styles: NDArray[np.str_]
    negative_accepted: NDArray[np.bool_]
    negative_kinds: NDArray[np.str_]
    # (glyph threshold, min aspect) -> the reject score of each strip
    genuine_scores: dict[tuple[float, float], NDArray[np.float64]]
    negative_scores: dict[tuple[float, float], NDArray[np.float64]]


def _split_scores(
    split: str,
    *,
    images: NDArray[np.uint8],
    labels: NDArray[np.int64],
    count: int,
    strings: StringRecognizer,
    digits: DigitRecognizer,
) -> _SplitScores:
    genuine = StringGenerator(images, labels, seed=11, cheque_fraction=0.5).batch(count)
    strips = [sample.image for sample in genuine]
    negatives = string_negatives_generate(count, split=split)
    readings = strings.recognize(strips)
    negative_readings = strings.recognize(negatives.strips)
    return _SplitScores(
        genuine_accepted=np.array([strings.accepts(r) for r in readings]),
        genuine_correct=np.array(
            [r.text == s.text for r, s in zip(readings, genuine, strict=True)]
        ),
        genuine_styles=np.array([s.style for s in genuine]),
        negative_accepted=np.array([strings.accepts(r) for r in negative_readings]),
        negative_kinds=np.array(negatives.kinds),
        genuine_scores=_rule_scores(strip_glyph_readings(strips, digits)),
        negative_scores=_rule_scores(strip_glyph_readings(negatives.strips, digits)),
    )


def _rule_scores(readings) -> dict[tuple[float, float], NDArray[np.float64]]:
    return {
        (glyph, aspect): np.array(
            reject_scores_from_readings(readings, glyph_threshold=glyph, min_aspect=aspect)
        )
        for glyph in GLYPH_THRESHOLDS
        for aspect in MIN_ASPECTS
    }


def _measure(scores: _SplitScores, glyph: float, aspect: float, field: float) -> dict[str, Any]:
    genuine = scores.genuine_accepted & (scores.genuine_scores[glyph, aspect] <= field)
    negative = scores.negative_accepted & (scores.negative_scores[glyph, aspect] <= field)
    target = np.isin(scores.negative_kinds, LETTERS_AND_SCRIBBLES)
    kinds = sorted(set(scores.negative_kinds.tolist()))
    return {
        "letters_and_scribbles_accepted": float(negative[target].mean()),
        "negatives_accepted_by_kind": {
            k: float(negative[scores.negative_kinds == k].mean()) for k in kinds
        },
        "genuine_accepted": float(genuine.mean()),
        "genuine_accepted_by_style": {
            s: float(genuine[scores.genuine_styles == s].mean())
            for s in sorted(set(scores.genuine_styles.tolist()))
        },
        "genuine_accepted_without_reject_rule": float(scores.genuine_accepted.mean()),
        "genuine_error_on_accepted": float((~scores.genuine_correct[genuine]).mean())
        if genuine.any()
        else 0.0,
        "letters_and_scribbles_accepted_without_reject_rule": float(
            scores.negative_accepted[target].mean()
        ),
    }


def string_reject_evaluate(
    digit_model: str | Path,
    string_model: str | Path,
    *,
    data_dir: str | Path | None,
    count: int = 1000,
    target: float = DEFAULT_TARGET,
    validation_size: int = 5000,
) -> dict[str, Any]:
    """Choose the rule on validation and report it on test; returns the model-card section.

    The rule accepts a string only if the string model accepts it and its reject score is at
    most ``field_threshold``; the thresholds kept give the most genuine strings accepted on
    validation with at most ``target`` of the letter/scribble negatives accepted.
    """
    digits = DigitRecognizer(digit_model)
    strings = StringRecognizer(string_model)
    _, validation = split_train_validation(
        mnist_load(data_dir, "train"), validation_size=validation_size
    )
    test = mnist_load(data_dir, "test")
    chosen_on = _split_scores(
        "validation",
        images=validation.images,
        labels=validation.labels,
        count=count,
        strings=strings,
        digits=digits,
    )
    best: tuple[float, float, float, dict[str, Any]] | None = None
    for glyph, aspect in chosen_on.genuine_scores:
        for field in np.unique(np.r_[chosen_on.genuine_scores[glyph, aspect], 0.0]):
            measured = _measure(chosen_on, glyph, aspect, float(field))
            if measured["letters_and_scribbles_accepted"] > target:
                continue
            # Ties keep the earlier, plainer rule (lower glyph threshold, no aspect limit).
            if best is None or measured["genuine_accepted"] > best[3]["genuine_accepted"]:
                best = (glyph, aspect, float(field), measured)
    if best is None:
        glyph, aspect = GLYPH_THRESHOLDS[0], MIN_ASPECTS[0]
        best = (glyph, aspect, 0.0, _measure(chosen_on, glyph, aspect, 0.0))
    glyph, aspect, field, on_validation = best
    reported = _split_scores(
        "test", images=test.images, labels=test.labels, count=count, strings=strings, digits=digits
    )
    return {
        "rule": "accept a string when the string model accepts it and the share of its "
        "digit-sized glyphs (not thinner than min_aspect times their height) whose "
        "not-a-digit probability exceeds glyph_threshold is at most field_threshold (no such "
        "glyph: share 1)",
        "glyph_threshold": glyph,
        "min_aspect": aspect,
        "field_threshold": field,
        "string_model": Path(string_model).stem,
        "target_letters_and_scribbles_accepted_validation": target,
        "chosen_on": f"{count} validation strings (MNIST validation digits) and {count} "
        "validation string negatives",
        "validation": on_validation,
        "test": {
            "strings": count,
            "negatives": count,
            **_measure(reported, glyph, aspect, field),
        },
    }
