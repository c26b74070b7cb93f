"""String fields of words, letters or scribbles get a reject score and go to review."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ml.infer import DigitRecognizer
from ml.infer.string_reject import glyph_is_digit_sized, strip_glyphs
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


@pytest.mark.xfail(
    reason="with digits-cnn-v4, 87.5% of 1,000 genuine test strings pass the rule (88.75% of this "
    "fixture; v2: 23%): glyphs cut from strips that the digit model rejects, and a field fails "
    "if one glyph in three does (docs/models/strings.md)",
    strict=True,
)
def test_genuine_number_fields_keep_a_low_reject_score(recognizer):
    """What the rule is for: nearly every genuine number passes it."""
    assert _genuine_passing(recognizer) >= 0.9


def test_genuine_number_fields_pass_at_the_measured_level(recognizer):
    """A floor at the default model's level: most genuine fields pass (measured 87.5% of 1,000;
    v2, whose card's rule sends any field with one rejected glyph to review, passed 23%)."""
    assert _genuine_passing(recognizer) >= 0.8


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
