"""The review floor: how few digits a reader sends to review at the error target."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ml.cli import main
from ml.evaluation.review_floor import digit_log_probabilities, review_figures


def _reading(top: int, probability: float, second: int) -> np.ndarray:
    """Logits of a reading that gives ``top`` this probability and the rest to ``second``."""
    p = np.full(10, 1e-6)
    p[top], p[second] = probability, 1 - probability
    return np.log(p / p.sum())


def test_the_floor_is_the_share_below_the_most_confident_error_and_the_rule_is_from_validation():
    # Validation: 18 right at 0.99..0.999 and 2 wrong at 0.7 and 0.8. The rule must stay above
    # the wrong ones: it accepts from the lowest right reading above them (0.99), 2 of 20 go.
    validation = np.stack(
        [_reading(0, 0.99 + 0.0005 * i, 1) for i in range(18)]
        + [_reading(1, 0.7, 0), _reading(1, 0.8, 0)]
    )
    validation_labels = np.zeros(20, int)
    # Test: 10 digits; the one error reads at 0.85, so 0.85 and the two readings below it (0.82
    # right, 0.6 right) must go: a floor of 3 in 10. The validation rule (from 0.99) also sends
    # the right 0.9: 4 in 10, and no error among the six it accepts.
    confidences = [0.999, 0.998, 0.997, 0.996, 0.995, 0.994, 0.82, 0.6]
    test = np.stack(
        [_reading(0, c, 1) for c in confidences] + [_reading(2, 0.85, 0), _reading(0, 0.9, 3)]
    )
    test_labels = np.zeros(10, int)

    figures = review_figures(validation, validation_labels, test, test_labels, target_error=0.0)

    assert figures["test_accuracy"] == pytest.approx(0.9)
    top = figures["probability"]
    assert top["validation_review"] == pytest.approx(0.1)
    assert top["floor"] == pytest.approx(0.3)
    assert top["review"] == pytest.approx(0.4) and top["error"] == 0
    assert set(figures) >= {"margin", "neg_entropy", "temperature"}


def test_only_the_ten_digit_columns_count():
    logits = np.array([[2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 50.0]])

    log_probabilities = digit_log_probabilities(logits)

    assert log_probabilities.shape == (1, 10)
    assert np.exp(log_probabilities).sum() == pytest.approx(1.0)
    assert log_probabilities.argmax() == 0


def test_the_command_reports_each_model_and_their_ensemble(tiny_mnist, capsys):
    v1 = "ml/weights/digits/digits-cnn-v1.onnx"
    v4 = "ml/weights/digits/digits-cnn-v4.onnx"

    assert main(["review-floor", v1, v4, "--data-dir", str(tiny_mnist),
                 "--validation-size", "50"]) == 0  # fmt: skip

    report = json.loads(capsys.readouterr().out)
    assert set(report["readers"]) == {"digits-cnn-v1", "digits-cnn-v4", "ensemble"}
    assert report["validation_digits"] == 50 and report["test_digits"] == 100
    for reader in report["readers"].values():
        assert 0.9 <= reader["test_accuracy"] <= 1
        assert 0 <= reader["probability"]["floor"] <= 1
        assert set(reader["test_accuracy_variants"]) == {
            "blur_0.7", "blur_1.0", "renormalized_blur_0.7", "renormalized_blur_1.0"
        }  # fmt: skip
        assert all(0.5 <= a <= 1 for a in reader["test_accuracy_variants"].values())


def test_a_missing_model_is_named_before_any_data_is_read(tmp_path, capsys):
    missing = tmp_path / "missing.onnx"

    assert main(["review-floor", str(missing), "--data-dir", str(tmp_path / "no-data")]) == 2

    assert f"no ONNX model at {missing}" in capsys.readouterr().err
