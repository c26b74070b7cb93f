"""Validation rules for field values, and n-best repair.

Pure Python (no Django): the routing, the review API and the template admin all use it.

A rule is a JSON object; every key is optional and all given keys must pass::

    {"length": 10}                      exactly 10 digits
    {"min_length": 4, "max_length": 8}  4 to 8 digits
    {"pattern": "[0-9]{2}0[0-9]+"}      the whole value matches the regular expression
    {"min": 1, "max": 9999}             the number's value is in range
    {"check_digit": "luhn"}             the last digit is a Luhn check digit (card numbers, IMEI)
    {"check_digit": "mod11"}            the last digit is a modulus-11 check digit (weights 2..7)
    {"date": "DDMMYYYY"}                a real calendar date in that layout (DD, MM, YY, YYYY)
    {"sum_of": ["item1", "item2"]}      the value equals the sum of the named fields (checked
                                        across the document, see `sum_check`)

When the top reading fails its rule, `repair` looks for the most probable candidate that passes,
and says how sure the models are of it *given* the rule: the candidate's probability divided by
the probability of every reading the rule allows (the part of the probability mass that the
candidate list does not cover counts against it, so a long shot is never promoted to a sure thing).
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

RULE_KEYS = frozenset(
    {"length", "min_length", "max_length", "pattern", "min", "max", "check_digit", "date", "sum_of"}
)
CHECK_DIGITS = ("luhn", "mod11")
DATE_LAYOUTS = {
    "DDMMYYYY": "%d%m%Y",
    "DDMMYY": "%d%m%y",
    "MMDDYYYY": "%m%d%Y",
    "YYYYMMDD": "%Y%m%d",
    "YYMMDD": "%y%m%d",
}
MAX_PATTERN_LENGTH = 200


class RuleError(ValueError):
    """A rule definition that cannot be used (unknown key, bad value)."""


def _non_negative_int(rule: Mapping, key: str) -> None:
    value = rule.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise RuleError(f"{key} must be a non-negative whole number")


def rule_validate(rule: object) -> dict:
    """Check a rule definition (admin input); return it as a plain dict or raise RuleError."""
    if rule in (None, ""):
        return {}
    if not isinstance(rule, Mapping):
        raise RuleError("a rule must be a JSON object")
    unknown = set(rule) - RULE_KEYS
    if unknown:
        raise RuleError(f"unknown rule keys: {', '.join(sorted(unknown))}")
    for key in ("length", "min_length", "max_length"):
        _non_negative_int(rule, key)
    if (
        rule.get("min_length") is not None
        and rule.get("max_length") is not None
        and rule["min_length"] > rule["max_length"]
    ):
        raise RuleError("min_length is larger than max_length")
    for key in ("min", "max"):
        value = rule.get(key)
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise RuleError(f"{key} must be a number")
    if rule.get("min") is not None and rule.get("max") is not None and rule["min"] > rule["max"]:
        raise RuleError("min is larger than max")
    pattern = rule.get("pattern")
    if pattern is not None:
        if not isinstance(pattern, str) or len(pattern) > MAX_PATTERN_LENGTH:
            raise RuleError(f"pattern must be a string of at most {MAX_PATTERN_LENGTH} characters")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise RuleError(f"pattern is not a valid regular expression: {exc}") from exc
    if rule.get("check_digit") is not None and rule["check_digit"] not in CHECK_DIGITS:
        raise RuleError(f"check_digit must be one of {', '.join(CHECK_DIGITS)}")
    if rule.get("date") is not None and rule["date"] not in DATE_LAYOUTS:
        raise RuleError(f"date must be one of {', '.join(DATE_LAYOUTS)}")
    sum_of = rule.get("sum_of")
    if sum_of is not None and (
        not isinstance(sum_of, list) or not sum_of or not all(isinstance(n, str) for n in sum_of)
    ):
        raise RuleError("sum_of must be a non-empty list of field names")
    return dict(rule)


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check: the last digit makes the weighted sum a multiple of 10."""
    if len(digits) < 2 or not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def mod11_check_digit(payload: str) -> int | None:
    """The modulus-11 check digit of `payload` (weights 2..7 from the right, repeating);
    None when the remainder gives 10, which has no digit: such numbers are never issued."""
    total = sum(int(c) * (2 + i % 6) for i, c in enumerate(reversed(payload)))
    check = (11 - total % 11) % 11
    return None if check == 10 else check


def mod11_valid(digits: str) -> bool:
    if len(digits) < 2 or not digits.isdigit():
        return False
    return mod11_check_digit(digits[:-1]) == int(digits[-1])


def date_valid(digits: str, layout: str) -> bool:
    fmt = DATE_LAYOUTS[layout]
    if len(digits) != len(layout) or not digits.isdigit():
        return False
    try:
        dt.datetime.strptime(digits, fmt)
    except ValueError:
        return False
    return True


