"""Cheques: a light guilloche background, printed labels, a date comb, an account-number comb
and a courtesy amount written in a rectangle."""

from __future__ import annotations

import numpy as np

from forms_ocr.synth.digits import DigitImages
from forms_ocr.synth.draw import hline_draw, text_draw
from forms_ocr.synth.fields import (
    CleanField,
    CombStyle,
    Hand,
    border_level_draw,
    comb_draw,
    string_field_draw,
)

CHEQUE_INCHES = (7.0, 3.2)


def _pattern_draw(page: np.ndarray, rng: np.random.Generator, unit: float) -> None:
    # A security pattern printed far lighter than any border, as on real cheque stock.
    height, width = page.shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    period = float(rng.uniform(40, 70)) * unit
    phase = float(rng.uniform(0, 2 * np.pi))
    wave = np.sin(xs / period + np.sin(ys / (1.7 * period)) * 2.0 + phase)
    level = float(rng.uniform(225, 240))
    np.minimum(page, np.where(np.abs(wave) < 0.06, level, 255.0), out=page)


def cheque_draw(
    rng: np.random.Generator,
    digits: DigitImages,
    *,
    dpi: int,
    degradations: tuple[str, ...],
    hand: Hand | None = None,
) -> tuple[np.ndarray, list[CleanField]]:
    """Return a clean float32 cheque (0..255) and its fields, before image degradations.

    ``rng`` draws the layout; ``hand`` (default: the same ``rng``) draws the handwriting.
    """
    hand = hand or Hand(rng)
    unit = dpi / 300.0
    width, height = round(CHEQUE_INCHES[0] * dpi), round(CHEQUE_INCHES[1] * dpi)
    page = np.full((height, width), 255.0, dtype=np.float32)
    _pattern_draw(page, rng, unit)
    light = "light_borders" in degradations
    crossing = "crossing" in degradations
    ink = hand.ink_draw()
    margin = round(90 * unit)
    text_draw(page, "BANK OF EXAMPLE", margin, round(110 * unit), round(42 * unit), 30.0)
    border_level = border_level_draw(rng, light=light, share=0.5, stable=hand.separate)
    thickness = max(1, round(rng.uniform(1.5, 4.0) * unit))
    fields: list[CleanField] = []

    def comb_style(box_w: int, box_h: int) -> CombStyle:
        return CombStyle(
            box_w=box_w,
            box_h=box_h,
            thickness=thickness,
            border_level=border_level,
            empty_rate=0.1,
            crossing_rate=0.15 if crossing else 0.0,
        )

    # Date: DD MM YYYY in eight boxes at the top right.
    box_h = round(rng.uniform(60, 80) * unit)
    box_w = round(box_h * rng.uniform(0.75, 0.95))
    date_x = width - margin - 8 * box_w
    date_y = round(150 * unit)
    text_draw(page, "DATE", date_x, date_y - round(20 * unit), round(28 * unit), 30.0)
    fields.append(
        comb_draw(
            page,
            hand.rng,
            digits,
            x=date_x,
            y=date_y,
            count=8,
            style=comb_style(box_w, box_h),
            ink=ink,
        )
    )
    # Payee line, printed only: no handwriting is read from it.
    pay_y = round(390 * unit)
    text_draw(page, "PAY", margin, pay_y, round(30 * unit), 30.0)
    hline_draw(page, margin + round(90 * unit), round(width * 0.55), pay_y + 6, thickness, 60.0)
    # Courtesy amount in a rectangle at the right.
    amount_w = round(rng.uniform(480, 620) * unit)
    amount_h = round(rng.uniform(80, 110) * unit)
    amount_x = width - margin - amount_w
    amount_y = round(300 * unit)
    text_draw(page, "AMOUNT", amount_x, amount_y - round(16 * unit), round(26 * unit), 30.0)
    amount = string_field_draw(
        page, hand.rng, digits, x=amount_x, y=amount_y, w=amount_w, h=amount_h,
        style="rectangle", thickness=thickness, border_level=border_level, ink=ink,
    )  # fmt: skip
    fields.append(amount)
    # Account number along the bottom.
    count = int(rng.integers(8, 13))
    acc_h = round(rng.uniform(60, 80) * unit)
    acc_w = round(acc_h * rng.uniform(0.75, 0.95))
    acc_y = height - margin - acc_h
    label = text_draw(page, "ACCOUNT", margin, acc_y + acc_h // 2 + 12, round(28 * unit), 30.0)
    acc_x = margin + label + round(40 * unit)
    count = min(count, (width - margin - acc_x) // acc_w)
    fields.append(
        comb_draw(
            page,
            hand.rng,
            digits,
            x=acc_x,
            y=acc_y,
            count=count,
            style=comb_style(acc_w, acc_h),
            ink=ink,
        )
    )
    return page, fields
