"""Ink and ruling-line masks of a deskewed page."""

from __future__ import annotations

import cv2
import numpy as np

from forms_ocr.images import BinaryMask, GrayImage, area_shrink


def illumination_normalize(gray: GrayImage) -> GrayImage:
    """Divide out uneven lighting: the page over its large-scale background, paper -> 255."""
    # The background is the page with its ink closed over (a 31-pixel closing at 300 DPI), then
    # smoothed. It varies slowly, so it is found on a quarter-size copy: an 8-pixel closing
    # there, a sigma-15/4 blur, then scaled back up, at a fraction of the full-size cost.
    small = area_shrink(gray, 4)
    small = cv2.morphologyEx(small, cv2.MORPH_CLOSE, np.ones((8, 8), np.uint8))
    small = cv2.GaussianBlur(small, (0, 0), 15 / 4)
    background = cv2.resize(small, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)
    return cv2.divide(gray, background, scale=255)


def ink_mask(
    gray: GrayImage, *, block: int, offset: int = 12, despeckle: bool = True
) -> BinaryMask:
    """255 where a pixel is darker than its neighbourhood by more than `offset` grey levels.

    A small offset keeps light ("drop-out") printed borders; with `despeckle` isolated dots are
    removed afterwards (and with them one-pixel-thin lines).
    """
    block = block | 1
    mask = cv2.adaptiveThreshold(
        gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, offset
    )
    if not despeckle:
        return mask
    # Isolated dots of scan noise: an opening with a 2x2 square removes them, strokes survive.
    return cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))


def rule_ink_mask(gray: GrayImage, *, block: int) -> BinaryMask:
    """The ink mask that printed rules are found in (see :func:`line_mask`). No despeckling:
    the long openings remove specks anyway, and a 2x2 opening would erase the one-pixel rules of
    a thin comb printed at 150 DPI."""
    return ink_mask(gray, block=block, despeckle=False)


def line_mask(mask: BinaryMask, *, min_length: int, vertical: bool = False) -> BinaryMask:
    """The horizontal (or `vertical`) straight strokes of an ink `mask`, at least `min_length`
    pixels long."""
    size = (1, min_length) if vertical else (min_length, 1)
    return cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, size))


def line_masks(gray: GrayImage, *, block: int, min_length: int) -> tuple[BinaryMask, BinaryMask]:
    """(horizontal, vertical) masks of straight strokes at least `min_length` pixels long, from
    the ink of a (deskewed, illumination-normalized) page."""
    mask = rule_ink_mask(gray, block=block)
    return (
        line_mask(mask, min_length=min_length),
        line_mask(mask, min_length=min_length, vertical=True),
    )
