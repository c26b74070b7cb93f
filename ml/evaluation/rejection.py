"""The operating rule of a digit model with a reject signal, chosen on validation (numpy only).

A digit is accepted when its calibrated probability is at least ``digit_threshold`` **and** its
reject score is at most ``reject_threshold``. The reject score is the probability of the "not a
digit" class for 11-class models, and the free energy ``-T log sum exp(logits / T)`` for
10-class models trained with outlier exposure (Liu et al., 2020). Both thresholds are chosen on
validation digits and validation negatives together: the fewest digits sent to review such that
the error on accepted digits and the share of negatives accepted stay within their targets.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import NDArray

from ml.evaluation.calibration import RejectPoint, temperature_fit, threshold_for_error
from ml.infer.session import softmax

# The rule as model cards state it.
ACCEPT_RULE = "accept when digit probability >= threshold and reject score <= reject_threshold"
# Reject-threshold candidates tried: this many quantiles of the scores, plus "no limit".
_REJECT_CANDIDATES = 200


@dataclass(frozen=True)
class DigitScores:
    """What the rule looks at for each crop: predicted digit, its probability, reject score."""

    digit: NDArray[np.int64]
    probability: NDArray[np.float64]
    reject_score: NDArray[np.float64]


def scores_from_logits(logits: NDArray, temperature: float) -> DigitScores:
    """Scores of logits ``[N,10]`` or ``[N,11]`` (class 10 = not a digit) at ``temperature``."""
    logits = np.asarray(logits, np.float64)
    probabilities = softmax(logits, temperature).astype(np.float64)
    digits = probabilities[:, :10]
    if logits.shape[1] > 10:
        reject = probabilities[:, 10]
    else:
        scaled = logits / temperature
        peak = scaled.max(axis=1)
        reject = -temperature * (peak + np.log(np.exp(scaled - peak[:, None]).sum(axis=1)))
    return DigitScores(digits.argmax(1), digits.max(1), reject)


@dataclass(frozen=True)
class OperatingPoint:
    """An operating rule and how it does on one set of digits and negatives.

    ``review_rate`` is the share of digits sent to review, ``accepted_error`` the error on
    accepted digits, ``negatives_accepted`` the share of negatives accepted as a digit.
    """

    digit_threshold: float
    reject_threshold: float
    review_rate: float
    accepted_error: float
    negatives_accepted: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def temperature_fit_with_negatives(
    digit_logits: NDArray, labels: NDArray, negative_logits: NDArray
) -> float:
    """The temperature of an 11-class model, fitted on what it will see: digits and negatives
    (label 10) together."""
    return temperature_fit(
        np.r_[digit_logits, negative_logits],
        np.r_[labels, np.full(len(negative_logits), 10)],
    )


def reject_threshold_for_card(value: float) -> float:
    """A reject threshold as a probability for a model card: "no limit" (inf) is 1, "accept
    nothing" (-inf) is 0. JSON, and PostgreSQL's jsonb with it, has no infinities."""
    return float(min(max(value, 0.0), 1.0))


def accepted_mask(scores: DigitScores, digit_threshold: float, reject_threshold: float):
    """bool [N]: the crops the rule accepts."""
    return (scores.probability >= digit_threshold) & (scores.reject_score <= reject_threshold)


def operating_point_measure(
    digits: DigitScores,
    labels: NDArray,
    negatives: DigitScores,
    digit_threshold: float,
    reject_threshold: float,
) -> OperatingPoint:
    """How the rule at the two thresholds does on ``digits`` (with ``labels``) and negatives."""
    accepted = accepted_mask(digits, digit_threshold, reject_threshold)
    correct = digits.digit == labels
    error = float((~correct[accepted]).mean()) if accepted.any() else 0.0
    negatives_accepted = accepted_mask(negatives, digit_threshold, reject_threshold)
    return OperatingPoint(
        float(digit_threshold),
        float(reject_threshold),
        float(1 - accepted.mean()),
        error,
        float(negatives_accepted.mean()) if len(negatives_accepted) else 0.0,
    )


def operating_point_choose(
    digits: DigitScores,
    labels: NDArray,
    negatives: DigitScores,
    *,
    target_error: float,
    target_negatives: float,
) -> OperatingPoint:
    """The two thresholds that send the fewest ``digits`` to review while the error on accepted
    digits is <= ``target_error`` and the share of ``negatives`` accepted <= ``target_negatives``.

    Use validation data only. For each reject-threshold candidate, the digit threshold is the
    larger of the one meeting the error target and the one meeting the negatives target.
    """
    correct = digits.digit == labels
    pooled = np.concatenate([digits.reject_score, negatives.reject_score])
    candidates = np.unique(
        np.r_[np.quantile(pooled, np.linspace(0, 1, _REJECT_CANDIDATES)), np.inf]
    )
    best: OperatingPoint | None = None
    for reject_threshold in candidates:
        passing = digits.reject_score <= reject_threshold
        if not passing.any():
            continue
        # Digits failing the reject test count as sent to review: treat them as confidence 0.
        confidence = np.where(passing, digits.probability, -1.0)
        error_point: RejectPoint = threshold_for_error(confidence, correct, target_error)
        negative_confidence = negatives.probability[negatives.reject_score <= reject_threshold]
        allowed = int(np.floor(target_negatives * len(negatives.probability)))
        if len(negative_confidence) > allowed:
            # Accept at most `allowed` negatives: stay above the (allowed+1)-th highest score.
            ranked = np.sort(negative_confidence)[::-1]
            negative_threshold = float(np.nextafter(ranked[allowed], np.inf))
        else:
            negative_threshold = 0.0
        digit_threshold = max(error_point.threshold, negative_threshold, 0.0)
        point = operating_point_measure(
            digits, labels, negatives, digit_threshold, reject_threshold
        )
        if point.accepted_error > target_error:
            continue
        if best is None or point.review_rate < best.review_rate:
            best = point
    if best is None:
        return OperatingPoint(1.0 + 1e-9, -np.inf, 1.0, 0.0, 0.0)
    return best


def mixed_error_reject_curve(
    digits: DigitScores,
    labels: NDArray,
    negatives: DigitScores,
    reject_threshold: float,
) -> list[RejectPoint]:
    """Error-reject curve over the digit threshold on digits and negatives mixed together.

    An accepted negative counts as an error, a rejected one as rightly sent to review; the reject
    rate is over all crops. The reject threshold stays at the operating one.
    """
    from ml.evaluation.calibration import error_reject_curve

    confidence = np.concatenate(
        [
            np.where(digits.reject_score <= reject_threshold, digits.probability, -1.0),
            np.where(negatives.reject_score <= reject_threshold, negatives.probability, -1.0),
        ]
    )
    correct = np.concatenate([digits.digit == labels, np.zeros(len(negatives.digit), bool)])
    return [p for p in error_reject_curve(confidence, correct) if p.threshold >= 0]
