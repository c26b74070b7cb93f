"""String-field negatives: strips holding writing that is not a number.

Words and letter runs in fonts (handwriting-like ones among them), scribbles, signature-like
flourishes and numbers written in other scripts, each slanted and stretched at random and
normalized by :func:`forms_ocr.normalize.crop_normalize_string`, the production function. They
measure whether the string reader sends such fields to review. Seeded like the box negatives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from forms_ocr.normalize import crop_normalize_string
from ml.negatives import fonts
from ml.negatives.generate import SPLIT_SEEDS
from ml.negatives.marks import polyline_draw, smooth_path

# Words written in number fields in practice, besides random letter runs.
FIELD_WORDS = (
    "none", "void", "cancelled", "see attached", "N/A", "cash", "paid", "twenty", "hundred",
    "only", "thousand", "name", "signed", "approved", "unknown", "same", "nil", "refused",
    "pending", "to follow", "Smith", "Kumar", "Maria", "Rahul", "account", "total",
)  # fmt: skip
STRIP_HEIGHT = 48
STRING_NEGATIVE_KINDS = ("word", "letters", "scribble", "signature", "other_script_number")


@dataclass(frozen=True)
class StringNegatives:
    """Normalized strips (float32 (32, W_i) in [0, 1], white on black) and the kind of each."""

    strips: list[NDArray[np.float32]]
    kinds: list[str]


def _text_strip(text: str, font: str, rng: np.random.Generator) -> NDArray[np.uint8]:
    glyphs = fonts.glyph_render(text, font, int(rng.integers(28, 44)), stroke=int(rng.integers(2)))
    return _slant(glyphs, rng, paper=255)


def _slant(image: NDArray, rng: np.random.Generator, *, paper: int) -> NDArray:
    """Shear by up to about 20 degrees and stretch the width by up to 20%, as hands do."""
    height, width = image.shape
    shear = rng.uniform(-0.35, 0.35)
    stretch = rng.uniform(0.8, 1.2)
    matrix = np.array([[stretch, shear, max(0.0, -shear * height)], [0, 1, 0]], np.float32)
    out_w = int(width * stretch + abs(shear) * height) + 2
    return cv2.warpAffine(image, matrix, (out_w, height), borderValue=paper)


def _word(rng: np.random.Generator) -> NDArray[np.uint8]:
    faces = fonts.fonts_available(fonts.LATIN_FONTS)
    word = str(rng.choice(FIELD_WORDS))
    return _text_strip(word, str(rng.choice(faces)), rng)


def _letters(rng: np.random.Generator) -> NDArray[np.uint8]:
    faces = fonts.fonts_available(fonts.LATIN_FONTS)
    alphabet = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    text = "".join(rng.choice(alphabet, int(rng.integers(3, 10))))
    return _text_strip(text, str(rng.choice(faces)), rng)


def _scribble(rng: np.random.Generator) -> NDArray[np.uint8]:
    width = int(rng.integers(3, 9)) * STRIP_HEIGHT
    ink = np.zeros((STRIP_HEIGHT, width), np.float32)
    turns = int(rng.integers(6, 30))
    xs = np.sort(rng.uniform(4, width - 4, turns))
    ys = np.where(np.arange(turns) % 2 == 0, 6.0, STRIP_HEIGHT - 6.0)
    ys = ys + rng.normal(0, 4, turns)
    polyline_draw(ink, smooth_path(np.stack([xs, ys], 1), 8), int(rng.integers(2, 5)))
    return np.round(255 - ink * 255).astype(np.uint8)


def _signature(rng: np.random.Generator) -> NDArray[np.uint8]:
    """A flourish: a big first loop, then small connected loops on a drifting baseline."""
    width = int(rng.integers(4, 10)) * STRIP_HEIGHT
    ink = np.zeros((STRIP_HEIGHT * 2, width), np.float32)
    t = np.linspace(0, 2 * math.pi * rng.uniform(5, 14), 600)
    progress = np.linspace(0.05, 0.95, t.size) * width
    radius = STRIP_HEIGHT * rng.uniform(0.15, 0.35) * (1 + 1.5 * np.exp(-t / 4))
    xs = progress + radius * np.cos(t) * rng.uniform(0.4, 0.9)
    ys = STRIP_HEIGHT + radius * np.sin(t) + STRIP_HEIGHT * 0.2 * np.sin(t / 7)
    polyline_draw(ink, np.stack([xs, ys], 1), int(rng.integers(2, 4)))
    if rng.random() < 0.5:
        # The underline stroke many signatures end with.
        y = STRIP_HEIGHT * rng.uniform(1.5, 1.8)
        polyline_draw(ink, np.array([[width * 0.1, y], [width * 0.9, y - 6]]), 2)
    return np.round(255 - ink * 255).astype(np.uint8)


def _other_script_number(rng: np.random.Generator) -> NDArray[np.uint8]:
    scripts = fonts.scripts_available()
    script = scripts[int(rng.integers(len(scripts)))]
    numerals = list(fonts.script_numerals(script))
    text = "".join(rng.choice(numerals, int(rng.integers(3, 9))))
    return _text_strip(text, script.font, rng)


_DRAWERS = {
    "word": (_word, fonts.LATIN_FONTS),
    "letters": (_letters, fonts.LATIN_FONTS),
    "scribble": (_scribble, ()),
    "signature": (_signature, ()),
    "other_script_number": (
        _other_script_number,
        tuple(sorted({s.font for s in fonts.NUMERAL_SCRIPTS})),
    ),
}


def string_negatives_generate(count: int, *, split: str, seed: int = 0) -> StringNegatives:
    """``count`` string-field negatives of ``split``, the kinds taking turns in a seeded order.

    Font-based kinds whose fonts are all missing are left out (with a logged warning).
    """
    if split not in SPLIT_SEEDS:
        raise ValueError(f"split must be one of {sorted(SPLIT_SEEDS)}, got {split!r}")
    names = [
        name
        for name, (_, needed) in _DRAWERS.items()
        if not needed or fonts.fonts_available(needed)
    ]
    rng = np.random.default_rng([SPLIT_SEEDS[split], seed, 1])
    order = np.resize(np.arange(len(names)), count)
    rng.shuffle(order)
    strips, kinds = [], []
    for index in order:
        drawer, _ = _DRAWERS[names[index]]
        strips.append(crop_normalize_string(drawer(rng), ink_is_dark=True))
        kinds.append(names[index])
    return StringNegatives(strips, kinds)
