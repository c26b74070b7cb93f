"""The rule engine: every rule kind, check digits, dates, sums, and n-best repair."""

from __future__ import annotations

import pytest

from recognition.validation import (
    Candidate,
    RuleError,
    candidates_from_characters,
    candidates_from_n_best,
    luhn_valid,
    mod11_check_digit,
    mod11_valid,
    repair,
    rule_check,
    rule_validate,
    sum_check,
)


def ch(char, confidence, *alternatives):
    return {"char": char, "confidence": confidence, "alternatives": [list(a) for a in alternatives]}


@pytest.mark.parametrize(
    ("rule", "value", "passes"),
    [
        ({"length": 4}, "1234", True),
        ({"length": 4}, "123", False),
        ({"min_length": 2, "max_length": 3}, "1", False),
        ({"min_length": 2, "max_length": 3}, "123", True),
        ({"min_length": 2, "max_length": 3}, "1234", False),
        ({"pattern": "0[0-9]{3}"}, "0123", True),
        ({"pattern": "0[0-9]{3}"}, "1123", False),
        ({"pattern": "0[0-9]{3}"}, "01234", False),  # the whole value must match
        ({"min": 10, "max": 99}, "42", True),
        ({"min": 10, "max": 99}, "100", False),
        ({"min": 10}, "9", False),
        ({"max": 5}, "", False),  # an empty value is no number
        ({"check_digit": "luhn"}, "79927398713", True),
        ({"check_digit": "luhn"}, "79927398710", False),
        ({"check_digit": "mod11"}, "12345674", True),
        ({"check_digit": "mod11"}, "12345678", False),
        ({"date": "DDMMYYYY"}, "29022024", True),
        ({"date": "DDMMYYYY"}, "29022023", False),  # 2023 is no leap year
        ({"date": "DDMMYYYY"}, "31042024", False),
        ({"date": "YYYYMMDD"}, "20241231", True),
        ({}, "anything", True),
    ],
)
def test_rule_check_accepts_and_refuses_by_rule_kind(rule, value, passes):
    assert (rule_check(rule, value) is None) is passes


def test_check_digit_functions_against_known_numbers():
    assert luhn_valid("4539578763621486")  # a valid card number
    assert not luhn_valid("4539578763621487")
    # Weights 2..7 from the right over 1234567: 7*2+6*3+5*4+4*5+3*6+2*7+1*2 = 106; 106 % 11 = 7;
    # 11 - 7 = 4.
    assert mod11_check_digit("1234567") == 4
    assert mod11_valid("12345674")
    assert not mod11_valid("1")


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"colour": "red"}, "unknown rule keys"),
        ({"length": -1}, "non-negative"),
        ({"min_length": 5, "max_length": 2}, "larger than"),
        ({"pattern": "(["}, "not a valid regular expression"),
        ({"check_digit": "crc"}, "check_digit must be one of"),
        ({"date": "DD/MM"}, "date must be one of"),
        ({"sum_of": "total"}, "sum_of"),
        ({"min": "a"}, "must be a number"),
        ("not a rule", "JSON object"),
    ],
)
def test_rule_validate_refuses_bad_definitions_with_the_reason(rule, message):
    with pytest.raises(RuleError, match=message):
        rule_validate(rule)


def test_sum_check_adds_up_named_fields():
    values = {"a": "120", "b": "30"}
    assert sum_check({"sum_of": ["a", "b"]}, "150", values) is None
    assert "= 150" in sum_check({"sum_of": ["a", "b"]}, "160", values)
    assert "no number read" in sum_check({"sum_of": ["a", "c"]}, "120", values)


def test_candidates_from_characters_are_ranked_by_joint_probability():
    characters = [ch("1", 0.9, ("7", 0.1)), ch("3", 0.6, ("8", 0.4))]
    candidates = candidates_from_characters(characters, limit=10)
    assert [c.text for c in candidates] == ["13", "18", "73", "78"]
    assert candidates[0].probability == pytest.approx(0.54)
    assert candidates[-1].probability == pytest.approx(0.04)


def test_repair_finds_the_candidate_that_passes_a_check_digit():
    # Read 79927398710 (Luhn fails); the last digit could also be a 3, which passes.
    characters = [ch(c, 0.999) for c in "7992739871"] + [ch("0", 0.55, ("3", 0.44))]
    fixed = repair({"check_digit": "luhn"}, candidates_from_characters(characters))
    assert fixed is not None
    assert fixed.value == "79927398713"
    # Given the rule, the 3 is nearly certain: the only other passing readings are far less likely.
    assert fixed.confidence > 0.95


def test_repair_never_promotes_a_long_shot_to_a_sure_reading():
    # The only passing candidate is very unlikely: most of the probability mass lies elsewhere.
    candidates = [Candidate("12", 0.6), Candidate("13", 0.001)]
    fixed = repair({"check_digit": "luhn"}, candidates)  # "13" fails Luhn too
    assert fixed is None
    fixed = repair({"max": 12}, [Candidate("13", 0.6), Candidate("12", 0.001)])
    assert fixed is not None and fixed.value == "12"
    assert fixed.confidence < 0.01  # 0.001 / (0.001 + the 0.399 not covered)


def test_repair_from_a_string_models_n_best_list():
    n_best = [["1250", 0.5], ["125", 0.3], ["1290", 0.15]]
    fixed = repair({"length": 3}, candidates_from_n_best(n_best))
    assert fixed is not None and fixed.value == "125"
    assert fixed.confidence == pytest.approx(0.3 / (0.3 + 0.05))
