"""The negative generator: seeded, split by seed, every kind named.

A negative is a box crop that holds something other than one clean digit. Each is drawn as a raw
crop and normalized by :func:`forms_ocr.normalize.crop_normalize_mnist`, the function production
uses, so the model sees negatives exactly as it will see such boxes on a form. Handwriting-like
variation (affine, elastic, stroke width) is the digits' own augmentation
(:func:`negatives_augment`, batched torch ops), applied per batch in training and once, seeded,
to the validation and test sets.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from forms_ocr.normalize import crop_normalize_mnist
from ml.negatives import digits as digit_marks
from ml.negatives import fonts, marks

logger = logging.getLogger(__name__)

# Splits differ by generator seed; the digit-made kinds also take digits of the same split.
SPLIT_SEEDS = {"train": 9001, "validation": 9002, "test": 9003}
# Side of the canvas the pen marks are drawn on before normalization.
MARK_CANVAS = 48
# Font sizes (pixels) glyphs are rendered at; the normalization rescales them anyway.
GLYPH_SIZES = (28, 34, 40, 48)
_MAX_TRIES = 8


@dataclass(frozen=True)
class _Context:
    rng: np.random.Generator
    digits: NDArray[np.uint8]
    labels: NDArray[np.int64]

    def digit(self, exclude: Sequence[int] = ()) -> tuple[NDArray[np.uint8], int]:
        while True:
            i = int(self.rng.integers(len(self.digits)))
            if int(self.labels[i]) not in exclude:
                return self.digits[i], int(self.labels[i])


def _pair(ctx: _Context) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    first, label = ctx.digit()
    second, _ = ctx.digit(exclude=(label,))
    return first, second


def _glyph(text: str, font: str, rng: np.random.Generator) -> NDArray[np.uint8]:
    size = int(rng.choice(GLYPH_SIZES))
    # A wider pen on some glyphs: felt tips and ballpoints differ more than font weights.
    stroke = int(rng.choice([0, 0, 1, 2]))
    return fonts.glyph_render(text, font, size, stroke=stroke)


def _letter(ctx: _Context) -> NDArray[np.uint8]:
    faces = fonts.fonts_available(fonts.LATIN_FONTS)
    count = 2 if ctx.rng.random() < 0.25 else 1
    text = "".join(ctx.rng.choice(list(fonts.LETTERS), count))
    return _glyph(text, str(ctx.rng.choice(faces)), ctx.rng)


def _symbol(ctx: _Context) -> NDArray[np.uint8]:
    faces = fonts.fonts_available(fonts.SYMBOL_FONTS)
    face = str(ctx.rng.choice(faces))
    choices = [s for s in fonts.SYMBOLS if fonts.glyph_present(face, s)]
    return _glyph(str(ctx.rng.choice(choices)), face, ctx.rng)


def _numeral(ctx: _Context) -> NDArray[np.uint8]:
    script = fonts.scripts_available()[int(ctx.rng.integers(len(fonts.scripts_available())))]
    numerals = fonts.script_numerals(script)
    return _glyph(str(ctx.rng.choice(list(numerals))), script.font, ctx.rng)


def _ink_to_crop(ink: NDArray[np.float32]) -> NDArray[np.uint8]:
    return np.round(np.clip(ink, 0, 1) * 255).astype(np.uint8)


# Each kind: (drawer, ink_is_dark, fonts it needs). Drawers return a uint8 crop or a float ink.
_Drawer = Callable[[_Context], NDArray]
KINDS: dict[str, tuple[_Drawer, tuple[str, ...]]] = {
    "stroke": (lambda c: marks.stroke_draw(MARK_CANVAS, c.rng), ()),
    "scribble": (lambda c: marks.scribble_draw(MARK_CANVAS, c.rng), ()),
    "crossed_out_digit": (lambda c: digit_marks.crossed_out_draw(c.digit()[0], c.rng), ()),
    "overwritten_digit": (lambda c: digit_marks.overwritten_draw(*_pair(c), c.rng), ()),
    "merged_digits": (lambda c: digit_marks.merged_draw(*_pair(c), c.rng), ()),
    # A 1 cut anywhere is still a 1 once normalized, and half an 8 is a 0: neither is cut.
    "cut_digit": (lambda c: digit_marks.cut_draw(c.digit(exclude=(1, 8))[0], c.rng), ()),
    "letter": (_letter, fonts.LATIN_FONTS),
    "symbol": (_symbol, fonts.SYMBOL_FONTS),
    "other_script_numeral": (
        _numeral,
        tuple(sorted({script.font for script in fonts.NUMERAL_SCRIPTS})),
    ),
    "speck": (lambda c: marks.specks_draw(MARK_CANVAS, c.rng), ()),
    "blob": (lambda c: marks.blob_draw(MARK_CANVAS, c.rng), ()),
    "box_fragment": (lambda c: marks.box_fragment_draw(MARK_CANVAS, c.rng), ()),
}
NEGATIVE_KINDS = tuple(KINDS)


def kinds_available() -> list[str]:
    """The kinds that can be drawn here: a font-based kind needs at least one of its fonts.

    A kind left out is logged as a warning (with each missing font).
    """
    available = []
    for name, (_, needed) in KINDS.items():
        if needed and not fonts.fonts_available(needed):
            logger.warning("negative kind %s left out: none of its fonts is installed", name)
            continue
        available.append(name)
    return available


@dataclass(frozen=True)
class NegativeSet:
    """Generated negatives: ``images`` float32 [N,28,28] in [0,1] (white on black, MNIST
    normalized) and ``kinds`` int64 [N] indexing ``kind_names``."""

    images: NDArray[np.float32]
    kinds: NDArray[np.int64]
    kind_names: tuple[str, ...]
    split: str
    seed: int

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def kind_counts(self) -> dict[str, int]:
        """How many negatives of each kind the set holds."""
        counts = np.bincount(self.kinds, minlength=len(self.kind_names))
        return {name: int(n) for name, n in zip(self.kind_names, counts, strict=True)}


def negative_draw(kind: str, ctx_rng: np.random.Generator, digits, labels) -> NDArray[np.float32]:
    """One normalized negative of ``kind`` float32 (28, 28); all zeros if every try was empty."""
    drawer, _ = KINDS[kind]
    ctx = _Context(ctx_rng, digits, labels)
    for _ in range(_MAX_TRIES):
        raw = drawer(ctx)
        if raw.dtype == np.uint8:
            normalized = crop_normalize_mnist(raw, ink_is_dark=True)
        else:
            normalized = crop_normalize_mnist(_ink_to_crop(raw), ink_is_dark=False)
        # An empty crop stays empty in production and never reaches the model: draw again.
        if normalized.any():
            return normalized
    return normalized


def negatives_generate(
    count: int,
    *,
    split: str,
    digits: NDArray[np.uint8],
    labels: NDArray[np.int64],
    seed: int = 0,
    kinds: Sequence[str] | None = None,
) -> NegativeSet:
    """Generate ``count`` negatives of ``split`` (train, validation or test), deterministically.

    ``digits`` uint8 [M,28,28] and ``labels`` int64 [M] are the MNIST digits of the same split
    (crossed-out, overwritten, merged and cut kinds are made of them). The kinds (default: every
    one available here) take turns, in a seeded order, so each appears ``count / K`` times.
    The same split, seed, digits and fonts always give the same set.
    """
    if split not in SPLIT_SEEDS:
        raise ValueError(f"split must be one of {sorted(SPLIT_SEEDS)}, got {split!r}")
    names = tuple(kinds if kinds is not None else kinds_available())
    unknown = [k for k in names if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown negative kinds {unknown}; known: {list(KINDS)}")
    rng = np.random.default_rng([SPLIT_SEEDS[split], seed])
    order = np.resize(np.arange(len(names)), count)
    rng.shuffle(order)
    images = np.zeros((count, 28, 28), np.float32)
    for i, kind in enumerate(order):
        images[i] = negative_draw(names[kind], rng, digits, labels)
    return NegativeSet(images, order.astype(np.int64), names, split, seed)


def negatives_augment(images: NDArray[np.float32], seed: int) -> NDArray[np.float32]:
    """The digits' training augmentation (affine, elastic, stroke width), seeded, on numpy.

    float32 [N,28,28] in and out; used for the fixed validation and test negatives.
    """
    import torch

    from ml.augment import AugmentConfig, augment_batch

    generator = torch.Generator().manual_seed(seed)
    batch = torch.from_numpy(np.ascontiguousarray(images)).unsqueeze(1)
    return augment_batch(batch, AugmentConfig(), generator).squeeze(1).numpy()


def negatives_heldout(
    split: str,
    *,
    digits: NDArray[np.uint8],
    labels: NDArray[np.int64],
    count: int,
    seed: int = 0,
) -> NegativeSet:
    """The fixed validation or test negatives: generated, then augmented once with a seed.

    Same arguments as :func:`negatives_generate`; the augmentation seed follows the split, so
    validation and test negatives never share a distortion either.
    """
    if split == "train":
        raise ValueError("held-out negatives are validation or test, not train")
    made = negatives_generate(count, split=split, digits=digits, labels=labels, seed=seed)
    images = negatives_augment(made.images, SPLIT_SEEDS[split] * 1000 + seed)
    return NegativeSet(images, made.kinds, made.kind_names, split, seed)
