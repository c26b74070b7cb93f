"""Classification metrics from labels and predictions (numpy only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


def confusion_matrix(
    labels: NDArray, predictions: NDArray, num_classes: int = 10
) -> NDArray[np.int64]:
    """[C,C] counts: row = true class, column = predicted class."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels, np.int64), np.asarray(predictions, np.int64)), 1)
    return matrix


@dataclass(frozen=True)
class ClassReport:
    precision: float
    recall: float
    f1: float
    support: int


def per_class_report(matrix: NDArray[np.int64]) -> list[ClassReport]:
    """Precision, recall and F1 per class from a confusion matrix (0 where undefined)."""
    reports = []
    for c in range(matrix.shape[0]):
        true_positive = matrix[c, c]
        predicted = matrix[:, c].sum()
        actual = matrix[c, :].sum()
        precision = true_positive / predicted if predicted else 0.0
        recall = true_positive / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        reports.append(ClassReport(float(precision), float(recall), float(f1), int(actual)))
    return reports


def accuracy(matrix: NDArray[np.int64]) -> float:
    total = matrix.sum()
    return float(np.trace(matrix) / total) if total else 0.0
