"""Turning recognizer outputs into field readings: the value, per-character confidences and
alternatives, and the field confidence. Used by the pipeline and by the playground alike."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from forms_ocr.components import ink_components_split
from forms_ocr.normalize import crop_normalize_mnist


@dataclass(frozen=True)
class FieldReading:
    value: str
    # {"char", "confidence", "alternatives": [[char, probability], ...]} per character of value.
    characters: list[dict] = field(default_factory=list)
    # The weakest character's confidence: a field is only as sure as its least sure digit.
    confidence: float | None = None


def _character(reading) -> dict:
    return {
        "char": str(reading.digit),
        "confidence": round(reading.probability, 6),
        "alternatives": [[str(d), round(p, 6)] for d, p in reading.alternatives],
    }


def readings_to_field(readings) -> FieldReading:
    characters = [_character(r) for r in readings]
    return FieldReading(
        value="".join(c["char"] for c in characters),
        characters=characters,
        confidence=min((c["confidence"] for c in characters), default=None),
    )


def comb_field_read(recognizer, boxes: np.ndarray, empty: list[bool]) -> FieldReading:
    """Read a comb field: `boxes` float32 [N,28,28] normalized crops; empty boxes give no digit."""
    filled = [i for i, is_empty in enumerate(empty) if not is_empty]
    if not filled:
        return FieldReading(value="", characters=[], confidence=1.0)
    return readings_to_field(recognizer.predict(np.ascontiguousarray(boxes[filled])))


def string_read_by_components(recognizer, crop: np.ndarray) -> FieldReading:
    """Read a written number with the digit classifier, one connected component per digit."""
    components = ink_components_split(crop)
    if not components:
        return FieldReading(value="", characters=[], confidence=None)
    batch = np.stack([crop_normalize_mnist(c.crop) for c in components])
    return readings_to_field(recognizer.predict(batch))
