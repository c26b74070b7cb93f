"""The committed digit model reads real MNIST digits and refuses malformed input clearly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ml
from ml.infer import DigitRecognizer

WEIGHTS = Path(ml.__file__).resolve().parent / "weights" / "digits" / "digits-cnn-v1.onnx"


@pytest.fixture(scope="module")
def recognizer() -> DigitRecognizer:
    return DigitRecognizer(WEIGHTS)


def test_committed_model_reads_at_least_99_percent_of_the_fixture(recognizer, mnist_300):
    images, labels = mnist_300

    readings = recognizer.predict(images.astype(np.float32) / 255)

    predicted = np.array([r.digit for r in readings])
    assert (predicted == labels).mean() >= 0.99


def test_readings_carry_calibrated_probabilities_and_three_ranked_classes(recognizer, mnist_300):
    reading = recognizer.predict(mnist_300[0][:1].astype(np.float32)[:, None] / 255)[0]

    assert reading.top3[0] == (reading.digit, reading.probability)
    assert len(reading.top3) == 3 and len(reading.alternatives) == 2
    probabilities = [p for _, p in reading.top3]
    assert probabilities == sorted(probabilities, reverse=True)
    assert 0 < sum(probabilities) <= 1.0 + 1e-6
    assert recognizer.temperature == pytest.approx(recognizer.card["calibration"]["temperature"])


def test_model_card_describes_the_model():
    card = json.loads(WEIGHTS.with_suffix(".json").read_text())

    assert card["version"] == "digits-cnn-v1" and card["kind"] == "digits"
    assert card["parameters"] <= 400_000 and card["macs_per_digit"] <= 25_000_000
    assert card["test_metrics"]["test_accuracy"] >= 0.9965
    assert 0 < card["accept_threshold"] < 1
    assert card["onnx"]["parity_max_abs_logit_difference"] <= 1e-4


def test_empty_batch_reads_nothing(recognizer):
    assert recognizer.predict(np.zeros((0, 28, 28), np.float32)) == []


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        (np.zeros((2, 28, 28), np.uint8), "float32"),
        (np.zeros((2, 32, 32), np.float32), "shape"),
        (np.zeros((2, 3, 28, 28), np.float32), "shape"),
        (np.full((1, 28, 28), 255.0, np.float32), "within \\[0,1\\]"),
        ([[0.0] * 28] * 28, "numpy array"),
    ],
)
def test_malformed_batches_raise_a_clear_value_error(recognizer, batch, message):
    with pytest.raises(ValueError, match=message):
        recognizer.predict(batch)


def test_inference_does_not_import_torch():
    code = "import sys, ml.infer; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
