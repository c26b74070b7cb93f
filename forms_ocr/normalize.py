"""Crop normalization: the single implementation used by training, inference and the UI.

Boxes become MNIST-style 28x28 images; strings become 32-pixel-high strips. Both are float32 in
[0, 1] with white ink on a black background, the input contract of the digit and string models.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from forms_ocr.images import FloatImage, GrayImage, grey_percentiles

MNIST_SIZE = 28
MNIST_FIT = 20
# MNIST itself puts the centre of mass at index (14, 14) by an integer shift (std 0.29 px).
MNIST_CENTRE = 14.0
STRING_HEIGHT = 32
STRING_MARGIN = 2
STRING_MIN_WIDTH = 32
# Grey-level difference between the background and the darkest ink for a crop to hold writing;
# below it a crop is paper texture, scanner noise or a faint shadow.
MIN_INK_CONTRAST = 48
# Ink must cover this fraction of the crop (a thin "1" covers several percent of a box).
MIN_INK_FRACTION = 0.004
MIN_INK_PIXELS = 6
# Pixels this far (as a fraction of the contrast) above the background count as ink.
INK_LEVEL = 0.35


def ink_is_dark_detect(crop: GrayImage) -> bool:
    """Return True if the crop shows dark ink on light paper (the paper is the majority)."""
    if crop.size == 0:
        return True
    low, high = int(crop.min()), int(crop.max())
    return float(np.median(crop)) >= (low + high) / 2.0


def _ink_levels(crop: GrayImage, ink_is_dark: bool | None) -> tuple[np.ndarray, int, int]:
    """The crop as ink strength (uint8, 0 = no ink), its background level (the median) and
    its contrast (the darkest ink over the background)."""
    if ink_is_dark is None:
        ink_is_dark = ink_is_dark_detect(crop)
    values = 255 - crop if ink_is_dark else crop
    # The median from the histogram: exact to the grey level, several times cheaper than a sort.
    background = grey_percentiles(values, [50])[0]
    return values, background, int(values.max()) - background


def ink_map(crop: GrayImage, *, ink_is_dark: bool | None = None) -> FloatImage:
    """Return ink strength as float32 (H, W) in [0, 1]: 0 on the background, 1 at the darkest ink.

    The background level is the crop's median, so the crop must be mostly paper.
    """
    return _ink_strength(*_ink_levels(crop, ink_is_dark))


def _ink_strength(values: np.ndarray, background: int, contrast: int) -> FloatImage:
    span = max(float(contrast), 1.0)
    return np.clip((values.astype(np.float32) - background) / span, 0.0, 1.0)


def box_is_empty(
    crop: GrayImage,
    *,
    ink_is_dark: bool | None = None,
    core: tuple[int, int, int, int] | None = None,
) -> bool:
    """Decide whether a box crop holds no writing.

    ``crop`` is (H, W) uint8. A crop is empty when its ink is too faint (contrast below
    ``MIN_INK_CONTRAST`` grey levels) or too scarce (fewer than ``MIN_INK_FRACTION`` of its
    pixels). With ``core`` (x, y, w, h in the crop), only ink connected to that middle part
    counts: a crop that reaches past the box's border also catches the tip of a neighbour's
    digit crossing it and what is left of the border, and neither is writing in this box. An
    empty box must yield no digit, so callers skip recognition for it.
    """
    if crop.size == 0:
        return True
    return _levels_empty(*_ink_levels(crop, ink_is_dark), core=core)


def _levels_empty(
    values: np.ndarray,
    background: int,
    contrast: int,
    *,
    core: tuple[int, int, int, int] | None = None,
) -> bool:
    if contrast < MIN_INK_CONTRAST:
        return True
    ink = values > background + INK_LEVEL * contrast
    if core is None:
        ink_pixels = int(np.count_nonzero(ink))
    else:
        _, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
        x, y, w, h = core
        touching = np.unique(labels[y : y + h, x : x + w])
        ink_pixels = int(stats[touching[touching > 0], cv2.CC_STAT_AREA].sum())
    return ink_pixels < max(MIN_INK_PIXELS, MIN_INK_FRACTION * values.size)


def _ink_bbox(ink: FloatImage) -> tuple[int, int, int, int] | None:
    rows = np.flatnonzero((ink > INK_LEVEL).any(axis=1))
    cols = np.flatnonzero((ink > INK_LEVEL).any(axis=0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _resize(image: FloatImage, width: int, height: int) -> FloatImage:
    shrinking = width < image.shape[1] or height < image.shape[0]
    # Area averaging keeps thin strokes when shrinking; linear is smooth when enlarging.
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interpolation)


def _writing_cut(
    crop: GrayImage,
    *,
    ink_is_dark: bool | None,
    core: tuple[int, int, int, int] | None = None,
) -> FloatImage | None:
    """The ink map of the crop cut to the writing's bounding box, or None for an empty crop
    (see :func:`box_is_empty` for ``core``)."""
    if crop.size == 0:
        return None
    levels = _ink_levels(crop, ink_is_dark)
    if _levels_empty(*levels, core=core):
        return None
    ink = _ink_strength(*levels)
    bbox = _ink_bbox(ink)
    if bbox is None:
        return None
    y0, y1, x0, x1 = bbox
    return ink[y0:y1, x0:x1]


def crop_normalize_mnist(crop: GrayImage, *, ink_is_dark: bool | None = None) -> FloatImage:
    """Normalize a box crop the way MNIST was made.

    ``crop`` is (H, W) uint8, any polarity (auto-detected when ``ink_is_dark`` is None). Returns
    float32 (28, 28) in [0, 1], white ink on black: the writing's bounding box is fitted in
    20x20 keeping its aspect ratio, then shifted so its centre of mass lies at (14, 14). An
    empty crop (see :func:`box_is_empty`) gives all zeros.
    """
    digit = _writing_cut(crop, ink_is_dark=ink_is_dark)
    if digit is None:
        return np.zeros((MNIST_SIZE, MNIST_SIZE), dtype=np.float32)
    return _mnist_fit(digit)


def box_normalize(
    crop: GrayImage,
    *,
    ink_is_dark: bool | None = None,
    core: tuple[int, int, int, int] | None = None,
) -> FloatImage | None:
    """A box crop's MNIST normalization (see :func:`crop_normalize_mnist`), or None when the box
    is empty (see :func:`box_is_empty`, with ``core``): both from one pass over the crop."""
    digit = _writing_cut(crop, ink_is_dark=ink_is_dark, core=core)
    return None if digit is None else _mnist_fit(digit)


def _mnist_fit(digit: FloatImage) -> FloatImage:
    """Writing cut to its bounding box (ink strength), fitted and centred as MNIST's digits."""
    out = np.zeros((MNIST_SIZE, MNIST_SIZE), dtype=np.float32)
    height, width = digit.shape
    scale = MNIST_FIT / max(height, width)
    new_h = max(1, min(MNIST_FIT, round(height * scale)))
    new_w = max(1, min(MNIST_FIT, round(width * scale)))
    digit = _resize(digit, new_w, new_h)
    digit = np.clip(digit / max(float(digit.max()), 1e-6), 0.0, 1.0)
    total = float(digit.sum())
    rows, cols = np.indices(digit.shape)
    centre_y = float((rows * digit).sum()) / total
    centre_x = float((cols * digit).sum()) / total
    top = int(np.clip(round(MNIST_CENTRE - centre_y), 0, MNIST_SIZE - new_h))
    left = int(np.clip(round(MNIST_CENTRE - centre_x), 0, MNIST_SIZE - new_w))
    out[top : top + new_h, left : left + new_w] = digit
    return out


