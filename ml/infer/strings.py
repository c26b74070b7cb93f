"""Reading digit strings with the ONNX string model (numpy + onnxruntime, never torch)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from ml.errors import InputShapeError
from ml.infer.session import images_check, model_card_load, onnx_session_create
from ml.strings import MAX_WIDTH, MIN_WIDTH, STRING_HEIGHT, WIDTH_PER_FRAME
from ml.strings.batch import strings_pad
from ml.strings.decode import StringCandidate, StringReading, ctc_beam_decode, ctc_greedy_decode

if TYPE_CHECKING:
    from ml.infer.digits import DigitRecognizer

# Used when the digit model's card has no measured string-reject rule.
DEFAULT_GLYPH_THRESHOLD = 0.5
DEFAULT_STRING_REJECT_THRESHOLD = 0.34

__all__ = ["StringCandidate", "StringReading", "StringRecognizer"]


class StringRecognizer:
    """Serves the string model: normalized strips in, :class:`StringReading` per strip out.

    ``model_path`` is the ``.onnx`` file; its model card (same name, ``.json``) supplies the
    ``temperature`` and ``accept_threshold``. CUDA is used when onnxruntime offers it.

    With ``digit_recognizer`` (a digit model with a "not a digit" class), every reading gets a
    ``reject_score``: the share of the strip's digit-sized glyphs that model rejects, so a field
    of words, letters or scribbles goes to review. ``reject_threshold`` (default: the digit
    card's ``string_reject`` rule, measured on generated strips) is the highest score accepted.
    """

    def __init__(
        self,
        model_path: str | Path,
        *,
        providers: list[str] | None = None,
        threads: int | None = None,
        digit_recognizer: DigitRecognizer | None = None,
        reject_threshold: float | None = None,
    ) -> None:
        self.model_path = Path(model_path)
        self.session = onnx_session_create(self.model_path, providers=providers, threads=threads)
        self.card = model_card_load(self.model_path)
        self.temperature = float(self.card.get("temperature", 1.0))
        self.accept_threshold = float(self.card.get("accept_threshold", 0.0))
        if digit_recognizer is not None and not digit_recognizer.has_reject_class:
            raise ValueError(
                f"{digit_recognizer.version} has no reject class: it cannot score string marks"
            )
        self.digit_recognizer = digit_recognizer
        rule = digit_recognizer.card.get("string_reject", {}) if digit_recognizer else {}
        self.glyph_threshold = float(rule.get("glyph_threshold", DEFAULT_GLYPH_THRESHOLD))
        # Glyphs thinner than this times their height (bare bars: 1s, box edges) are not scored.
        self.min_glyph_aspect = float(rule.get("min_aspect", 0.0))
        self.reject_threshold = float(
            reject_threshold
            if reject_threshold is not None
            else rule.get("field_threshold", DEFAULT_STRING_REJECT_THRESHOLD)
        )

    @property
    def version(self) -> str:
        """The model version from the card (the file stem when there is no card)."""
        return str(self.card.get("version", self.model_path.stem))

    def _check(self, image: object, index: int) -> NDArray[np.float32]:
        checked = images_check(
            np.asarray(image)[None] if isinstance(image, np.ndarray) else image,
            height=STRING_HEIGHT,
            width=None,
            name=f"images[{index}]",
        )
        width = checked.shape[3]
        if width % WIDTH_PER_FRAME or not MIN_WIDTH <= width <= MAX_WIDTH:
            raise InputShapeError(
                f"images[{index}] width must be a multiple of 4 in [32, 512], got {width}"
            )
        return checked[0, 0]

    def logits(
        self, images: Sequence[NDArray[np.float32]]
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """Run the model on strips float32 (32, W_i); return padded logits [N,T,11] and frames [N]."""
        strips = [self._check(image, i) for i, image in enumerate(images)]
        batch, frames = strings_pad(strips)
        if not strips:
            return np.zeros((0, 0, 11), np.float32), frames
        (logits,) = self.session.run(["logits"], {"image": batch})
        return logits, frames

    def recognize(
        self, images: Sequence[NDArray[np.float32]], *, beam_width: int = 8, n_best: int = 5
    ) -> list[StringReading]:
        """Read a batch of normalized strings of any widths.

        ``images``: a sequence of float32 (32, W_i) arrays in [0, 1], white ink on black, each W_i
        a multiple of 4 in [32, 512] (as :func:`forms_ocr.normalize.crop_normalize_string`
        returns). Strips are padded to a common width; each string is decoded from its own
        frames only. ``beam_width`` 1 means greedy decoding. Raises ``ValueError``
        (:class:`~ml.errors.InputShapeError`) for bad shapes, dtypes or values.
        """
        logits, frames = self.logits(images)
        readings: list[StringReading] = []
        for i in range(len(frames)):
            own = logits[i, : int(frames[i])]
            if beam_width <= 1:
                readings.append(ctc_greedy_decode(own, self.temperature))
            else:
                readings.append(
                    ctc_beam_decode(
                        own, beam_width=beam_width, n_best=n_best, temperature=self.temperature
                    )
                )
        if self.digit_recognizer is not None and readings:
            from ml.infer.string_reject import string_reject_scores

            scores = string_reject_scores(
                [np.asarray(image, np.float32).reshape(STRING_HEIGHT, -1) for image in images],
                self.digit_recognizer,
                glyph_threshold=self.glyph_threshold,
                min_aspect=self.min_glyph_aspect,
            )
            readings = [
                replace(reading, reject_score=score)
                for reading, score in zip(readings, scores, strict=True)
            ]
        return readings

    def accepts(self, reading: StringReading) -> bool:
        """Whether routing may accept ``reading`` without review: field confidence >= the
        threshold and, when the reading has a ``reject_score``, that score <= its threshold."""
        if reading.field_confidence < self.accept_threshold:
            return False
        return reading.reject_score is None or reading.reject_score <= self.reject_threshold
