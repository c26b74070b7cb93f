"""Augmentation of reviewed strips for string fine-tuning."""

from __future__ import annotations

import numpy as np

from ml.strings.finetune import strip_augment


def test_augmented_strips_keep_the_model_input_shape_and_change_the_writing():
    rng = np.random.default_rng(0)
    strip = np.zeros((32, 120), np.float32)
    strip[8:24, 20:100] = 1.0

    varied = [strip_augment(strip, rng) for _ in range(20)]

    assert all(v.shape[0] == 32 and v.shape[1] % 4 == 0 and 32 <= v.shape[1] <= 512 for v in varied)
    assert all(v.dtype == np.float32 and v.min() >= 0 and v.max() <= 1 for v in varied)
    assert len({v.shape[1] for v in varied}) > 1  # widths vary
    assert any(not np.array_equal(v, strip) for v in varied if v.shape == strip.shape)
