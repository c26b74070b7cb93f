"""Confidence calibration and the error-reject trade-off (numpy only).

Temperature scaling (Guo et al., 2017) divides logits by one scalar T fitted on validation data by
minimizing the negative log-likelihood; it changes confidences, never the predicted class.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ml.infer.session import softmax


def negative_log_likelihood(logits: NDArray, labels: NDArray, temperature: float) -> float:
    probabilities = softmax(logits, temperature).astype(np.float64)
    picked = probabilities[np.arange(len(labels)), labels]
    return float(-np.log(np.clip(picked, 1e-12, 1.0)).mean())


def temperature_fit(
    logits: NDArray, labels: NDArray, *, low: float = 0.05, high: float = 20.0
) -> float:
    """The T in [low, high] minimizing validation NLL (golden-section search on log T)."""
    a, b = np.log(low), np.log(high)
    ratio = (np.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    for _ in range(60):
        if negative_log_likelihood(logits, labels, np.exp(c)) < negative_log_likelihood(
            logits, labels, np.exp(d)
        ):
            b = d
        else:
            a = c
        c, d = b - ratio * (b - a), a + ratio * (b - a)
    return float(np.exp((a + b) / 2))


def expected_calibration_error(probabilities: NDArray, labels: NDArray, *, bins: int = 15) -> float:
    """ECE: mean |accuracy - confidence| over equal-width confidence bins, weighted by count."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    error = 0.0
    for low, high in itertools.pairwise(edges):
        in_bin = (confidence > low) & (confidence <= high)
        if in_bin.any():
            error += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
    return float(error)


@dataclass(frozen=True)
class RejectPoint:
    threshold: float
    reject_rate: float
    accepted_error: float


def error_reject_curve(confidence: NDArray, correct: NDArray) -> list[RejectPoint]:
    """For each distinct confidence as threshold (accept when confidence >= threshold): the share
    rejected and the error rate among the accepted, from accepting everything to accepting one."""
    order = np.argsort(-confidence, kind="stable")
    sorted_confidence = confidence[order]
    errors = np.cumsum(~correct[order])
    n = len(confidence)
    points = []
    # The last index of each run of equal confidences: a threshold accepts the whole run.
    ends = np.flatnonzero(np.r_[sorted_confidence[1:] != sorted_confidence[:-1], True])
    for end in ends[::-1]:
        accepted = end + 1
        points.append(
            RejectPoint(
                float(sorted_confidence[end]),
                float(1 - accepted / n),
                float(errors[end] / accepted),
            )
        )
    return points


def threshold_for_error(confidence: NDArray, correct: NDArray, target_error: float) -> RejectPoint:
    """The lowest threshold whose accepted error is <= target_error (fewest rejections)."""
    for point in error_reject_curve(confidence, correct):
        if point.accepted_error <= target_error:
            return point
    return RejectPoint(1.0 + 1e-9, 1.0, 0.0)


def reject_at(confidence: NDArray, correct: NDArray, threshold: float) -> RejectPoint:
    """Reject rate and accepted error when accepting confidence >= threshold."""
    accepted = confidence >= threshold
    error = float((~correct[accepted]).mean()) if accepted.any() else 0.0
    return RejectPoint(float(threshold), float(1 - accepted.mean()), error)
