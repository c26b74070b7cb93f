"""The negative generator: deterministic by seed, split by seed, every kind drawn, fonts optional."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from ml.negatives import NEGATIVE_KINDS, kinds_available, negatives_generate
from ml.negatives import fonts as negative_fonts
from ml.negatives.generate import KINDS
from ml.negatives.strings import STRING_NEGATIVE_KINDS, string_negatives_generate

FONT_KINDS = {"letter", "symbol", "other_script_numeral"}


def _generate(mnist_300, count=48, **kwargs):
    images, labels = mnist_300
    return negatives_generate(count, digits=images, labels=labels, **kwargs)


def test_the_same_split_and_seed_give_the_same_negatives(mnist_300):
    first = _generate(mnist_300, split="train", seed=3)
    again = _generate(mnist_300, split="train", seed=3)

    np.testing.assert_array_equal(first.images, again.images)
    np.testing.assert_array_equal(first.kinds, again.kinds)


def test_splits_and_seeds_give_different_negatives(mnist_300):
    train = _generate(mnist_300, split="train", seed=0)

    assert not np.array_equal(train.images, _generate(mnist_300, split="validation").images)
    assert not np.array_equal(train.images, _generate(mnist_300, split="test").images)
    assert not np.array_equal(train.images, _generate(mnist_300, split="train", seed=1).images)


def test_every_available_kind_is_drawn_as_a_normalized_crop(mnist_300):
    made = _generate(mnist_300, count=2 * len(NEGATIVE_KINDS), split="validation")

    assert set(made.kind_names) == set(kinds_available())
    assert all(count >= 1 for count in made.kind_counts().values())
    assert made.images.shape == (len(made), 28, 28) and made.images.dtype == np.float32
    assert made.images.min() >= 0 and made.images.max() <= 1
    # MNIST normalization: writing in every crop, nothing on the outer two-pixel frame.
    assert (made.images.reshape(len(made), -1).max(axis=1) > 0.5).all()
    assert made.images[:, :2].max() == 0 and made.images[:, :, -2:].max() == 0


def test_every_kind_is_available_when_the_project_fonts_are_installed():
    installed = {
        kind
        for kind, (_, needed) in KINDS.items()
        if not needed or any(negative_fonts.font_path(f) for f in needed)
    }

    assert set(kinds_available()) == installed
    if all(negative_fonts.font_path(f) for f in ("DejaVuSans.ttf", "Lohit-Devanagari.ttf")):
        assert set(kinds_available()) == set(NEGATIVE_KINDS)


def test_font_kinds_are_left_out_with_a_warning_when_no_font_is_installed(
    mnist_300, monkeypatch, caplog, tmp_path
):
    monkeypatch.setattr(negative_fonts, "SYSTEM_FONT_DIRS", ())
    monkeypatch.setenv(negative_fonts.FONT_DIRS_ENV, str(tmp_path))
    negative_fonts._installed_fonts.cache_clear()
    negative_fonts._warn_missing.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="ml.negatives"):
            available = kinds_available()
            made = _generate(mnist_300, count=len(available), split="train")
    finally:
        negative_fonts._installed_fonts.cache_clear()
        negative_fonts._warn_missing.cache_clear()

    assert set(available) == set(NEGATIVE_KINDS) - FONT_KINDS
    assert set(made.kind_names) == set(available)
    assert "not installed" in caplog.text


def test_unknown_split_or_kind_is_refused(mnist_300):
    with pytest.raises(ValueError, match="split"):
        _generate(mnist_300, split="holdout")
    with pytest.raises(ValueError, match="unknown negative kinds"):
        _generate(mnist_300, split="train", kinds=["stroke", "smiley"])


def test_string_negatives_are_normalized_strips_of_every_kind():
    made = string_negatives_generate(2 * len(STRING_NEGATIVE_KINDS), split="test")
    again = string_negatives_generate(2 * len(STRING_NEGATIVE_KINDS), split="test")

    assert set(made.kinds) <= set(STRING_NEGATIVE_KINDS)
    for strip, same in zip(made.strips, again.strips, strict=True):
        assert strip.shape[0] == 32 and strip.shape[1] % 4 == 0 and strip.dtype == np.float32
        np.testing.assert_array_equal(strip, same)
