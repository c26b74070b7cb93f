"""k-NN and SVM baselines (scikit-learn) on raw pixels, evaluated by the CNN's report code."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from ml.data.mnist import mnist_load, split_train_validation
from ml.evaluation.report import report_write


def _classifier(which: str, seed: int):
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import SVC

    if which == "knn":
        # k=3 with distance weights is the usual strong raw-pixel k-NN on MNIST.
        return KNeighborsClassifier(n_neighbors=3, weights="distance", n_jobs=-1)
    # RBF SVM with the classic MNIST settings; probability=True gives scores for the report.
    return SVC(C=5.0, gamma="scale", probability=True, random_state=seed)


def baselines_run(
    *,
    data_dir: str | Path | None,
    output_dir: str | Path,
    train_limit: int | None = None,
    seed: int = 0,
    which: list[str] | tuple[str, ...] = ("knn", "svm"),
    validation_size: int = 5000,
) -> dict[str, Any]:
    """Train each baseline on the training split and write a report folder per baseline."""
    train, validation = split_train_validation(
        mnist_load(data_dir, "train"), validation_size=validation_size, seed=seed
    )
    test = mnist_load(data_dir, "test")
    if train_limit:
        keep = np.random.default_rng(seed).permutation(len(train))[:train_limit]
        train = train.subset(np.sort(keep), f"{train.name}[:{train_limit}]")

    def flat(images: np.ndarray) -> np.ndarray:
        return images.reshape(len(images), -1).astype(np.float32) / 255

    results = {}
    for name in which:
        classifier = _classifier(name, seed)
        started = time.perf_counter()
        classifier.fit(flat(train.images), train.labels)
        fit_seconds = time.perf_counter() - started
        # Log-probabilities stand in for logits: softmax at T=1 gives the probabilities back.
        scores = {
            split: np.log(np.clip(classifier.predict_proba(flat(data.images)), 1e-9, 1.0))
            for split, data in (("validation", validation), ("test", test))
        }
        results[name] = report_write(
            name=name,
            validation_logits=scores["validation"].astype(np.float32),
            validation_labels=validation.labels,
            test_logits=scores["test"].astype(np.float32),
            test_labels=test.labels,
            test_images=test.images,
            output_dir=Path(output_dir) / name,
            target_error=0.0005,
            calibrate=False,
            extra={"train_size": len(train), "fit_seconds": round(fit_seconds, 1)},
        )
    return {name: {"test_accuracy": r["test_accuracy"]} for name, r in results.items()}
