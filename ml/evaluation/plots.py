"""Report figures (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ml.evaluation.calibration import RejectPoint


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def confusion_plot(matrix: NDArray, path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 5.5))
    # Log colour scale: the diagonal is ~1000x the errors, which would otherwise be invisible.
    ax.imshow(np.log1p(matrix), cmap="Blues")
    for (row, col), count in np.ndenumerate(matrix):
        if count:
            ax.text(col, row, str(count), ha="center", va="center", fontsize=7,
                    color="white" if row == col else "black")  # fmt: skip
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_xticks(range(matrix.shape[1]))
    ax.set_yticks(range(matrix.shape[0]))
    ax.set_title("Confusion matrix (test)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def misclassified_grid(
    images: NDArray, labels: NDArray, predicted: NDArray, path: Path, limit: int = 64
) -> None:
    plt = _pyplot()
    count = min(limit, len(images))
    columns = 8
    rows = max(1, (count + columns - 1) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.2, rows * 1.35))
    for index, ax in enumerate(np.atleast_1d(axes).ravel()):
        ax.axis("off")
        if index < count:
            ax.imshow(images[index], cmap="gray")
            ax.set_title(f"{labels[index]}→{predicted[index]}", fontsize=8)
    fig.suptitle("Misclassified test digits (true→predicted)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def error_reject_plot(points: list[RejectPoint], chosen: RejectPoint, path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot([p.reject_rate * 100 for p in points], [p.accepted_error * 100 for p in points])
    ax.scatter([chosen.reject_rate * 100], [chosen.accepted_error * 100], color="red", zorder=3,
               label=f"threshold {chosen.threshold:.4f}")  # fmt: skip
    ax.set_xlim(0, 5)
    ax.set_xlabel("sent to review (%)")
    ax.set_ylabel("error on accepted (%)")
    ax.set_title("Error-reject curve (test)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
