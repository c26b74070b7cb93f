"""Drawing primitives of the generator: printed lines and text, handwritten digits.

All drawing works on float32 pages (0 = black, 255 = white) so layers compose by darkening.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from forms_ocr.synth.digits import DigitImages

PageArray = np.ndarray  # (H, W) float32, 0..255


@dataclass(frozen=True)
class Ink:
    """A pen: ``level`` is the grey of full-strength ink (0 = black)."""

    level: float


def digit_pick(digits: DigitImages, rng: np.random.Generator, value: int) -> np.ndarray:
    """Return a random image of ``value`` as float32 alpha (h, w) cut to its ink, in [0, 1]."""
    choices = np.flatnonzero(digits.labels == value)
    if choices.size == 0:
        choices = np.arange(len(digits))
    image = digits.images[int(rng.choice(choices))].astype(np.float32) / 255.0
    rows = np.flatnonzero(image.max(axis=1) > 0.1)
    cols = np.flatnonzero(image.max(axis=0) > 0.1)
    return image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def alpha_scaled(alpha: np.ndarray, height: int) -> np.ndarray:
    """Scale a digit alpha map to ``height`` pixels, keeping aspect, with crisp pen edges."""
    scale = height / alpha.shape[0]
    width = max(1, round(alpha.shape[1] * scale))
    big = cv2.resize(alpha, (width, max(1, height)), interpolation=cv2.INTER_CUBIC)
    # Upscaled MNIST is blurry; a contrast stretch gives the sharp edge of a real pen stroke.
    return np.clip((big - 0.25) / 0.45, 0.0, 1.0)


def alpha_paste(page: PageArray, alpha: np.ndarray, x: int, y: int, ink: Ink) -> None:
    """Darken ``page`` with ``alpha`` placed at top-left (x, y), clipped to the page."""
    if ink.level >= 255.0:
        # An invisible pen (a blank page): blending white into white in float32 can round to
        # 254.99 and leave ghost pixels, so do not blend at all.
        return
    h, w = alpha.shape
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(page.shape[1], x + w), min(page.shape[0], y + h)
    if x1 <= x0 or y1 <= y0:
        return
    patch = alpha[y0 - y : y1 - y, x0 - x : x1 - x]
    region = page[y0:y1, x0:x1]
    written = region * (1.0 - patch) + ink.level * patch
    page[y0:y1, x0:x1] = np.minimum(region, written)


def text_draw(page: PageArray, text: str, x: int, y: int, height: int, level: float) -> int:
    """Print ``text`` with its baseline at ``y``, cap height about ``height``; return its width."""
    scale = height / 22.0
    thickness = max(1, round(scale * 1.6))
    layer = np.full_like(page, 255.0)
    cv2.putText(layer, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, level, thickness, cv2.LINE_AA)
    np.minimum(page, layer, out=page)
    (width, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    return int(width)


def hline_draw(page: PageArray, x0: int, x1: int, y: int, thickness: int, level: float) -> None:
    top = y - thickness // 2
    page[top : top + thickness, x0 - thickness // 2 : x1 + (thickness + 1) // 2] = np.minimum(
        page[top : top + thickness, x0 - thickness // 2 : x1 + (thickness + 1) // 2], level
    )


def vline_draw(page: PageArray, x: int, y0: int, y1: int, thickness: int, level: float) -> None:
    left = x - thickness // 2
    region = page[y0 - thickness // 2 : y1 + (thickness + 1) // 2, left : left + thickness]
    np.minimum(region, level, out=region)
