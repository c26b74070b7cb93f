"""Routing one field: confidence, rules with n-best repair, rejected marks, quality sampling."""

from __future__ import annotations

from recognition.models import FieldKind, FieldStatus
from recognition.reading import FieldReading
from recognition.services.routing import field_route, sampled_for_quality


def reading(value, confidences, alternatives=None, **extra):
    alternatives = alternatives or [[] for _ in value]
    characters = [
        {"char": c, "confidence": p, "alternatives": a}
        for c, p, a in zip(value, confidences, alternatives, strict=True)
    ]
    return FieldReading(value, characters, min(confidences, default=1.0), **extra)


def test_a_sure_reading_is_accepted_and_an_unsure_one_goes_to_review():
    sure = field_route(kind=FieldKind.DIGITS, reading=reading("42", [0.999, 0.998]), threshold=0.99)
    assert sure.status == FieldStatus.ACCEPTED and sure.value == "42"
    unsure = field_route(kind=FieldKind.DIGITS, reading=reading("42", [0.999, 0.9]), threshold=0.99)
    assert unsure.status == FieldStatus.NEEDS_REVIEW
    assert "below" in unsure.reason


def test_a_sure_reading_that_breaks_its_rule_goes_to_review_with_the_reason():
    route = field_route(
        kind=FieldKind.DIGITS,
        reading=reading("123", [0.999] * 3),
        threshold=0.99,
        rule={"length": 4},
    )
    assert route.status == FieldStatus.NEEDS_REVIEW
    assert route.reason == "the reading has 3 digits, expected 4"


def test_a_rule_repairs_a_reading_from_the_alternatives_when_that_is_sure():
    # Luhn: 7992739871x; the model prefers 0 (fails) over 3 (passes).
    value = "79927398710"
    confidences = [0.9999] * 10 + [0.6]
    alternatives = [[] for _ in range(10)] + [[["3", 0.3999]]]
    route = field_route(
        kind=FieldKind.DIGITS,
        reading=reading(value, confidences, alternatives),
        threshold=0.99,
        rule={"check_digit": "luhn"},
    )
    assert route.status == FieldStatus.ACCEPTED
    assert route.value == "79927398713"
    assert route.characters[-1]["char"] == "3"


def test_a_string_field_is_repaired_from_its_n_best_list():
    read = reading("1250", [0.99, 0.99, 0.99, 0.6], n_best=[["1250", 0.6], ["125", 0.399]])
    route = field_route(kind=FieldKind.STRING, reading=read, threshold=0.99, rule={"length": 3})
    assert route.status == FieldStatus.ACCEPTED and route.value == "125"


def test_a_box_with_a_rejected_mark_goes_to_review_whatever_the_confidence():
    read = reading("47", [0.999, 0.999])
    read.characters[1]["rejected"] = True
    route = field_route(kind=FieldKind.DIGITS, reading=read, threshold=0.5)
    assert route.status == FieldStatus.NEEDS_REVIEW
    assert "not be digits" in route.reason


def test_an_empty_comb_field_is_accepted_unless_required():
    empty = FieldReading("", [], 1.0)
    assert field_route(kind="digits", reading=empty, threshold=0.99).status == "accepted"
    required = field_route(kind="digits", reading=empty, threshold=0.99, required=True)
    assert required.status == FieldStatus.NEEDS_REVIEW


def test_quality_sampling_sends_the_configured_share_of_accepted_fields_to_review():
    picked = sum(sampled_for_quality(f"field-{i}", 0.1) for i in range(5000))
    assert 400 < picked < 600
    assert sampled_for_quality("field-1", 0.1) == sampled_for_quality("field-1", 0.1)
    assert not any(sampled_for_quality(f"field-{i}", 0.0) for i in range(100))
    key = next(f"k{i}" for i in range(1000) if sampled_for_quality(f"k{i}", 0.1))
    route = field_route(
        kind="digits", reading=reading("5", [0.999]), threshold=0.9, sample_key=key, sample_rate=0.1
    )
    assert route.status == FieldStatus.NEEDS_REVIEW and route.sampled


def test_a_string_field_whose_writing_is_not_digits_goes_to_review():
    read = FieldReading("11", [{"char": "1", "confidence": 0.999, "alternatives": []}] * 2, 0.999,
                        rejected=True, reject_score=0.8)  # fmt: skip
    route = field_route(kind=FieldKind.STRING, reading=read, threshold=0.5)
    assert route.status == FieldStatus.NEEDS_REVIEW
    assert route.reason == "the writing holds marks that are not digits (reject score 0.80)"


def test_a_box_is_rejected_by_the_model_cards_reject_threshold():
    from ml.infer.digits import DigitReading
    from recognition.reading import readings_to_field

    sure = DigitReading(7, 0.95, ((7, 0.95), (1, 0.03), (2, 0.01)), reject_probability=0.02)
    doubtful = DigitReading(7, 0.80, ((7, 0.80), (1, 0.05), (2, 0.01)), reject_probability=0.14)

    field = readings_to_field([sure, doubtful], reject_threshold=0.1)

    assert [c["rejected"] for c in field.characters] == [False, True]
    route = field_route(kind=FieldKind.DIGITS, reading=field, threshold=0.5)
    assert route.status == FieldStatus.NEEDS_REVIEW and "not be digits" in route.reason
