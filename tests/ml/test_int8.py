"""The committed INT8 digit model keeps the contract and reads like its fp32 original."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import ml
from ml.infer import DigitRecognizer

WEIGHTS = Path(ml.__file__).resolve().parent / "weights" / "digits"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "mnist_test_300.npz"


def test_int8_model_reads_the_committed_digits_like_the_fp32_model():
    with np.load(FIXTURE) as stored:
        images = stored["images"].astype(np.float32) / 255.0
        labels = stored["labels"]
    fp32 = DigitRecognizer(WEIGHTS / "digits-cnn-v1.onnx")
    int8 = DigitRecognizer(WEIGHTS / "digits-cnn-v1-int8.onnx")

    quantized = [r.digit for r in int8.predict(images)]
    original = [r.digit for r in fp32.predict(images)]

    assert np.mean(np.array(quantized) == labels) >= 0.99
    assert np.mean(np.array(quantized) == np.array(original)) >= 0.995
    assert int8.card["quantization"]["measured_on_mnist_test"]["int8"]["test_accuracy"] >= 0.997
    assert int8.card["default_active"] is False  # opt in
