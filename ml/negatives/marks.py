"""Pen marks that are not digits, drawn on a white-on-black canvas (numpy and OpenCV only).

Every function draws into a float32 ink canvas (0 = paper, 1 = full pen) of the given size and
returns it; sizes and stroke widths are fractions of the canvas side, so a mark keeps its
proportions at any resolution. The production normalization then makes a 28x28 crop of it.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

Ink = NDArray[np.float32]  # (H, W) float32 in [0, 1], white ink on black

# OpenCV draws at sub-pixel precision with this many fractional bits.
_SHIFT = 4


def canvas(size: int, width: int | None = None) -> Ink:
    """An empty ink canvas, ``size`` high and ``width`` (default ``size``) wide."""
    return np.zeros((size, width or size), np.float32)


def pen_width(size: int, rng: np.random.Generator) -> int:
    """A pen width in pixels for a canvas ``size`` high: 6-14% of it, as MNIST strokes are."""
    return max(1, round(size * rng.uniform(0.06, 0.14)))


def polyline_draw(ink: Ink, points: NDArray[np.float64], thickness: int) -> Ink:
    """Draw an open polyline through ``points`` float (K, 2) as (x, y) pixels."""
    pts = np.round(points * (1 << _SHIFT)).astype(np.int32)
    cv2.polylines(ink, [pts], False, 1.0, max(1, thickness), cv2.LINE_AA, _SHIFT)
    return ink


def smooth_path(control: NDArray[np.float64], samples_per_segment: int = 12) -> NDArray[np.float64]:
    """A Catmull-Rom spline through ``control`` (K, 2): how a pen joins the points."""
    padded = np.vstack([control[:1], control, control[-1:]])
    t = np.linspace(0, 1, samples_per_segment, endpoint=False)[:, None]
    pieces = []
    for i in range(1, len(padded) - 2):
        p0, p1, p2, p3 = padded[i - 1], padded[i], padded[i + 1], padded[i + 2]
        pieces.append(
            0.5
            * (
                2 * p1
                + (-p0 + p2) * t
                + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2
                + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3
            )
        )
    pieces.append(control[-1:])
    return np.vstack(pieces)


def stroke_draw(size: int, rng: np.random.Generator) -> Ink:
    """One or two curved pen strokes through random points (a hook, a wave, a loop)."""
    ink = canvas(size)
    margin = size * 0.12
    for _ in range(rng.integers(1, 3)):
        # Four or more points: a straight or single-bend stroke would be a 1 or a 7.
        control = rng.uniform(margin, size - margin, size=(rng.integers(4, 7), 2))
        polyline_draw(ink, smooth_path(control), pen_width(size, rng))
    return ink


def scribble_draw(size: int, rng: np.random.Generator) -> Ink:
    """A scribble: fast back-and-forth zigzags or loops over most of the box."""
    ink = canvas(size)
    margin = size * 0.1
    turns = int(rng.integers(5, 18))
    if rng.random() < 0.5:
        # Zigzag: alternate sides with a drift along the other axis.
        side = np.where(np.arange(turns) % 2 == 0, margin, size - margin)
        side = side + rng.normal(0, size * 0.06, turns)
        drift = np.linspace(margin, size - margin, turns) + rng.normal(0, size * 0.04, turns)
        control = np.stack([side, drift], 1)
        if rng.random() < 0.5:
            control = control[:, ::-1]
    else:
        # Loops: a trochoid, the pen circling while it moves across.
        t = np.linspace(0, 2 * math.pi * turns / 3, turns * 6)
        # Small loops travelling across: big ones on the spot would draw a 0.
        radius = size * rng.uniform(0.08, 0.16)
        x = np.linspace(margin + radius, size - margin - radius, t.size) + radius * np.cos(t)
        y = size / 2 + rng.uniform(0.6, 1.4) * radius * np.sin(t)
        control = np.stack([x, y], 1)
    control = np.clip(control, 0, size - 1)
    return polyline_draw(ink, smooth_path(control, 6), max(1, pen_width(size, rng) - 1))


def specks_draw(size: int, rng: np.random.Generator) -> Ink:
    """A few dots of dirt or toner: after normalization one dot fills the 20x20 box."""
    ink = canvas(size)
    for _ in range(rng.integers(1, 6)):
        centre = rng.uniform(size * 0.1, size * 0.9, 2)
        axes = np.maximum(1.0, rng.uniform(0.02, 0.08, 2) * size)
        cv2.ellipse(
            ink,
            (np.round(centre * 16).astype(int).tolist()),
            (np.round(axes * 16).astype(int).tolist()),
            float(rng.uniform(0, 180)),
            0,
            360,
            float(rng.uniform(0.6, 1.0)),
            -1,
            cv2.LINE_AA,
            _SHIFT,
        )
    return ink


def blob_draw(size: int, rng: np.random.Generator) -> Ink:
    """An ink blot or smudge: a filled irregular shape, sometimes smeared."""
    ink = canvas(size)
    count = int(rng.integers(6, 12))
    angles = np.sort(rng.uniform(0, 2 * math.pi, count))
    radius = size * rng.uniform(0.15, 0.4) * rng.uniform(0.6, 1.0, count)
    centre = rng.uniform(size * 0.35, size * 0.65, 2)
    points = centre + np.stack([np.cos(angles), np.sin(angles)], 1) * radius[:, None]
    closed = smooth_path(np.vstack([points, points[:1]]), 6)
    cv2.fillPoly(ink, [np.round(closed * 16).astype(np.int32)], 1.0, cv2.LINE_AA, _SHIFT)
    if rng.random() < 0.5:
        # A smudge: blurred along one direction and fainter.
        length = int(rng.integers(3, max(4, size // 4))) | 1
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1.0 / length
        rotation = cv2.getRotationMatrix2D((length / 2, length / 2), rng.uniform(0, 180), 1)
        kernel = cv2.warpAffine(kernel, rotation, (length, length))
        ink = cv2.filter2D(ink, -1, kernel / max(kernel.sum(), 1e-6))
    return np.clip(ink, 0, 1)


# Which sides of a box each fragment shows: (top, right, bottom, left). A lone vertical side
# and the top-right corner are left out, being a 1 and a 7 after normalization.
_FRAGMENTS = (
    (True, False, False, True),  # top-left corner
    (False, False, True, True),  # bottom-left corner
    (False, True, True, False),  # bottom-right corner
    (True, True, True, False),  # three sides
    (False, True, True, True),
    (True, False, True, True),
    (True, False, False, False),  # a lone horizontal
    (True, False, True, False),  # two rulings
)


def box_fragment_draw(size: int, rng: np.random.Generator) -> Ink:
    """Parts of a printed box or ruling that segmentation left in the crop, or a grid cross."""
    ink = canvas(size)
    thickness = max(1, round(size * rng.uniform(0.03, 0.09)))
    level = float(rng.uniform(0.5, 1.0))
    lo, hi = rng.uniform(0.05, 0.25, 2) * size, size - rng.uniform(0.05, 0.25, 2) * size
    if rng.random() < 0.15:
        # A cross where two rulings meet.
        mid = rng.uniform(0.35, 0.65, 2) * size
        cv2.line(ink, (int(lo[0]), int(mid[1])), (int(hi[0]), int(mid[1])), level, thickness)
        cv2.line(ink, (int(mid[0]), int(lo[1])), (int(mid[0]), int(hi[1])), level, thickness)
        return ink
    top, right, bottom, left = _FRAGMENTS[rng.integers(len(_FRAGMENTS))]
    x0, y0, x1, y1 = int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1])
    if top:
        cv2.line(ink, (x0, y0), (x1, y0), level, thickness)
    if bottom:
        cv2.line(ink, (x0, y1), (x1, y1), level, thickness)
    if left:
        cv2.line(ink, (x0, y0), (x0, y1), level, thickness)
    if right:
        cv2.line(ink, (x1, y0), (x1, y1), level, thickness)
    return ink


def cross_out_draw(ink: Ink, rng: np.random.Generator) -> Ink:
    """Cross out what is on ``ink``: an X, a hatch of 2-4 lines, or a scribble over it.

    A single bar is never drawn: a barred 7 or a slashed 0 is still a digit.
    """
    height, width = ink.shape
    thickness = pen_width(height, rng)
    style = rng.integers(3)
    jitter = rng.uniform(-0.08, 0.08, size=(4, 4)) * height
    if style == 0:
        lines = [(0.1, 0.1, 0.9, 0.9), (0.9, 0.1, 0.1, 0.9)]
    elif style == 1:
        count = int(rng.integers(2, 5))
        angle = rng.uniform(-0.6, 0.6)
        offsets = np.linspace(0.25, 0.75, count)
        lines = [
            (0.05, o - angle * 0.45, 0.95, o + angle * 0.45) for o in offsets
        ]  # near-parallel strokes
    else:
        turns = int(rng.integers(6, 14))
        xs = np.where(np.arange(turns) % 2 == 0, 0.1, 0.9) * width
        ys = np.linspace(0.15, 0.85, turns) * height + rng.normal(0, 0.04 * height, turns)
        return polyline_draw(ink, smooth_path(np.stack([xs, ys], 1), 4), thickness)
    for i, (xa, ya, xb, yb) in enumerate(lines):
        j = jitter[i % 4]
        start = np.array([xa * width + j[0], ya * height + j[1]])
        end = np.array([xb * width + j[2], yb * height + j[3]])
        polyline_draw(ink, np.stack([start, end]), thickness)
    return ink
