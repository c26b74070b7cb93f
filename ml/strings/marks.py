"""Everything on a written number that is not a digit: separators, strokes, lines and paper.

Handwritten marks are drawn into the float32 *ink* layer (0 = none, 1 = full pen) so they go
through the same pen colour as the digits; printed lines and paper patterns are drawn into the
*paper* layer (grey levels 0..255). Sizes are given as fractions of the digit height ``h`` so
the marks keep their proportions at any rendering scale.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

InkLayer = NDArray[np.float32]  # (H, W) float32 in [0, 1], 1 = full pen stroke
PaperLayer = NDArray[np.float32]  # (H, W) float32 grey levels 0..255

# Separators written between digit groups, and strokes written before or after a number.
SEPARATORS = (".", ",", "-", "/", " ")
AFFIXES = ("-", "=", "/", "//", "--", "long-dash", "hash")
# OpenCV draws at sub-pixel precision with this many fractional bits.
_SHIFT = 4
_ONE = 1 << _SHIFT


def _point(x: float, y: float) -> tuple[int, int]:
    return round(x * _ONE), round(y * _ONE)


def _stroke(ink: InkLayer, points: list[tuple[float, float]], thickness: int) -> None:
    pts = np.array([_point(x, y) for x, y in points], dtype=np.int32)
    cv2.polylines(ink, [pts], False, 1.0, max(1, thickness), cv2.LINE_AA, _SHIFT)


def mark_width(mark: str, h: float) -> float:
    """Horizontal room (pixels) a separator or affix takes at digit height ``h``."""
    return {
        ".": 0.3,
        ",": 0.3,
        "-": 0.55,
        "/": 0.65,
        " ": 0.35,
        "=": 0.6,
        "//": 1.1,
        "--": 0.9,
        "long-dash": 1.4,
        "hash": 0.7,
    }[mark] * h


def mark_draw(
    ink: InkLayer,
    mark: str,
    x: float,
    baseline: float,
    h: float,
    thickness: int,
    rng: np.random.Generator,
) -> None:
    """Write ``mark`` by hand into ``ink`` starting at column ``x``, on ``baseline``, height ``h``.

    Each stroke gets a little random tilt and length, as a pen would.
    """
    width = mark_width(mark, h)
    wobble = rng.uniform(-0.05, 0.05) * h
    mid = baseline - rng.uniform(0.35, 0.55) * h
    if mark == ".":
        radius = max(1.0, rng.uniform(0.05, 0.09) * h)
        centre = _point(x + width / 2, baseline - radius)
        cv2.circle(ink, centre, round(radius * _ONE), 1.0, -1, cv2.LINE_AA, _SHIFT)
    elif mark == ",":
        top = baseline - rng.uniform(0.05, 0.15) * h
        _stroke(ink, [(x + width * 0.6, top), (x + width * 0.3, baseline + 0.2 * h)], thickness)
    elif mark in ("-", "--", "long-dash"):
        y = (
            baseline - rng.uniform(0.0, 0.1) * h
            if mark == "long-dash" and rng.random() < 0.5
            else mid
        )
        pieces = 2 if mark == "--" else 1
        step = width / pieces
        for i in range(pieces):
            x0 = x + i * step + 0.1 * step
            _stroke(ink, [(x0, y + wobble), (x0 + 0.8 * step, y - wobble)], thickness)
    elif mark == "=":
        gap = rng.uniform(0.15, 0.25) * h
        for dy in (-gap / 2, gap / 2):
            _stroke(
                ink, [(x + 0.1 * width, mid + dy + wobble), (x + 0.9 * width, mid + dy)], thickness
            )
    elif mark in ("/", "//"):
        pieces = 2 if mark == "//" else 1
        step = width / pieces
        for i in range(pieces):
            x0 = x + i * step
            _stroke(
                ink, [(x0, baseline + 0.05 * h), (x0 + step * 0.9, baseline - 0.95 * h)], thickness
            )
    elif mark == "hash":
        # A crossed double bar some writers put before a number to stop additions.
        for dx in (0.3, 0.6):
            _stroke(
                ink,
                [(x + dx * width, baseline), (x + (dx + 0.15) * width, baseline - 0.8 * h)],
                thickness,
            )
        for dy in (0.3, 0.55):
            _stroke(
                ink, [(x, baseline - dy * h), (x + width, baseline - dy * h + wobble)], thickness
            )
    elif mark != " ":
        raise ValueError(f"unknown mark {mark!r}")


def underline_draw(
    ink: InkLayer, x0: float, x1: float, y: float, thickness: int, rng: np.random.Generator
) -> None:
    """A hand-drawn line under the number, slightly tilted and curved."""
    sag = rng.uniform(-2.0, 2.0)
    tilt = rng.uniform(-2.0, 2.0)
    points = [
        (x0 + (x1 - x0) * t, y + tilt * (t - 0.5) + sag * 4 * t * (1 - t))
        for t in np.linspace(0, 1, 6)
    ]
    _stroke(ink, points, thickness)


def printed_lines_draw(
    paper: PaperLayer,
    box: tuple[float, float, float, float],
    rng: np.random.Generator,
    kind: str,
) -> None:
    """Draw the printed frame of a field around the writing ``box`` = (x0, top, x1, baseline).

    ``kind`` is ``guide`` (a line under the writing across the whole crop, like a cheque's
    amount line), ``box`` (a rectangle around it, like the courtesy-amount box), ``comb-edge``
    (a border cut by the crop on the left or right) or ``dotted`` (a dotted guide line).
    """
    height, width = paper.shape
    level = float(rng.uniform(40, 150))
    thickness = int(rng.integers(1, 3))
    x0, top, x1, baseline = box
    if kind == "guide":
        y = round(baseline + rng.uniform(0.0, 0.15) * (baseline - top))
        y = min(y, height - 1 - thickness)
        paper[y : y + thickness, :] = np.minimum(paper[y : y + thickness, :], level)
    elif kind == "dotted":
        y = min(round(baseline + rng.uniform(0.02, 0.15) * (baseline - top)), height - 2)
        period = int(rng.integers(3, 7))
        paper[y : y + thickness, ::period] = np.minimum(paper[y : y + thickness, ::period], level)
    elif kind == "box":
        pad = rng.uniform(0.1, 0.35) * (baseline - top)
        left, right = max(0, round(x0 - pad)), min(width - 1, round(x1 + pad))
        upper, lower = max(0, round(top - pad)), min(height - 1, round(baseline + pad))
        cv2.rectangle(paper, (left, upper), (right, lower), level, thickness)
    elif kind == "comb-edge":
        x = 0 if rng.random() < 0.5 else width - thickness
        upper = max(0, round(top - rng.uniform(0, 0.3) * (baseline - top)))
        lower = min(height, round(baseline + rng.uniform(0, 0.3) * (baseline - top)))
        paper[upper:lower, x : x + thickness] = np.minimum(
            paper[upper:lower, x : x + thickness], level
        )
    else:
        raise ValueError(f"unknown printed line kind {kind!r}")


PRINTED_KINDS = ("guide", "box", "comb-edge", "dotted")
PATTERNS = ("plain", "tint", "diagonal", "guilloche", "dots", "gradient")


def paper_make(height: int, width: int, rng: np.random.Generator, pattern: str) -> PaperLayer:
    """Paper grey levels (H, W) float32: white or tinted, optionally with a security pattern.

    Pattern contrast stays well below the ink's (at most about 45 grey levels), as on real
    cheques, where the pattern must not hide the writing.
    """
    base = float(rng.uniform(225, 255)) if pattern == "plain" else float(rng.uniform(185, 245))
    paper = np.full((height, width), base, dtype=np.float32)
    if pattern in ("plain", "tint"):
        return paper
    amplitude = float(rng.uniform(10, 45))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    if pattern == "diagonal":
        period = rng.uniform(3, 9)
        angle = rng.uniform(0, math.pi)
        phase = (xs * math.cos(angle) + ys * math.sin(angle)) * (2 * math.pi / period)
        paper -= amplitude * (0.5 + 0.5 * np.cos(phase)) ** 3
    elif pattern == "guilloche":
        freq = rng.uniform(0.15, 0.5)
        wave = np.sin(xs * freq * 0.3 + 3 * np.sin(ys * 0.2 + xs * 0.05 * freq))
        paper -= amplitude * (np.abs(wave) < 0.2)
    elif pattern == "dots":
        period = int(rng.integers(4, 9))
        mask = (ys.astype(np.int32) % period == 0) & (xs.astype(np.int32) % period == 0)
        paper -= amplitude * mask
    elif pattern == "gradient":
        direction = rng.uniform(-1, 1, size=2)
        paper -= amplitude * (0.5 + 0.5 * (direction[0] * xs / width + direction[1] * ys / height))
    else:
        raise ValueError(f"unknown paper pattern {pattern!r}")
    return paper
