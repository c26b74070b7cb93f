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
    titles = [f"{t}→{p}" for t, p in zip(labels, predicted, strict=True)]
    image_grid(images, titles, path, "Misclassified test digits (true→predicted)", limit=limit)


def error_reject_plot(
    points: list[RejectPoint],
    chosen: RejectPoint,
    path: Path,
    *,
    title: str = "Error-reject curve (test)",
    max_reject_percent: float = 5.0,
) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot([p.reject_rate * 100 for p in points], [p.accepted_error * 100 for p in points])
    ax.scatter([chosen.reject_rate * 100], [chosen.accepted_error * 100], color="red", zorder=3,
               label=f"threshold {chosen.threshold:.4f}")  # fmt: skip
    ax.set_xlim(0, max_reject_percent)
    ax.set_xlabel("sent to review (%)")
    ax.set_ylabel("error on accepted (%)")
    ax.set_title(title, fontsize=9)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def score_histogram_plot(histograms: dict[str, dict], path: Path) -> None:
    """One panel per score: the share of digits and of negatives in each bin (log scale).

    ``histograms`` maps a score name to ``{"edges": [...], "digits": [...], "negatives": [...],
    "threshold": float | None, "accept": "above" or "below"}`` with shares that sum to 1.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(histograms), figsize=(5.5 * len(histograms), 4))
    for ax, (name, hist) in zip(np.atleast_1d(axes), histograms.items(), strict=True):
        edges = np.asarray(hist["edges"])
        centres, widths = (edges[1:] + edges[:-1]) / 2, np.diff(edges)
        for key, colour in (("digits", "tab:blue"), ("negatives", "tab:red")):
            ax.bar(centres, hist[key], width=widths, alpha=0.5, color=colour, label=key)
        if hist.get("threshold") is not None:
            ax.axvline(hist["threshold"], color="black", linestyle="--",
                       label=f"threshold {hist['threshold']:.4g}")  # fmt: skip
        ax.set_yscale("log")
        ax.set_xlabel(f"{name} (accepted {hist['accept']} the threshold)")
        ax.set_ylabel("share of the set")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle("Scores of MNIST test digits and test negatives", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def image_grid(images: NDArray, titles: list[str], path: Path, title: str, limit: int = 64) -> None:
    """A grid of up to ``limit`` 28x28 images with a short title each."""
    plt = _pyplot()
    count = min(limit, len(images))
    columns = 8
    rows = max(1, (count + columns - 1) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.3, rows * 1.4))
    for index, ax in enumerate(np.atleast_1d(axes).ravel()):
        ax.axis("off")
        if index < count:
            ax.imshow(images[index], cmap="gray")
            ax.set_title(titles[index], fontsize=6)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
