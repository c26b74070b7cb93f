"""A4 forms: printed title and labels, several comb fields of different lengths, box sizes and
border colours, some boxes empty, and digit-string fields in rectangles or on underlines."""

from __future__ import annotations

import numpy as np

from forms_ocr.synth.digits import DigitImages
from forms_ocr.synth.draw import Ink, hline_draw, text_draw
from forms_ocr.synth.fields import (
    CleanField,
    CombStyle,
    Hand,
    border_level_draw,
    comb_draw,
    string_field_draw,
)

A4_INCHES = (8.27, 11.69)
LABELS = (
    "Account number",
    "Postcode",
    "Date of birth",
    "Customer ID",
    "Phone",
    "Amount",
    "Reference",
    "Branch code",
    "Tax number",
    "Quantity",
    "Invoice",
    "Policy",
)


def form_draw(
    rng: np.random.Generator,
    digits: DigitImages,
    *,
    dpi: int,
    degradations: tuple[str, ...],
    hand: Hand | None = None,
) -> tuple[np.ndarray, list[CleanField]]:
    """Return a clean float32 A4 page (0..255) and its fields, before image degradations.

    ``rng`` draws the layout; ``hand`` (default: the same ``rng``) draws the handwriting.
    """
    hand = hand or Hand(rng)
    unit = dpi / 300.0  # sizes below are pixels at 300 DPI
    width, height = round(A4_INCHES[0] * dpi), round(A4_INCHES[1] * dpi)
    page = np.full((height, width), 255.0, dtype=np.float32)
    margin = round(300 * unit)
    text_draw(page, "APPLICATION FORM", margin, round(380 * unit), round(60 * unit), 20.0)
    hline_draw(page, margin, width - margin, round(440 * unit), max(2, round(4 * unit)), 40.0)
    light = "light_borders" in degradations
    crossing = "crossing" in degradations
    ink = hand.ink_draw()
    fields: list[CleanField] = []
    y = round(560 * unit)
    bottom = height - margin
    while True:
        label_h = round(rng.uniform(28, 40) * unit)
        label_above = rng.random() < 0.4
        field_h = round(rng.uniform(60, 100) * unit)
        row_h = field_h + (round(label_h * 1.8) if label_above else 0)
        if y + row_h > bottom:
            break
        x = margin
        top = y + (round(label_h * 1.8) if label_above else 0)
        for label_index in range(int(rng.integers(1, 3))):
            label = str(rng.choice(LABELS))
            label_end = x
            if label_above:
                label_end = x + text_draw(page, label, x, y + label_h, label_h, 25.0)
            else:
                x += text_draw(page, label, x, top + field_h // 2 + label_h // 2, label_h, 25.0)
                x += round(rng.uniform(30, 60) * unit)
            remaining = width - margin - x
            field = _field_draw(
                page, rng, hand, digits, x=x, y=top, field_h=field_h, remaining=remaining,
                unit=unit, light=light, crossing=crossing, ink=ink, second=label_index > 0,
            )  # fmt: skip
            if field is None:
                break
            fields.append(field)
            x = max(field.x + field.w, label_end) + round(rng.uniform(80, 160) * unit)
            if width - margin - x < 500 * unit:
                break
        y += row_h + round(rng.uniform(90, 160) * unit)
    return page, fields


def _field_draw(
    page: np.ndarray,
    rng: np.random.Generator,
    hand: Hand,
    digits: DigitImages,
    *,
    x: int,
    y: int,
    field_h: int,
    remaining: int,
    unit: float,
    light: bool,
    crossing: bool,
    ink: Ink,
    second: bool,
) -> CleanField | None:
    thickness = max(1, round(rng.uniform(1.5, 4.5) * unit))
    # Drop-out borders: printed in a light colour that some scanners nearly erase.
    border_level = border_level_draw(rng, light=light, share=0.35, stable=hand.separate)
    if rng.random() < 0.7:
        box_w = round(field_h * rng.uniform(0.7, 1.05))
        count = min(int(rng.integers(2, 13)), (remaining - 10) // box_w)
        if second and count > 8:
            count = 8
        if count < 2:
            return None
        style = CombStyle(
            box_w=box_w,
            box_h=field_h,
            thickness=thickness,
            border_level=border_level,
            empty_rate=0.25,
            crossing_rate=0.15 if crossing else 0.0,
        )
        return comb_draw(page, hand.rng, digits, x=x, y=y, count=count, style=style, ink=ink)
    field_w = min(round(rng.uniform(500, 1300) * unit), remaining - 10)
    if field_w < 400 * unit:
        return None
    string_style = "rectangle" if rng.random() < 0.5 else "underline"
    return string_field_draw(
        page, hand.rng, digits, x=x, y=y, w=field_w, h=field_h, style=string_style,
        thickness=thickness, border_level=border_level, ink=ink,
    )  # fmt: skip
