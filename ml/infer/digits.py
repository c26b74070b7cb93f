"""`DigitRecognizer`: the digit CNN served by ONNX Runtime."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ml.infer.session import images_check, model_card_load, onnx_session_create, softmax

# Large enough to fill a GPU or the CPU's vector units, small enough to bound memory per call.
MAX_BATCH = 512


@dataclass(frozen=True)
class DigitReading:
    """One crop read: the digit, its calibrated probability and the best three classes."""

    digit: int
    probability: float
    top3: tuple[tuple[int, float], ...]
    # Probability of "not a digit" for models with an 11th class; None for 10-class models.
    reject_probability: float | None = None

    @property
    def alternatives(self) -> tuple[tuple[int, float], ...]:
        """The runner-up digits with their probabilities, best first."""
        return self.top3[1:]


class DigitRecognizer:
    """Reads batches of MNIST-normalized crops (float32 [N,28,28] or [N,1,28,28], white on black).

    `temperature` scales the logits before the softmax (calibration); by default it comes from
    the model card beside the ONNX file, as do `accept_threshold` and, for models with an 11th
    "not a digit" class, `reject_threshold`. :meth:`accepts` applies the card's rule.
    """

    def __init__(
        self,
        onnx_path: str | Path,
        *,
        temperature: float | None = None,
        providers: list[str] | None = None,
        threads: int | None = None,
        spin: bool = True,
    ) -> None:
        self.onnx_path = Path(onnx_path)
        self.card = model_card_load(self.onnx_path)
        calibration = self.card.get("calibration", {})
        self.temperature = float(temperature or calibration.get("temperature") or 1.0)
        self.accept_threshold = float(self.card.get("accept_threshold", 0.99))
        # Highest "not a digit" probability an accepted digit may have (no limit by default).
        self.reject_threshold = float(self.card.get("reject_threshold", 1.0))
        # spin=False: idle threads do not busy-wait between runs (see onnx_session_create).
        self.session = onnx_session_create(
            self.onnx_path, providers=providers, threads=threads, spin=spin
        )

    @property
    def version(self) -> str:
        return str(self.card.get("version", self.onnx_path.stem))

    @property
    def has_reject_class(self) -> bool:
        """Whether the model outputs an 11th class, "not a digit"."""
        shape = self.session.get_outputs()[0].shape
        return len(shape) == 2 and shape[1] == 11

    def accepts(self, reading: DigitReading) -> bool:
        """Whether routing may accept ``reading`` without review, by the model card's rule:
        the digit's probability is >= ``accept_threshold`` and, for 11-class models, the "not a
        digit" probability is <= ``reject_threshold``."""
        if reading.probability < self.accept_threshold:
            return False
        return reading.reject_probability is None or (
            reading.reject_probability <= self.reject_threshold
        )

    def logits(self, images: NDArray[np.float32]) -> NDArray[np.float32]:
        """Raw logits [N,C] (C = 10, or 11 with a reject class) for a checked batch."""
        batch = images_check(images, height=28, width=28)
        if len(batch) == 0:
            return np.zeros((0, 11 if self.has_reject_class else 10), np.float32)
        parts = [
            self.session.run(["logits"], {"image": batch[i : i + MAX_BATCH]})[0]
            for i in range(0, len(batch), MAX_BATCH)
        ]
        return np.concatenate(parts)

    def probabilities(self, images: NDArray[np.float32]) -> NDArray[np.float32]:
        """Calibrated class probabilities [N,C], rows summing to 1."""
        return softmax(self.logits(images), self.temperature)

    def predict(self, images: NDArray[np.float32]) -> list[DigitReading]:
        """One reading per crop, in order; an empty batch gives an empty list."""
        probabilities = self.probabilities(images)
        readings = []
        for row in probabilities:
            digits = row[:10]
            order = np.argsort(-digits)[:3]
            readings.append(
                DigitReading(
                    digit=int(order[0]),
                    probability=float(digits[order[0]]),
                    top3=tuple((int(d), float(digits[d])) for d in order),
                    reject_probability=float(row[10]) if row.shape[0] > 10 else None,
                )
            )
        return readings
