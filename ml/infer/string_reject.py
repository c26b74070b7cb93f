"""A reject signal for string fields: is every mark in the strip a digit?

The CTC string model has no "not a digit" output, and retraining it is slow, so the strip is cut
into glyphs (connected components, pieces stacked in one column joined), each glyph is
normalized like a box crop and read by the digit model with its reject class. The string's
reject score is the share of its digit-sized glyphs that the digit model rejects. Punctuation
(components much shorter than the writing) and underlines are not scored; glyphs wider than a
digit (touching digits, cursive) are not read by the digit model, which would reject them as
merged digits, but a strip with no digit-sized glyph at all scores as rejected. The rule may also
leave out glyphs thinner than ``min_aspect`` times their height: a bare vertical bar is a 1 or a
box edge, and the digit model, which learnt thicker 1s, rejects some of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from forms_ocr.normalize import INK_LEVEL, crop_normalize_mnist

# Components shorter than this share of the writing's height are separators or dirt (. , -).
MIN_GLYPH_HEIGHT = 0.45
# Two components whose column ranges overlap this much (of the narrower) are one glyph (a 5's
# flag, a broken 4).
COLUMN_OVERLAP = 0.5
# A glyph wider than this times its height is touching digits or cursive writing, not a digit.
MAX_DIGIT_ASPECT = 1.25


@dataclass(frozen=True)
class Glyph:
    """One glyph's columns ``[x0, x1)`` and rows ``[y0, y1)`` in the strip, and its ink."""

    x0: int
    x1: int
    y0: int
    y1: int
    ink: NDArray[np.float32]


def strip_glyphs(strip: NDArray[np.float32]) -> list[Glyph]:
    """Cut a normalized strip float32 (32, W) (white on black, 0..1) into glyphs, left to right.

    Each glyph's ``ink`` holds only its own components' pixels (neighbours blanked).
    """
    mask = (strip > INK_LEVEL).astype(np.uint8)
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return []
    writing_height = rows[-1] + 1 - rows[0]
    mask = _rulings_remove(mask, writing_height)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return []
    boxes = []
    for label in range(1, count):
        x, y, w, h, _ = stats[label]
        if h >= MIN_GLYPH_HEIGHT * writing_height:
            boxes.append([x, x + w, y, y + h, [label]])
    boxes.sort(key=lambda b: b[0])
    merged: list[list] = []
    for box in boxes:
        if merged:
            last = merged[-1]
            overlap = min(last[1], box[1]) - max(last[0], box[0])
            if overlap >= COLUMN_OVERLAP * min(last[1] - last[0], box[1] - box[0]):
                last[0], last[1] = min(last[0], box[0]), max(last[1], box[1])
                last[2], last[3] = min(last[2], box[2]), max(last[3], box[3])
                last[4] = last[4] + box[4]
                continue
        merged.append(box)
    glyphs = []
    for x0, x1, y0, y1, members in merged:
        own = np.isin(labels[y0:y1, x0:x1], members)
        # Keep the anti-aliased rim around the components too: dilate the member mask by one.
        own = cv2.dilate(own.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        glyphs.append(Glyph(x0, x1, y0, y1, np.where(own, strip[y0:y1, x0:x1], 0.0)))
    return glyphs


def _rulings_remove(mask: NDArray[np.uint8], writing_height: int) -> NDArray[np.uint8]:
    """Drop horizontal lines longer than 1.5 writing heights (underlines, printed guides), which
    would otherwise join every digit they touch into one component."""
    length = max(3, int(1.5 * writing_height))
    lines = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    return mask & ~lines.astype(bool)


def glyph_is_digit_sized(glyph: Glyph, max_aspect: float = MAX_DIGIT_ASPECT) -> bool:
    """Whether a glyph is narrow enough to be one digit (wider: touching digits or cursive)."""
    return (glyph.x1 - glyph.x0) <= max_aspect * (glyph.y1 - glyph.y0)


def glyph_crops(glyphs: list[Glyph]) -> NDArray[np.float32]:
    """MNIST-normalized crops float32 [K,28,28] of the glyphs, normalized as boxes are."""
    crops = [
        crop_normalize_mnist(np.round(glyph.ink * 255).astype(np.uint8), ink_is_dark=False)
        for glyph in glyphs
    ]
    return np.stack(crops) if crops else np.zeros((0, 28, 28), np.float32)


@dataclass(frozen=True)
class GlyphReadings:
    """A strip's digit-sized glyphs as the digit model read them: width/height ``aspects`` and
    "not a digit" ``probabilities``; None for a strip without ink."""

    aspects: NDArray[np.float64]
    probabilities: NDArray[np.float64]


def strip_glyph_readings(
    strips: list[NDArray[np.float32]], digit_recognizer
) -> list[GlyphReadings | None]:
    """Cut each strip into glyphs and read its digit-sized ones with the digit model (one batch
    for all strips). ``digit_recognizer`` is a :class:`~ml.infer.digits.DigitRecognizer` whose
    model has the reject class."""
    per_strip: list[list[Glyph] | None] = []
    for strip in strips:
        glyphs = strip_glyphs(strip)
        per_strip.append([g for g in glyphs if glyph_is_digit_sized(g)] if glyphs else None)
    crops = glyph_crops([g for glyphs in per_strip if glyphs for g in glyphs])
    rejected = digit_recognizer.probabilities(crops)[:, 10].astype(np.float64)
    readings: list[GlyphReadings | None] = []
    start = 0
    for glyphs in per_strip:
        if glyphs is None:
            readings.append(None)
            continue
        aspects = np.array([(g.x1 - g.x0) / (g.y1 - g.y0) for g in glyphs], np.float64)
        readings.append(GlyphReadings(aspects, rejected[start : start + len(glyphs)]))
        start += len(glyphs)
    return readings


def reject_scores_from_readings(
    readings: list[GlyphReadings | None], *, glyph_threshold: float, min_aspect: float = 0.0
) -> list[float]:
    """The reject score of each strip from :func:`strip_glyph_readings`: the share of its scored
    glyphs (digit-sized, not thinner than ``min_aspect``) whose "not a digit" probability is
    above ``glyph_threshold``; 1 when it has ink but no scored glyph, 0 without ink."""
    scores = []
    for reading in readings:
        if reading is None:
            scores.append(0.0)
            continue
        scored = reading.aspects >= min_aspect
        if not scored.any():
            scores.append(1.0)
        else:
            scores.append(float((reading.probabilities[scored] > glyph_threshold).mean()))
    return scores


def string_reject_scores(
    strips: list[NDArray[np.float32]],
    digit_recognizer,
    *,
    glyph_threshold: float = 0.5,
    min_aspect: float = 0.0,
) -> list[float]:
    """The reject score in [0, 1] of each strip: the share of its digit-sized glyphs that the
    digit model calls "not a digit" (its not-a-digit probability above ``glyph_threshold``),
    glyphs thinner than ``min_aspect`` times their height left out.

    A strip with ink but no such glyph (a cursive word, a signature, one long scribble) scores
    1; a strip without ink scores 0 (an empty field stays empty). ``digit_recognizer`` is a
    :class:`~ml.infer.digits.DigitRecognizer` whose model has the reject class.
    """
    return reject_scores_from_readings(
        strip_glyph_readings(strips, digit_recognizer),
        glyph_threshold=glyph_threshold,
        min_aspect=min_aspect,
    )
