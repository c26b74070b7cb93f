"""String fields of words, letters or scribbles get a reject score and go to review."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ml.infer import DigitRecognizer
from ml.infer.string_reject import glyph_is_digit_sized, string_reject_scores, strip_glyphs
from ml.infer.strings import StringRecognizer
from ml.negatives.strings import string_negatives_generate
from ml.strings.fixtures import string_fixture_read

ROOT = Path(__file__).resolve().parents[3]
STRING_MODEL = ROOT / "ml" / "weights" / "strings" / "strings-crnn-v1.onnx"
DIGIT_MODEL = ROOT / "ml" / "weights" / "digits" / "digits-cnn-v4.onnx"
DIGIT_MODEL_V1 = ROOT / "ml" / "weights" / "digits" / "digits-cnn-v1.onnx"
FIXTURE = Path(__file__).parent / "fixtures" / "strings_80.npz"


@pytest.fixture(scope="module")
def recognizer() -> StringRecognizer:
    digits = DigitRecognizer(DIGIT_MODEL, providers=["CPUExecutionProvider"], threads=1)
    return StringRecognizer(
        STRING_MODEL, providers=["CPUExecutionProvider"], threads=1, digit_recognizer=digits
    )


def test_letter_and_scribble_fields_are_sent_to_review(recognizer):
    made = string_negatives_generate(40, split="test", seed=5)
    fields = [s for s, k in zip(made.strips, made.kinds, strict=True) if k != "other_script_number"]

    readings = recognizer.recognize(fields)

    assert all(r.reject_score is not None and 0 <= r.reject_score <= 1 for r in readings)
    assert sum(recognizer.accepts(r) for r in readings) <= 1


def _genuine_passing(recognizer) -> float:
    strips, _ = string_fixture_read(FIXTURE)
    readings = recognizer.recognize(strips)
    return float(np.mean([r.reject_score <= recognizer.reject_threshold for r in readings]))


def test_genuine_number_fields_of_the_fixture_pass_the_rule(recognizer):
    """What the rule is for: nearly every genuine number passes it. 92.5% of this fixture's 80
    fields do with v4's rule; of 1,000 generated test strings, 88.6% (docs/models/strings.md)."""
    assert _genuine_passing(recognizer) >= 0.9


def test_a_bare_vertical_bar_is_left_out_of_the_score_when_the_rule_says_so(recognizer):
    strips, _ = string_fixture_read(FIXTURE)
    digits = recognizer.digit_recognizer
    strip = strips[0]
    barred = np.concatenate([strip, np.zeros((32, 12), np.float32)], axis=1)
    barred[6:26, -6] = 1.0  # one pixel wide: a 1 or a box edge, which v4 rejects

    def score(image, min_aspect):
        return string_reject_scores([image], digits, glyph_threshold=0.3, min_aspect=min_aspect)[0]

    assert score(barred, 0.0) > score(strip, 0.0)
    assert score(barred, 0.1) == score(strip, 0.1)
    # A strip of bars alone has no scored glyph: it is not a number the rule can vouch for.
    assert score(barred[:, -12:], 0.1) == 1.0
    # The digit card's rule sets the thinnest scored glyph for the recognizer.
    assert recognizer.min_glyph_aspect == digits.card["string_reject"]["min_aspect"] == 0.1


def test_an_empty_strip_scores_zero_and_a_cursive_word_scores_one(recognizer):
    empty = np.zeros((32, 64), np.float32)
    loop = np.zeros((32, 160), np.float32)
    # One long connected flourish: wider than any digit, so no digit-sized glyph.
    loop[14:18, 4:156] = 1.0
    loop[4:28, 4:8] = 1.0

    readings = recognizer.recognize([empty, loop])

    assert readings[0].reject_score == 0.0
    assert readings[1].reject_score == 1.0


def test_glyphs_are_cut_left_to_right_and_underlines_do_not_join_them():
    strip = np.zeros((32, 96), np.float32)
    for x in (8, 40, 72):
        strip[6:26, x : x + 4] = 1.0  # three "1"-like strokes
    strip[27:29, 2:94] = 1.0  # an underline touching none but spanning all

    glyphs = strip_glyphs(strip)

    assert [g.x0 for g in glyphs] == sorted(g.x0 for g in glyphs)
    assert len(glyphs) == 3 and all(glyph_is_digit_sized(g) for g in glyphs)


def test_without_a_digit_model_readings_have_no_reject_score_as_before():
    plain = StringRecognizer(STRING_MODEL, providers=["CPUExecutionProvider"], threads=1)
    strips, _ = string_fixture_read(FIXTURE)

    reading = plain.recognize(strips[:1])[0]

    assert reading.reject_score is None
    assert plain.accepts(reading) == (reading.field_confidence >= plain.accept_threshold)


def test_a_digit_model_without_reject_class_is_refused():
    with pytest.raises(ValueError, match="no reject class"):
        StringRecognizer(STRING_MODEL, digit_recognizer=DigitRecognizer(DIGIT_MODEL_V1))
