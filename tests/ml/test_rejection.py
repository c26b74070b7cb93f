"""The operating rule: two thresholds chosen on validation digits and negatives together."""

from __future__ import annotations

import numpy as np
import pytest

from ml.evaluation.rejection import (
    DigitScores,
    operating_point_choose,
    operating_point_measure,
    scores_from_logits,
)


def _scores(probability, reject, digit=None):
    probability = np.asarray(probability, float)
    return DigitScores(
        np.zeros(len(probability), np.int64) if digit is None else np.asarray(digit),
        probability,
        np.asarray(reject, float),
    )


def test_scores_of_an_11_class_model_take_the_reject_class_apart():
    logits = np.array([[5.0] + [0.0] * 9 + [0.0], [0.0] * 10 + [5.0]])

    scores = scores_from_logits(logits, temperature=1.0)

    assert scores.digit.tolist() == [0, 0]
    assert scores.reject_score[0] < 0.01 and scores.reject_score[1] > 0.9
    assert scores.probability[0] > 0.9 and scores.probability[1] < 0.01


def test_scores_of_a_10_class_model_use_the_energy():
    confident, flat = np.array([[9.0] + [0.0] * 9]), np.zeros((1, 10))

    energy = scores_from_logits(np.r_[confident, flat], temperature=1.0).reject_score

    assert energy[0] < energy[1]  # lower energy: more like a training digit


def test_the_chosen_rule_keeps_both_targets_with_the_fewest_digits_to_review():
    # 100 digits: 98 right and sure, 2 wrong and unsure; 100 negatives, 3 of them look sure.
    digits = _scores([0.99] * 98 + [0.6, 0.7], [0.01] * 98 + [0.2, 0.2], [0] * 98 + [1, 1])
    labels = np.zeros(100, np.int64)
    negatives = _scores([0.3] * 97 + [0.995, 0.995, 0.995], [0.8] * 97 + [0.5, 0.6, 0.005])

    point = operating_point_choose(
        digits, labels, negatives, target_error=0.0, target_negatives=0.01
    )

    assert point.accepted_error == 0.0
    assert point.negatives_accepted <= 0.01
    assert point.review_rate == pytest.approx(0.02)  # only the two wrong digits go to review
    again = operating_point_measure(
        digits, labels, negatives, point.digit_threshold, point.reject_threshold
    )
    assert again == point
