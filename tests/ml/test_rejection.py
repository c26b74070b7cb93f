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


def test_the_report_chooses_its_rule_for_the_negatives_target_it_is_given(tmp_path):
    from ml.evaluation.negatives_report import NegativeLogits
    from ml.evaluation.report import report_write

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 400)
    digits = rng.normal(0, 1, (400, 11))
    digits[np.arange(400), labels] += 8  # right and sure of the digit...
    digits[:, 10] += rng.uniform(0, 6, 400)  # ...with some doubt that it is one
    negatives = rng.normal(0, 1, (200, 11))
    negatives[:, 0] += 8  # a sure 0 by the digit scores alone
    negatives[:, 10] += rng.uniform(2, 14, 200)  # only the reject class tells them apart
    kinds = np.zeros(200, np.int64)
    images = np.zeros((200, 28, 28), np.float32)

    def rule(target_negatives: float) -> dict:
        summary = report_write(
            name="synthetic", validation_logits=digits, validation_labels=labels,
            test_logits=digits, test_labels=labels, test_images=images, target_error=0.0005,
            output_dir=tmp_path / str(target_negatives), calibrate=False,
            negatives=NegativeLogits(negatives, negatives, kinds, ("scribble",), images),
            target_negatives=target_negatives,
        )  # fmt: skip
        return summary["reject"]

    strict, loose = rule(0.0), rule(0.2)
    assert strict["target_negatives_validation"] == 0.0
    assert strict["validation_negatives_accepted"] == 0.0
    assert 0 < loose["validation_negatives_accepted"] <= 0.2
    assert loose["validation_reject_rate"] < strict["validation_reject_rate"]


def test_a_card_states_no_limit_and_accept_nothing_as_probabilities():
    from ml.evaluation.rejection import reject_threshold_for_card

    assert reject_threshold_for_card(float("inf")) == 1.0
    assert reject_threshold_for_card(float("-inf")) == 0.0
    assert reject_threshold_for_card(0.03) == 0.03
