"""Metrics of string readings: string accuracy by length, character error rate, routing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ml.strings.decode import StringReading


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


@dataclass(frozen=True)
class StringMetrics:
    """String accuracy (0..1), character error rate (edit distance / truth characters), counts."""

    strings: int
    accuracy: float
    cer: float
    accuracy_by_length: dict[int, float]


def strings_score(readings: Sequence[StringReading], truths: Sequence[str]) -> StringMetrics:
    """Score readings against the true digit strings."""
    correct = [r.text == t for r, t in zip(readings, truths, strict=True)]
    errors = sum(edit_distance(r.text, t) for r, t in zip(readings, truths, strict=True))
    by_length: dict[int, list[bool]] = {}
    for ok, truth in zip(correct, truths, strict=True):
        by_length.setdefault(len(truth), []).append(ok)
    return StringMetrics(
        strings=len(truths),
        accuracy=float(np.mean(correct)) if correct else 0.0,
        cer=errors / max(1, sum(len(t) for t in truths)),
        accuracy_by_length={k: float(np.mean(v)) for k, v in sorted(by_length.items())},
    )


def review_threshold_choose(
    readings: Sequence[StringReading], review_fraction: float = 0.05
) -> float:
    """The field-confidence threshold below which ``review_fraction`` of the readings fall."""
    confidences = np.array([r.field_confidence for r in readings])
    return float(np.quantile(confidences, review_fraction)) if len(confidences) else 0.0


def routing_score(
    readings: Sequence[StringReading], truths: Sequence[str], threshold: float
) -> dict[str, float]:
    """Accept readings with field confidence >= ``threshold``; report review rate and accuracy."""
    accepted = [r.field_confidence >= threshold for r in readings]
    correct = [r.text == t for r, t in zip(readings, truths, strict=True)]
    kept = [c for a, c in zip(accepted, correct, strict=True) if a]
    return {
        "threshold": threshold,
        "review_fraction": 1 - len(kept) / max(1, len(readings)),
        "accepted_accuracy": float(np.mean(kept)) if kept else 0.0,
    }


def field_temperature_fit(
    logits: Sequence[np.ndarray],
    truths: Sequence[str],
    temperatures: Sequence[float] = (0.7, 1.0, 1.3, 1.6, 2.0, 2.5),
) -> tuple[float, dict[float, float]]:
    """Choose the temperature whose field confidences best predict exact reads (validation only).

    ``logits`` holds one ``[T_i, 11]`` array per string. The score is the binary cross-entropy
    between the beam-search field confidence and whether the reading is right. Returns the best
    temperature and the loss of each one tried.
    """
    from ml.strings.decode import ctc_beam_decode

    losses = {}
    for temperature in temperatures:
        total = 0.0
        for own, truth in zip(logits, truths, strict=True):
            reading = ctc_beam_decode(own, temperature=temperature)
            p = min(max(reading.field_confidence, 1e-6), 1 - 1e-6)
            total -= np.log(p) if reading.text == truth else np.log(1 - p)
        losses[float(temperature)] = total / max(1, len(truths))
    return min(losses, key=losses.get), losses
