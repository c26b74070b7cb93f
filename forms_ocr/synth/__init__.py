"""The synthetic scan generator: forms and cheques with real handwritten digits, degraded like
scans, and ground truth JSON for tests and benchmarks. Deterministic for a given seed."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from forms_ocr.images import GrayImage
from forms_ocr.synth.degrade import ALL_DEGRADATIONS, page_degrade
from forms_ocr.synth.digits import DigitImages, digits_from_npz, digits_load
from forms_ocr.synth.fields import CleanField
from forms_ocr.synth.truth import PageTruth, TruthBox, TruthField, rect_transform

SAMPLE_DIGITS = Path(__file__).resolve().parent / "data" / "digits_sample.npz"

__all__ = [
    "ALL_DEGRADATIONS",
    "SAMPLE_DIGITS",
    "DigitImages",
    "PageTruth",
    "SynthPage",
    "digits_from_npz",
    "digits_load",
    "synth_page",
    "synth_write",
]

logger = logging.getLogger(__name__)
KINDS = ("form", "cheque")


@dataclass(frozen=True)
class SynthPage:
    """A generated page: ``image`` (H, W) uint8 grey and its ``truth``."""

    image: GrayImage
    truth: PageTruth


def synth_page(
    kind: str,
    digits: DigitImages,
    *,
    seed: int,
    dpi: int = 300,
    degradations: tuple[str, ...] = ALL_DEGRADATIONS,
    max_angle: float = 10.0,
) -> SynthPage:
    """Generate one page of ``kind`` (``form`` or ``cheque``) at ``dpi``; same seed, same page."""
    rng = np.random.default_rng(seed)
    if kind == "form":
        from forms_ocr.synth.form import form_draw

        clean, fields = form_draw(rng, digits, dpi=dpi, degradations=degradations)
    elif kind == "cheque":
        from forms_ocr.synth.cheque import cheque_draw

        clean, fields = cheque_draw(rng, digits, dpi=dpi, degradations=degradations)
    else:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    degraded = page_degrade(clean, rng, degradations, max_angle=max_angle)
    truth = PageTruth(
        kind=kind,
        width=int(degraded.image.shape[1]),
        height=int(degraded.image.shape[0]),
        dpi=dpi,
        skew_deg=round(degraded.skew_deg, 3),
        degradations=tuple(degradations),
        fields=tuple(_field_truth(field, degraded.matrix) for field in fields),
    )
    return SynthPage(image=degraded.image, truth=truth)


def _field_truth(field: CleanField, matrix: np.ndarray) -> TruthField:
    boxes = tuple(
        TruthBox(
            bbox=rect_transform(box.x, box.y, box.w, box.h, matrix),
            empty=box.digit is None,
            digit=box.digit,
        )
        for box in field.boxes
    )
    return TruthField(
        kind=field.kind,
        bbox=rect_transform(field.x, field.y, field.w, field.h, matrix),
        value=field.value,
        style=field.style,
        boxes=boxes,
    )


def synth_write(
    kind: str,
    *,
    n: int,
    seed: int,
    digits: DigitImages,
    out: str | os.PathLike[str],
    dpi: int = 300,
    degradations: tuple[str, ...] = ALL_DEGRADATIONS,
) -> list[Path]:
    """Write ``n`` pages as ``{kind}_{i:04d}.png`` + ``.json`` truth into ``out``; return PNGs."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for index in range(n):
        page = synth_page(
            kind, digits, seed=seed * 100_003 + index, dpi=dpi, degradations=degradations
        )
        stem = folder / f"{kind}_{index:04d}"
        cv2.imwrite(str(stem.with_suffix(".png")), page.image)
        stem.with_suffix(".json").write_text(json.dumps(page.truth.to_json(), indent=1))
        written.append(stem.with_suffix(".png"))
        logger.info("wrote %s", stem.with_suffix(".png"))
    return written