def rule_check(rule: Mapping, value: str) -> str | None:
    """Why `value` breaks `rule` (a sentence), or None when it passes. `sum_of` is not checked
    here: it needs the other fields (see `sum_check`)."""
    if not rule:
        return None
    length = len(value)
    if rule.get("length") is not None and length != rule["length"]:
        return f"has {length} digits, expected {rule['length']}"
    if rule.get("min_length") is not None and length < rule["min_length"]:
        return f"has {length} digits, expected at least {rule['min_length']}"
    if rule.get("max_length") is not None and length > rule["max_length"]:
        return f"has {length} digits, expected at most {rule['max_length']}"
    if rule.get("pattern") is not None and not re.fullmatch(rule["pattern"], value):
        return "does not match the expected pattern"
    if rule.get("min") is not None or rule.get("max") is not None:
        if not value.isdigit():
            return "is not a number"
        number = int(value)
        if rule.get("min") is not None and number < rule["min"]:
            return f"{number} is below the minimum {rule['min']}"
        if rule.get("max") is not None and number > rule["max"]:
            return f"{number} is above the maximum {rule['max']}"
    check = rule.get("check_digit")
    if check == "luhn" and not luhn_valid(value):
        return "fails the Luhn check digit"
    if check == "mod11" and not mod11_valid(value):
        return "fails the modulus-11 check digit"
    if rule.get("date") is not None and not date_valid(value, rule["date"]):
        return f"is not a valid date ({rule['date']})"
    return None


def sum_check(rule: Mapping, value: str, values_by_name: Mapping[str, str]) -> str | None:
    """Why `value` is not the sum of the fields `rule["sum_of"]` names, or None when it is (or
    when the rule has no sum). A named field that is missing or not a number fails the check."""
    names = rule.get("sum_of") if rule else None
    if not names:
        return None
    parts = []
    for name in names:
        part = values_by_name.get(name)
        if part is None or not part.isdigit():
            return f"cannot add up {name!r}: no number read"
        parts.append(int(part))
    if not value.isdigit():
        return "is not a number"
    if int(value) != sum(parts):
        return f"is {int(value)}, but {' + '.join(names)} = {sum(parts)}"
    return None


@dataclass(frozen=True)
class Candidate:
    text: str
    probability: float


def candidates_from_characters(characters: list[dict], *, limit: int = 50) -> list[Candidate]:
    """The `limit` most probable strings from per-character readings (each character with its
    confidence and alternatives, as fields store them), best first, by the product of the
    character probabilities (characters read independently, as the digit CNN reads boxes)."""
    if not characters:
        return [Candidate("", 1.0)]
    options = []
    for character in characters:
        choices = [(character["char"], float(character["confidence"]))]
        choices += [(str(c), float(p)) for c, p in character.get("alternatives", [])]
        choices = sorted(((c, p) for c, p in choices if p > 0), key=lambda x: -x[1])
        if not choices:
            choices = [(character["char"], 1e-12)]
        options.append(choices)

    def log_score(picks: tuple[int, ...]) -> float:
        return sum(math.log(options[i][k][1]) for i, k in enumerate(picks))

    start = tuple(0 for _ in options)
    heap = [(-log_score(start), start)]
    seen = {start}
    found: list[Candidate] = []
    while heap and len(found) < limit:
        negative, picks = heapq.heappop(heap)
        found.append(
            Candidate("".join(options[i][k][0] for i, k in enumerate(picks)), math.exp(-negative))
        )
        for i in range(len(picks)):
            if picks[i] + 1 < len(options[i]):
                successor = (*picks[:i], picks[i] + 1, *picks[i + 1 :])
                if successor not in seen:
                    seen.add(successor)
                    heapq.heappush(heap, (-log_score(successor), successor))
    return found


def candidates_from_n_best(n_best: Iterable) -> list[Candidate]:
    """Candidates from a string model's n-best list ([[text, score], ...])."""
    merged: dict[str, float] = {}
    for text, score in n_best:
        merged[str(text)] = merged.get(str(text), 0.0) + float(score)
    return [Candidate(t, p) for t, p in sorted(merged.items(), key=lambda x: -x[1])]


@dataclass(frozen=True)
class Repair:
    value: str
    # P(value | the rule holds), with the mass the candidates do not cover counted against it.
    confidence: float


def repair(rule: Mapping, candidates: list[Candidate], check=rule_check) -> Repair | None:
    """The most probable candidate that passes `check(rule, text)`, with its confidence given the
    rule; None when no candidate passes."""
    covered = sum(c.probability for c in candidates)
    residual = max(0.0, 1.0 - covered)
    passing = [c for c in candidates if check(rule, c.text) is None]
    if not passing:
        return None
    mass = sum(c.probability for c in passing) + residual
    best = max(passing, key=lambda c: c.probability)
    return Repair(value=best.text, confidence=best.probability / mass if mass > 0 else 0.0)
