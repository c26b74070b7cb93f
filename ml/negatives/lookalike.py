"""Drop generated negatives that are digits to the eye.

Some generators draw, now and then, a shape that is simply a digit: a random pen stroke that
makes a clean 1 or 5, a 7 cut by a border that leaves a 1, an 8 written over a 3 that is still
an 8, a numeral of another script drawn like a Latin 9 or 3. Labelled "not a digit", they are
label noise: training pushes the reject class onto real digits, and on held-out sets they force
the operating threshold so strict that good digits go to review.

The judge is a digit reader that never saw a negative (``digits-cnn-v1``, 10 classes). A
negative of a kind in :data:`LOOKALIKE_KINDS` that it reads as one digit with a calibrated
probability of at least ``threshold`` is dropped. Kinds whose shapes are plainly not one digit
(zigzag scribbles, two digits side by side, letters, symbols, specks, blobs, box fragments) are
never judged: a digit reader is confidently wrong on them, which is the very failure the reject
class is for.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from ml.negatives.generate import NegativeSet

# Kinds whose drawers can produce a shape that is one clean digit.
LOOKALIKE_KINDS = ("stroke", "cut_digit", "overwritten_digit", "other_script_numeral")
DEFAULT_JUDGE = Path(__file__).resolve().parents[1] / "weights/digits/digits-cnn-v1.onnx"
DEFAULT_THRESHOLD = 0.999


@dataclass(frozen=True)
class LookalikeFilter:
    """Which negatives count as digits: ``judge`` (a 10-class digit ONNX model) reads them as
    one digit with probability >= ``threshold``, and their kind is one of ``kinds``."""

    judge: str = str(DEFAULT_JUDGE)
    threshold: float = DEFAULT_THRESHOLD
    kinds: tuple[str, ...] = LOOKALIKE_KINDS

    def __post_init__(self) -> None:
        if not 0.5 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0.5, 1], got {self.threshold}")

    def describe(self) -> dict:
        """Plain data for model cards and reports."""
        return {
            "judge": Path(self.judge).name,
            "threshold": self.threshold,
            "kinds": list(self.kinds),
        }

    @cached_property
    def _reader(self):
        from ml.infer.digits import DigitRecognizer

        reader = DigitRecognizer(self.judge, threads=1)
        if reader.has_reject_class:
            raise ValueError(f"the judge must be a 10-class digit model: {self.judge}")
        return reader

    def lookalike_mask(self, negatives: NegativeSet) -> np.ndarray:
        """bool [N]: True for the negatives that are digits to the judge."""
        judged = np.isin(
            negatives.kinds,
            [i for i, name in enumerate(negatives.kind_names) if name in self.kinds],
        )
        mask = np.zeros(len(negatives), bool)
        if judged.any():
            probabilities = self._reader.probabilities(negatives.images[judged])
            mask[judged] = probabilities.max(axis=1) >= self.threshold
        return mask

    def apply(self, negatives: NegativeSet) -> tuple[NegativeSet, NegativeSet]:
        """(kept, dropped): the negatives without their look-alikes, and the look-alikes
        (``dropped.kind_counts()`` says how many of each kind)."""
        drop = self.lookalike_mask(negatives)
        return tuple(
            replace(negatives, images=negatives.images[mask], kinds=negatives.kinds[mask])
            for mask in (~drop, drop)
        )
