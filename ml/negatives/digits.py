"""Negatives made from real handwritten digits: crossed out, overwritten, merged, cut by a border.

Digits come in as MNIST images (uint8 [28, 28], white on black) of the caller's split, so train
negatives never show a validation or test digit. Each function returns a float32 ink canvas
(white on black, 0..1) for the production normalization.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from ml.negatives.marks import Ink, cross_out_draw

# Digits are enlarged to this canvas so crossing strokes are drawn at a finer pen.
DIGIT_CANVAS = 56


def digit_ink(digit: NDArray[np.uint8], size: int = DIGIT_CANVAS) -> Ink:
    """An MNIST digit uint8 (28, 28) as a float32 ink canvas ``size`` x ``size``."""
    return cv2.resize(digit.astype(np.float32) / 255.0, (size, size), cv2.INTER_LINEAR)


def _ink_columns(ink: Ink) -> tuple[int, int]:
    cols = np.flatnonzero(ink.max(axis=0) > 0.3)
    return (int(cols[0]), int(cols[-1]) + 1) if cols.size else (0, ink.shape[1])


def crossed_out_draw(digit: NDArray[np.uint8], rng: np.random.Generator) -> Ink:
    """A digit struck through by an X, a hatch or a scribble."""
    ink = digit_ink(digit)
    return np.maximum(ink, cross_out_draw(np.zeros_like(ink), rng))


def overwritten_draw(
    first: NDArray[np.uint8], second: NDArray[np.uint8], rng: np.random.Generator
) -> Ink:
    """Two different digits written on top of each other (a correction written over)."""
    base = digit_ink(first)
    over = digit_ink(second)
    size = base.shape[0]
    scale = rng.uniform(0.85, 1.15)
    shift = rng.uniform(-0.1, 0.1, 2) * size
    matrix = cv2.getRotationMatrix2D((size / 2, size / 2), rng.uniform(-10, 10), scale)
    matrix[:, 2] += shift
    over = cv2.warpAffine(over, matrix, (size, size))
    return np.maximum(base, over)


def merged_draw(
    first: NDArray[np.uint8], second: NDArray[np.uint8], rng: np.random.Generator
) -> Ink:
    """Two digits squeezed into one box: side by side, touching or overlapping a little."""
    left, right = digit_ink(first), digit_ink(second)
    size = left.shape[0]
    _, left_end = _ink_columns(left)
    right_start, _ = _ink_columns(right)
    # Gap between the two inks, as a fraction of the height: negative overlaps them.
    gap = round(rng.uniform(-0.15, 0.08) * size)
    offset = max(0, left_end + gap - right_start)
    rise = round(rng.uniform(-0.1, 0.1) * size)
    out = np.zeros((size + abs(rise), offset + size), np.float32)
    top_left, top_right = max(0, rise), max(0, -rise)
    out[top_left : top_left + size, :size] = left
    region = out[top_right : top_right + size, offset : offset + size]
    np.maximum(region, right, out=region)
    return out


def cut_draw(
    digit: NDArray[np.uint8], rng: np.random.Generator, *, draw_border: bool | None = None
) -> Ink:
    """A digit of which a box border hides 30-70% of its height or width, from one side.

    ``draw_border`` also draws the border line at the cut (random when None).
    """
    ink = digit_ink(digit)
    size = ink.shape[0]
    fraction = rng.uniform(0.3, 0.7)
    # Sides 0-3: top, bottom, left, right; top and bottom borders cut more digits in comb boxes.
    side = rng.choice(4, p=[0.35, 0.35, 0.15, 0.15])
    thickness = max(1, round(size * 0.05))
    level = float(rng.uniform(0.6, 1.0))
    across_columns = side >= 2
    # A transposed view cuts columns with the same code that cuts rows.
    work = ink.T if across_columns else ink
    lines = np.flatnonzero(work.max(axis=1) > 0.3)
    if lines.size == 0:
        return ink
    extent = lines[-1] + 1 - lines[0]
    if side in (0, 2):
        cut = round(lines[0] + extent * fraction)
        work[:cut] = 0
    else:
        cut = round(lines[-1] + 1 - extent * fraction)
        work[cut:] = 0
    line = ((cut, 0), (cut, size - 1)) if across_columns else ((0, cut), (size - 1, cut))
    if draw_border is None:
        draw_border = bool(rng.random() < 0.5)
    if draw_border:
        cv2.line(ink, line[0], line[1], level, thickness)
    return ink
