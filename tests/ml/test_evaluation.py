"""Metrics, calibration and the error-reject threshold, checked against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from ml.evaluation.calibration import (
    expected_calibration_error,
    reject_at,
    temperature_fit,
    threshold_for_error,
)
from ml.evaluation.metrics import accuracy, confusion_matrix, per_class_report
from ml.infer.session import softmax


def test_confusion_matrix_and_per_class_scores_by_hand():
    labels = np.array([0, 0, 0, 1, 1, 2])
    predicted = np.array([0, 0, 1, 1, 2, 2])

    matrix = confusion_matrix(labels, predicted, num_classes=3)
    reports = per_class_report(matrix)

    assert matrix.tolist() == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert accuracy(matrix) == pytest.approx(4 / 6)
    # class 0: precision 2/2, recall 2/3; class 1: 1/2 and 1/2; class 2: 1/2 and 1/1
    assert (reports[0].precision, reports[0].recall) == (1.0, pytest.approx(2 / 3))
    assert reports[0].f1 == pytest.approx(0.8)
    assert (reports[1].precision, reports[1].recall, reports[1].f1) == (0.5, 0.5, 0.5)
    assert (reports[2].precision, reports[2].recall, reports[2].support) == (0.5, 1.0, 1)


def test_ece_of_perfectly_calibrated_and_overconfident_scores():
    # Four predictions at confidence 0.75, three of them right: calibrated.
    calibrated = np.array([[0.75, 0.25]] * 4)
    labels = np.array([0, 0, 0, 1])
    overconfident = np.array([[0.99, 0.01]] * 4)

    assert expected_calibration_error(calibrated, labels) == pytest.approx(0.0)
    assert expected_calibration_error(overconfident, labels) == pytest.approx(0.24)


def test_temperature_fit_undoes_a_known_scaling():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(size=(4000, 10)) * 2
    probabilities = softmax(true_logits).astype(np.float64)
    labels = np.array([rng.choice(10, p=p / p.sum()) for p in probabilities])

    fitted = temperature_fit(true_logits * 3.0, labels)

    assert fitted == pytest.approx(3.0, rel=0.1)


def test_threshold_is_the_lowest_that_meets_the_target_error():
    confidence = np.array([0.99, 0.98, 0.97, 0.90, 0.80, 0.60])
    correct = np.array([True, True, True, False, True, False])

    point = threshold_for_error(confidence, correct, target_error=0.0)

    assert point.threshold == pytest.approx(0.97)
    assert point.reject_rate == pytest.approx(0.5)
    at = reject_at(confidence, correct, 0.80)
    assert (at.reject_rate, at.accepted_error) == (pytest.approx(1 / 6), pytest.approx(0.2))
