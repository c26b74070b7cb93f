"""Drawing one field (comb boxes or a digit string) with its handwriting, returning its truth.

Coordinates here are those of the clean page, before degradations; the caller maps them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forms_ocr.synth.digits import DigitImages
from forms_ocr.synth.draw import (
    Ink,
    PageArray,
    alpha_paste,
    alpha_scaled,
    digit_pick,
    hline_draw,
    vline_draw,
)


@dataclass(frozen=True)
class CleanBox:
    x: int
    y: int
    w: int
    h: int
    digit: int | None


@dataclass(frozen=True)
class CleanField:
    kind: str
    style: str
    x: int
    y: int
    w: int
    h: int
    value: str
    boxes: tuple[CleanBox, ...] = ()


@dataclass(frozen=True)
class Hand:
    """Who fills the form in: ``rng`` draws everything handwritten (values, empties, digit images,
    their placement, the pen). ``separate`` says it is not the layout's rng, so the layout must
    not depend on what is written; ``blank`` writes with an invisible pen (the rng still moves
    as if writing, so a blank page keeps the layout of its filled twin)."""

    rng: np.random.Generator
    separate: bool = False
    blank: bool = False

    def ink_draw(self) -> Ink:
        level = float(self.rng.uniform(10, 70))
        # Ink as light as the paper: alpha_paste leaves the page alone.
        return Ink(level=255.0) if self.blank else Ink(level=level)


def border_level_draw(
    rng: np.random.Generator, *, light: bool, share: float, stable: bool
) -> float:
    """The grey of a field's printed borders: dark, or for ``share`` of the fields a light
    "drop-out" colour when ``light``. With ``stable`` the rng moves the same way whether or not
    ``light`` is set, so the rest of the layout does not depend on that flag."""
    if not (light or stable):
        return 30.0
    if rng.random() < share:
        level = float(rng.uniform(150, 195))
        return level if light else 30.0
    return 30.0


@dataclass(frozen=True)
class CombStyle:
    box_w: int
    box_h: int
    thickness: int
    border_level: float
    empty_rate: float
    crossing_rate: float


def comb_draw(
    page: PageArray,
    rng: np.random.Generator,
    digits: DigitImages,
    *,
    x: int,
    y: int,
    count: int,
    style: CombStyle,
    ink: Ink,
    values: list[int | None] | None = None,
) -> CleanField:
    """Draw ``count`` adjacent boxes at (x, y) (line centres) and write digits in some of them."""
    bw, bh, t = style.box_w, style.box_h, style.thickness
    hline_draw(page, x, x + count * bw, y, t, style.border_level)
    hline_draw(page, x, x + count * bw, y + bh, t, style.border_level)
    for i in range(count + 1):
        vline_draw(page, x + i * bw, y, y + bh, t, style.border_level)
    boxes = []
    for i in range(count):
        if values is not None:
            value = values[i]
        else:
            value = None if rng.random() < style.empty_rate else int(rng.integers(0, 10))
        box_x = x + i * bw
        if value is not None:
            digit_in_box_write(page, rng, digits, value, box_x, y, bw, bh, style, ink)
        boxes.append(CleanBox(x=box_x, y=y, w=bw, h=bh, digit=value))
    text = "".join(" " if box.digit is None else str(box.digit) for box in boxes)
    return CleanField("digits", "comb", x, y, count * bw, bh, text, tuple(boxes))


def digit_in_box_write(
    page: PageArray,
    rng: np.random.Generator,
    digits: DigitImages,
    value: int,
    box_x: int,
    box_y: int,
    bw: int,
    bh: int,
    style: CombStyle,
    ink: Ink,
) -> None:
    inner = bh - 2 * style.thickness
    crossing = rng.random() < style.crossing_rate
    height = round(inner * (rng.uniform(0.95, 1.15) if crossing else rng.uniform(0.55, 0.85)))
    alpha = alpha_scaled(digit_pick(digits, rng, value), height)
    # Keep the digit inside its own column so it never spills into the neighbour box.
    alpha = alpha[:, : max(1, bw - 2 * style.thickness)]
    h, w = alpha.shape
    free_x = max(0, bw - w)
    left = box_x + round(free_x * rng.uniform(0.3, 0.7))
    if crossing:
        top = box_y + round(rng.choice([-1, 1]) * rng.uniform(0.05, 0.15) * bh) + (bh - h) // 2
    else:
        top = box_y + round((bh - h) * rng.uniform(0.3, 0.7))
    alpha_paste(page, alpha, left, top, ink)


def string_write(
    page: PageArray,
    rng: np.random.Generator,
    digits: DigitImages,
    *,
    x: int,
    baseline: int,
    max_width: int,
    height: int,
    length: int,
    ink: Ink,
) -> str:
    """Write a string of up to ``length`` digits left to right; return the digits written."""
    text = ""
    cursor = x
    for _ in range(length):
        value = int(rng.integers(0, 10))
        alpha = alpha_scaled(digit_pick(digits, rng, value), round(height * rng.uniform(0.85, 1.1)))
        h, w = alpha.shape
        if cursor + w > x + max_width:
            break
        jitter = round(rng.uniform(-0.06, 0.06) * height)
        alpha_paste(page, alpha, cursor, baseline - h + jitter, ink)
        text += str(value)
        cursor += w + round(rng.uniform(0.0, 0.25) * height)
    return text


def string_field_draw(
    page: PageArray,
    rng: np.random.Generator,
    digits: DigitImages,
    *,
    x: int,
    y: int,
    w: int,
    h: int,
    style: str,
    thickness: int,
    border_level: float,
    ink: Ink,
) -> CleanField:
    """Draw a long rectangle or an underline of ``w`` x ``h`` and write a digit string in it."""
    if style == "rectangle":
        hline_draw(page, x, x + w, y, thickness, border_level)
        hline_draw(page, x, x + w, y + h, thickness, border_level)
        vline_draw(page, x, y, y + h, thickness, border_level)
        vline_draw(page, x + w, y, y + h, thickness, border_level)
        writing_h = round(h * rng.uniform(0.5, 0.7))
        baseline = y + h - round((h - writing_h) * rng.uniform(0.35, 0.55))
    else:
        hline_draw(page, x, x + w, y + h, thickness, border_level)
        writing_h = round(h * rng.uniform(0.6, 0.8))
        baseline = y + h - round(h * rng.uniform(0.03, 0.1))
    margin = round(0.1 * h)
    value = string_write(
        page,
        rng,
        digits,
        x=x + margin + round(rng.uniform(0, 0.2) * w),
        baseline=baseline,
        max_width=w - 2 * margin,
        height=writing_h,
        length=int(rng.integers(3, 11)),
        ink=ink,
    )
    return CleanField("string", style, x, y, w, h, value)
