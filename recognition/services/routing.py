"""Routing: accept a field, or send it to a person.

A field is accepted when the models are sure enough (its calibrated confidence is at or above the
threshold: the template field's override, else the active model's) and its validation rule
passes. When the top reading breaks the rule, the candidates the models also considered are tried
(n-best repair); a repaired value is accepted only if it is sure enough *given the rule*. A
configurable share of accepted fields goes to review anyway (quality sampling), which is how the
real error of auto-accepted fields is measured.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from recognition.models import FieldKind, FieldStatus
from recognition.reading import FieldReading
from recognition.validation import (
    candidates_from_characters,
    candidates_from_n_best,
    repair,
    rule_check,
)


@dataclass(frozen=True)
class Route:
    status: str
    value: str
    confidence: float | None
    characters: list
    reason: str = ""
    sampled: bool = False


def threshold_for(model_version, template_field) -> float | None:
    """The accept threshold: the template field's override, else the model version's card
    threshold; None when the field was read by no model."""
    if template_field is not None and template_field.accept_threshold is not None:
        return template_field.accept_threshold
    return model_version.accept_threshold if model_version is not None else None


def field_threshold(field) -> float | None:
    """The accept threshold a stored field was (or is) routed with."""
    template_field = field.template_field if field.template_field_id else None
    return threshold_for(field.model_version, template_field)


def candidates_for(kind: str, characters: list, n_best: list) -> list:
    """The readings the models also considered: the string model's n-best list for strings, the
    per-digit alternatives otherwise."""
    if kind == FieldKind.STRING and n_best:
        return candidates_from_n_best(n_best)
    return candidates_from_characters(characters)


def sampled_for_quality(key: str, rate: float) -> bool:
    """Whether the field with this key is in the quality sample: decided by a hash, so the same
    field gets the same answer when a task runs twice."""
    if rate <= 0:
        return False
    digest = hashlib.sha256(f"quality-sample:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


def characters_for_value(value: str, confidence: float, characters: list) -> list:
    """The characters of a repaired value: every character keeps its alternatives, changed or not,
    and carries the repaired field's confidence where that is lower than its own."""
    result = []
    for position, char in enumerate(value):
        old = characters[position] if position < len(characters) else {}
        result.append(
            {
                **old,
                "char": char,
                "confidence": round(
                    min(confidence, old.get("confidence", 1.0))
                    if old.get("char") == char
                    else confidence,
                    6,
                ),
                "alternatives": old.get("alternatives", []),
            }
        )
    return result


def field_route(
    *,
    kind: str,
    reading: FieldReading,
    threshold: float,
    rule: dict | None = None,
    required: bool = False,
    sample_key: str = "",
    sample_rate: float = 0.0,
) -> Route:
    # Every reason a person must look is reported, not only the first found.
    reasons = []
    rejected = [c for c in reading.characters if c.get("rejected")]
    if rejected:
        reasons.append(f"{len(rejected)} mark(s) that may not be digits")
    if reading.rejected:
        score = reading.reject_score
        reasons.append(
            "the writing holds marks that are not digits"
            + (f" (reject score {score:.2f})" if score is not None else "")
        )
    if reading.value == "" and required:
        reasons.append("required field is empty")
    if reading.confidence is None:
        reasons.append("nothing could be read")
    else:
        failure = rule_check(rule or {}, reading.value)
        if failure is not None:
            # Repair only a reading whose marks are all digits: a rejected mark needs a person.
            fixed = None
            if not reasons:
                fixed = repair(rule or {}, candidates_for(kind, reading.characters, reading.n_best))
            if fixed is None or fixed.confidence < threshold:
                reasons.append(f"the reading {failure}")
            else:
                reading = replace(
                    reading,
                    value=fixed.value,
                    confidence=round(fixed.confidence, 6),
                    characters=characters_for_value(
                        fixed.value, fixed.confidence, reading.characters
                    ),
                )
        elif reading.confidence < threshold:
            reasons.append(f"confidence {reading.confidence:.3f} is below {threshold:.3f}")
    if reasons:
        return Route(
            FieldStatus.NEEDS_REVIEW,
            reading.value,
            reading.confidence,
            reading.characters,
            "; ".join(reasons),
        )

    if sampled_for_quality(sample_key, sample_rate):
        return Route(
            FieldStatus.NEEDS_REVIEW,
            reading.value,
            reading.confidence,
            reading.characters,
            "quality sample of auto-accepted fields",
            sampled=True,
        )
    return Route(FieldStatus.ACCEPTED, reading.value, reading.confidence, reading.characters)