def crop_normalize_string(
    crop: GrayImage, *, ink_is_dark: bool | None = None, max_width: int = 512
) -> FloatImage:
    """Normalize a digit-string crop for the CTC string model.

    ``crop`` is (H, W) uint8, any polarity (auto-detected when ``ink_is_dark`` is None). Returns
    float32 (32, W) in [0, 1], white ink on black, W a multiple of 4 in [32, ``max_width``]:
    the writing is cut to its ink bounding box, scaled to 28 pixels high (2-pixel margins) with
    its width in proportion, and padded right to a multiple of 4. Writing wider than
    ``max_width`` is scaled down to fit. An empty crop gives zeros of shape (32, 32).
    """
    if max_width < STRING_MIN_WIDTH or max_width % 4:
        raise ValueError(f"max_width must be a multiple of 4 >= 32, got {max_width}")
    writing = _writing_cut(crop, ink_is_dark=ink_is_dark)
    if writing is None:
        return np.zeros((STRING_HEIGHT, STRING_MIN_WIDTH), dtype=np.float32)
    height, width = writing.shape
    inner_h = STRING_HEIGHT - 2 * STRING_MARGIN
    scale = min(inner_h / height, (max_width - 2 * STRING_MARGIN) / width)
    new_h = max(1, min(inner_h, round(height * scale)))
    new_w = max(1, min(max_width - 2 * STRING_MARGIN, round(width * scale)))
    writing = _resize(writing, new_w, new_h)
    writing = np.clip(writing / max(float(writing.max()), 1e-6), 0.0, 1.0)
    out_w = max(STRING_MIN_WIDTH, 4 * math.ceil((new_w + 2 * STRING_MARGIN) / 4))
    out_w = min(out_w, max_width)
    out = np.zeros((STRING_HEIGHT, out_w), dtype=np.float32)
    top = (STRING_HEIGHT - new_h) // 2
    out[top : top + new_h, STRING_MARGIN : STRING_MARGIN + new_w] = writing
    return out
