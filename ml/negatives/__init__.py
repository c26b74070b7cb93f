"""Negatives: box crops that are not one clean digit, for training and measuring the reject signal.

:mod:`ml.negatives.generate` draws single-box negatives of named kinds (pen strokes, scribbles,
crossed-out, overwritten, merged and cut digits, letters, symbols, numerals of other scripts,
specks, blobs, box fragments); :mod:`ml.negatives.strings` draws string-field negatives (words,
scribbles, signatures). Train, validation and test differ by generator seed.
"""

from ml.negatives.generate import (
    NEGATIVE_KINDS,
    SPLIT_SEEDS,
    NegativeSet,
    kinds_available,
    negatives_augment,
    negatives_generate,
    negatives_heldout,
)

__all__ = [
    "NEGATIVE_KINDS",
    "SPLIT_SEEDS",
    "NegativeSet",
    "kinds_available",
    "negatives_augment",
    "negatives_generate",
    "negatives_heldout",
]
