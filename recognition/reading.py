"""Turning recognizer outputs into field readings: the value, per-character confidences and
alternatives, and the field confidence. Used by the pipeline and by the playground alike."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from forms_ocr.components import ink_components_split
from forms_ocr.normalize import crop_normalize_mnist, crop_normalize_string


@dataclass(frozen=True)
class FieldReading:
    value: str
    # {"char", "confidence", "alternatives": [[char, probability], ...]} per character of value.
    characters: list[dict] = field(default_factory=list)
    # The weakest character's confidence: a field is only as sure as its least sure digit.
    confidence: float | None = None
    # String fields: the model's n-best list, [[text, score], ...] best first.
    n_best: list = field(default_factory=list)
    # Marks that are not digits were found (letters, words, scribbles): never auto-accepted.
    rejected: bool = False
    # String fields: the share of the writing the digit model rejects (None: not scored).
    reject_score: float | None = None


def _character(reading, reject_threshold: float | None) -> dict:
    character = {
        "char": str(reading.digit),
        "confidence": round(reading.probability, 6),
        "alternatives": [[str(d), round(p, 6)] for d, p in reading.alternatives],
    }
    reject = getattr(reading, "reject_probability", None)
    if reject is not None:
        # Models with a "not a digit" class: the mark is rejected when that class is more likely
        # than the model card's reject threshold allows (or, without one, when it wins).
        limit = reject_threshold if reject_threshold is not None else reading.probability
        character["reject"] = round(reject, 6)
        character["rejected"] = bool(reject > limit)
    return character


def readings_to_field(readings, reject_threshold: float | None = None) -> FieldReading:
    characters = [_character(r, reject_threshold) for r in readings]
    return FieldReading(
        value="".join(c["char"] for c in characters),
        characters=characters,
        confidence=min((c["confidence"] for c in characters), default=None),
    )


def comb_fields_read(recognizer, fields: list[tuple[np.ndarray, list[bool]]]) -> list[FieldReading]:
    """Read several comb fields, each (boxes float32 [N,28,28], box emptiness), with one batch
    through the model for all their written boxes; empty boxes give no digit."""
    filled = [[i for i, is_empty in enumerate(empty) if not is_empty] for _, empty in fields]
    batches = [boxes[indices] for (boxes, _), indices in zip(fields, filled, strict=True)]
    written = [batch for batch in batches if len(batch)]
    predictions = (
        recognizer.predict(np.ascontiguousarray(np.concatenate(written))) if written else []
    )
    reject_threshold = getattr(recognizer, "reject_threshold", None)
    readings, start = [], 0
    for indices in filled:
        if not indices:
            readings.append(FieldReading(value="", characters=[], confidence=1.0))
            continue
        chunk = predictions[start : start + len(indices)]
        start += len(indices)
        readings.append(readings_to_field(chunk, reject_threshold))
    return readings


def string_read_by_components(recognizer, crop: np.ndarray) -> FieldReading:
    """Read a written number with the digit classifier, one connected component per digit."""
    components = ink_components_split(crop)
    if not components:
        return FieldReading(value="", characters=[], confidence=None)
    batch = np.stack([crop_normalize_mnist(c.crop) for c in components])
    return readings_to_field(
        recognizer.predict(batch), getattr(recognizer, "reject_threshold", None)
    )


def _score(reading) -> float | None:
    score = getattr(reading, "reject_score", None)
    return None if score is None else round(float(score), 4)


def strings_read(recognizer, crops: list[np.ndarray]) -> list[FieldReading]:
    """Read written numbers with the string model, one batch for all crops (uint8 grey, any
    polarity). The n-best list gives each character's alternatives where the candidates differ
    from the reading at that position only."""
    if not crops:
        return []
    readings = recognizer.recognize([crop_normalize_string(crop) for crop in crops])
    fields = []
    for reading in readings:
        characters = []
        for position, (char, confidence) in enumerate(
            zip(reading.text, reading.char_confidences, strict=True)
        ):
            alternatives = [
                [candidate.text[position], round(candidate.score, 6)]
                for candidate in reading.n_best[1:]
                if len(candidate.text) == len(reading.text)
                and candidate.text[position] != char
                and candidate.text[:position] + candidate.text[position + 1 :]
                == reading.text[:position] + reading.text[position + 1 :]
            ]
            characters.append(
                {"char": char, "confidence": round(confidence, 6), "alternatives": alternatives}
            )
        fields.append(
            FieldReading(
                value=reading.text,
                characters=characters,
                confidence=round(reading.field_confidence, 6) if reading.text else None,
                n_best=[[c.text, round(c.score, 6)] for c in reading.n_best],
                reject_score=_score(reading),
                rejected=_score(reading) is not None
                and _score(reading) > getattr(recognizer, "reject_threshold", 1.0),
            )
        )
    return fields
