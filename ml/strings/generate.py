"""Synthetic handwritten digit strings composed from real handwritten digits.

A string is laid out as a sequence of digits and marks: per-digit scale, aspect, baseline and
stroke-width changes, gaps from overlapping to wide, optional separators (``1,234.56``,
``12/05/2024``), strokes before or after the number (``=1234=``), an underline, printed guide
lines or box borders, tinted or patterned paper, slant, blur, noise and JPEG. The raw grey
image (dark ink on light paper, as scanned) goes through the production normalization
:func:`forms_ocr.normalize.crop_normalize_string`, so the model trains on exactly what it sees
in production. The label is the digits only; marks never appear in it.

Deterministic: the same digits, style and seed give the same strings. numpy and OpenCV only.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import cv2
import numpy as np
from numpy.typing import NDArray

from forms_ocr.normalize import crop_normalize_string
from ml.strings import MAX_WIDTH
from ml.strings.marks import (
    AFFIXES,
    PATTERNS,
    PRINTED_KINDS,
    mark_draw,
    mark_width,
    paper_make,
    printed_lines_draw,
    underline_draw,
)

logger = logging.getLogger(__name__)

# Maps a batch of uint8 (K, 28, 28) digits to distorted digits of the same shape and dtype.
DigitTransform = Callable[[NDArray[np.uint8]], NDArray[np.uint8]]


@dataclass(frozen=True)
class StringStyle:
    """How generated strings look. Fractions are of the digit height; probabilities are per string.

    ``gap_range`` bounds the space between neighbouring digits' ink boxes (negative overlaps);
    ``touching_prob`` is the chance of a gap at or below zero. The ``*_prob`` of marks and
    backgrounds are zero in the plain style and high in the cheque style.
    """

    name: str = "plain"
    min_length: int = 1
    max_length: int = 12
    digit_height: tuple[int, int] = (24, 36)
    scale_jitter: float = 0.12
    aspect_jitter: float = 0.12
    baseline_jitter: float = 0.07
    gap_range: tuple[float, float] = (-0.12, 0.45)
    touching_prob: float = 0.25
    slant_deg: float = 15.0
    stroke_change_prob: float = 0.35
    separator_prob: float = 0.0
    affix_prob: float = 0.0
    underline_prob: float = 0.0
    printed_prob: float = 0.0
    pattern_prob: float = 0.0
    noise_max: float = 8.0
    blur_prob: float = 0.5
    blur_max: float = 1.0
    jpeg_prob: float = 0.1

    def __post_init__(self) -> None:
        if not 1 <= self.min_length <= self.max_length:
            raise ValueError(
                f"need 1 <= min_length <= max_length, got {self.min_length}, {self.max_length}"
            )


PLAIN_STYLE = StringStyle()
# Cheque-style writing: separators, strokes before and after, lines, patterned paper.
CHEQUE_STYLE = StringStyle(
    name="cheque",
    separator_prob=0.8,
    affix_prob=0.5,
    underline_prob=0.3,
    printed_prob=0.6,
    pattern_prob=0.8,
)
STYLES = {"plain": PLAIN_STYLE, "cheque": CHEQUE_STYLE}


@dataclass(frozen=True)
class StringSample:
    """One generated string.

    ``image`` float32 (32, W) in [0, 1], white ink on black, W a multiple of 4 (the model
    input); ``text`` the digits written, marks excluded; ``raw`` the uint8 grey scan before
    normalization (dark ink on light paper); ``layout`` the tokens drawn, e.g. ``"=1,234.56"``.
    """

    image: NDArray[np.float32]
    text: str
    raw: NDArray[np.uint8]
    layout: str
    style: str


def _ink_crop(image: NDArray[np.uint8]) -> NDArray[np.float32]:
    alpha = image.astype(np.float32) / 255.0
    rows = np.flatnonzero(alpha.max(axis=1) > 0.1)
    cols = np.flatnonzero(alpha.max(axis=0) > 0.1)
    if rows.size == 0:
        return alpha
    return alpha[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def layout_tokens(text: str, style: StringStyle, rng: np.random.Generator) -> list[str]:
    """Interleave the digits of ``text`` with separators and affixes, as people write numbers.

    Returns one token per digit or mark, e.g. ``["=", "1", ",", "2", "3", "4"]``.
    """
    tokens: list[str] = list(text)
    n = len(text)
    if n >= 2 and rng.random() < style.separator_prob:
        kind = (
            rng.choice(["amount", "date", "grouped"])
            if n in (4, 6, 8)
            else rng.choice(["amount", "grouped"])
        )
        separators: dict[int, str] = {}  # position in text -> separator written before it
        if kind == "amount" and n >= 3:
            decimal, thousands = (".", ",") if rng.random() < 0.5 else (",", ".")
            if rng.random() < 0.3:
                thousands = " "
            separators[n - 2] = decimal
            for pos in range(n - 5, 0, -3):
                separators[pos] = thousands
        elif kind == "date":
            mark = str(rng.choice(["/", "-", "."]))
            separators = {2: mark, 4: mark} if n >= 6 else {2: mark}
        else:
            for pos in rng.choice(
                np.arange(1, n), size=min(n - 1, int(rng.integers(1, 4))), replace=False
            ):
                separators[int(pos)] = str(rng.choice(["-", " ", "/", ".", ","]))
        tokens = []
        for pos, digit in enumerate(text):
            if pos in separators:
                tokens.append(separators[pos])
            tokens.append(digit)
    if rng.random() < style.affix_prob:
        tokens.insert(0, str(rng.choice(AFFIXES)))
    if rng.random() < style.affix_prob:
        tokens.append(str(rng.choice(AFFIXES)))
    return tokens


def string_render(
    text: str,
    digit_images: NDArray[np.uint8],
    style: StringStyle,
    rng: np.random.Generator,
) -> tuple[NDArray[np.uint8], str]:
    """Write the digits ``text`` with one 28x28 image per digit; return (raw scan, layout).

    ``digit_images`` uint8 (len(text), 28, 28), white ink on black, shows the digits of ``text``
    in order. The raw scan is uint8 (H, W), dark ink on light paper, with the marks, lines,
    paper and degradations of ``style``.
    """
    h = float(rng.uniform(*style.digit_height))
    pen = max(1, round(h * rng.uniform(0.06, 0.11)))
    tokens = layout_tokens(text, style, rng)
    margin_top, margin_bottom = 0.45 * h, 0.55 * h
    baseline = margin_top + h
    canvas_h = math.ceil(baseline + margin_bottom)
    pieces: list[tuple[float, float, NDArray[np.float32]]] = []  # (x, top, alpha)
    marks: list[tuple[float, str]] = []
    cursor = float(rng.uniform(0.2, 0.6) * h)
    digit_iter = iter(digit_images)
    previous_was_digit = False
    for token in tokens:
        if token.isdigit():
            alpha = _ink_crop(next(digit_iter))
            digit_h = h * (1 + rng.uniform(-style.scale_jitter, style.scale_jitter))
            aspect = 1 + rng.uniform(-style.aspect_jitter, style.aspect_jitter)
            # MNIST digits fill 20 of 28 rows; a "1" or a "7" may be shorter, keep its proportion.
            digit_h *= alpha.shape[0] / 20.0 if alpha.shape[0] < 20 else 1.0
            new_h = max(2, round(digit_h))
            new_w = max(1, round(alpha.shape[1] * new_h / alpha.shape[0] * aspect))
            alpha = cv2.resize(alpha, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
            if rng.random() < style.stroke_change_prob:
                kernel = np.ones((2, 2), np.uint8)
                alpha = (
                    cv2.dilate(alpha, kernel) if rng.random() < 0.6 else cv2.erode(alpha, kernel)
                )
            if previous_was_digit:
                if rng.random() < style.touching_prob:
                    gap = rng.uniform(style.gap_range[0], 0.0)
                else:
                    gap = rng.uniform(0.02, style.gap_range[1])
                cursor += gap * h
            jitter = rng.uniform(-style.baseline_jitter, style.baseline_jitter) * h
            pieces.append((cursor, baseline - new_h + jitter, alpha))
            cursor += new_w
            previous_was_digit = True
        else:
            cursor += rng.uniform(0.05, 0.3) * h
            marks.append((cursor, token))
            cursor += mark_width(token, h) + rng.uniform(0.05, 0.3) * h
            previous_was_digit = False
    canvas_w = math.ceil(cursor + rng.uniform(0.2, 0.6) * h)
    ink = np.zeros((canvas_h, canvas_w), dtype=np.float32)
    for x, top, alpha in pieces:
        x0, y0 = round(x), max(0, round(top))
        patch = alpha[: canvas_h - y0, : canvas_w - x0]
        region = ink[y0 : y0 + patch.shape[0], x0 : x0 + patch.shape[1]]
        np.maximum(region, patch, out=region)
    for x, token in marks:
        mark_draw(ink, token, x, baseline, h, pen, rng)
    digits_left = pieces[0][0]
    digits_right = pieces[-1][0] + pieces[-1][2].shape[1]
    if rng.random() < style.underline_prob:
        y = baseline + rng.uniform(0.1, 0.35) * h
        underline_draw(ink, digits_left - 0.2 * h, digits_right + 0.2 * h, y, pen, rng)
    ink = _slant(ink, baseline, float(rng.uniform(-style.slant_deg, style.slant_deg)))
    pattern = str(rng.choice(PATTERNS[1:])) if rng.random() < style.pattern_prob else "plain"
    paper = paper_make(ink.shape[0], ink.shape[1], rng, pattern)
    if rng.random() < style.printed_prob:
        kind = str(rng.choice(PRINTED_KINDS))
        printed_lines_draw(paper, (digits_left, baseline - h, digits_right, baseline), rng, kind)
    ink_level = float(rng.uniform(0, 90))
    page = paper - np.clip(ink, 0.0, 1.0) * (paper - ink_level)
    page = _scan_degrade(page, style, rng)
    layout = "".join(t if len(t) == 1 else f"[{t}]" for t in tokens)
    return page, layout


def _slant(ink: NDArray[np.float32], baseline: float, degrees: float) -> NDArray[np.float32]:
    # Shear about the baseline so slanted writing leans without drifting off the canvas.
    shear = math.tan(math.radians(degrees))
    height, width = ink.shape
    extra = math.ceil(abs(shear) * height)
    # Shifts span shear * (baseline - y) for y in [0, height); move them all to >= 0.
    offset = shear * (height - baseline) if shear > 0 else -shear * baseline
    matrix = np.float32([[1, -shear, shear * baseline + offset], [0, 1, 0]])
    return cv2.warpAffine(ink, matrix, (width + extra, height), flags=cv2.INTER_LINEAR)


def _scan_degrade(
    page: NDArray[np.float32], style: StringStyle, rng: np.random.Generator
) -> NDArray[np.uint8]:
    if rng.random() < style.blur_prob:
        page = cv2.GaussianBlur(page, (0, 0), float(rng.uniform(0.3, style.blur_max)))
    if style.noise_max > 0:
        page = page + rng.normal(0.0, rng.uniform(0, style.noise_max), size=page.shape).astype(
            np.float32
        )
    raw = np.clip(page, 0, 255).astype(np.uint8)
    if rng.random() < style.jpeg_prob:
        ok, encoded = cv2.imencode(
            ".jpg", raw, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(40, 90))]
        )
        if ok:
            raw = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)
    return raw


class StringGenerator:
    """Endless, reproducible synthetic strings from a pool of labelled digit images.

    ``images`` uint8 (N, 28, 28) white ink on black and ``labels`` (N,) in 0..9 form the pool:
    pass MNIST train (or its train/validation part) for training and validation, MNIST test for
    test strings. Each string picks its style: ``cheque_style`` with probability
    ``cheque_fraction``, else ``style``. ``digit_transform`` (optional) distorts the picked
    digits in batches, e.g. with :func:`ml.augment.augment_batch` during training.
    """

    def __init__(
        self,
        images: NDArray[np.uint8],
        labels: NDArray[np.integer],
        *,
        seed: int,
        style: StringStyle = PLAIN_STYLE,
        cheque_style: StringStyle = CHEQUE_STYLE,
        cheque_fraction: float = 0.0,
        digit_transform: DigitTransform | None = None,
    ) -> None:
        if images.ndim != 3 or images.dtype != np.uint8 or len(images) != len(labels):
            raise ValueError(
                f"need uint8 images (N, H, W) and N labels, got {images.dtype} {images.shape}"
            )
        self.images = images
        self.by_label = [np.flatnonzero(np.asarray(labels) == d) for d in range(10)]
        missing = [d for d in range(10) if self.by_label[d].size == 0]
        if missing:
            raise ValueError(f"the digit pool has no image of {missing}")
        self.style = style
        self.cheque_style = cheque_style
        self.cheque_fraction = cheque_fraction
        self.digit_transform = digit_transform
        self.rng = np.random.default_rng(seed)

    def _pick(self, text: str) -> NDArray[np.int64]:
        return np.array([self.rng.choice(self.by_label[int(c)]) for c in text], dtype=np.int64)

    def batch(self, n: int) -> list[StringSample]:
        """Generate ``n`` strings; lengths are uniform in the style's range."""
        styles = [
            self.cheque_style if self.rng.random() < self.cheque_fraction else self.style
            for _ in range(n)
        ]
        texts = [
            "".join(
                map(
                    str,
                    self.rng.integers(
                        0, 10, int(self.rng.integers(s.min_length, s.max_length + 1))
                    ),
                )
            )
            for s in styles
        ]
        indices = [self._pick(text) for text in texts]
        flat = np.concatenate(indices) if indices else np.zeros(0, np.int64)
        digits = self.images[flat]
        if self.digit_transform is not None and len(flat):
            digits = self.digit_transform(digits)
        samples = []
        start = 0
        for text, style in zip(texts, styles, strict=True):
            chunk = digits[start : start + len(text)]
            start += len(text)
            samples.append(self._sample(text, chunk, style))
        return samples

    def _sample(self, text: str, digits: NDArray[np.uint8], style: StringStyle) -> StringSample:
        for _ in range(5):
            raw, layout = string_render(text, digits, style, self.rng)
            image = crop_normalize_string(raw, max_width=MAX_WIDTH)
            # An all-black result means the normalization found no writing (a faint pen on a
            # busy pattern); draw again rather than teach the model to read digits in nothing.
            if image.max() > 0:
                return StringSample(image, text, raw, layout, style.name)
            style = replace(style, pattern_prob=0.0)
        raise RuntimeError(f"could not render a readable string for {text!r}")
