"""The synthetic scan generator: forms and cheques with real handwritten digits, degraded like
scans, and ground truth JSON for tests and benchmarks. Deterministic for a given seed."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from forms_ocr.images import GrayImage
from forms_ocr.synth.degrade import ALL_DEGRADATIONS, Placement, page_degrade, page_place
from forms_ocr.synth.digits import DigitImages, digits_from_npz, digits_load
from forms_ocr.synth.fields import CleanField, Hand
from forms_ocr.synth.truth import PageTruth, TruthBox, TruthField, rect_transform

SAMPLE_DIGITS = Path(__file__).resolve().parent / "data" / "digits_sample.npz"

__all__ = [
    "ALL_DEGRADATIONS",
    "SAMPLE_DIGITS",
    "DigitImages",
    "PageTruth",
    "Placement",
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
    hand_seed: int | None = None,
    blank: bool = False,
    placement: Placement | None = None,
) -> SynthPage:
    """Generate one page of ``kind`` (``form`` or ``cheque``) at ``dpi``; same seeds, same page.

    With ``hand_seed`` None one rng draws everything (the pages of existing seeds never change).
    With ``hand_seed`` the layout comes from ``seed`` alone and the handwriting and the scan's
    image degradations from ``hand_seed``: pages of one ``seed`` and different ``hand_seed`` are
    the same form filled in by different hands and scanned differently, whatever their
    degradation flags. ``blank`` draws the form without handwriting (truth values empty) and
    keeps the layout of the filled page of the same ``seed`` and mode: to get a template
    reference for filled scans drawn with a ``hand_seed``, give the blank one too (any value).
    With ``hand_seed`` None the "light_borders" flag changes the layout, so a blank page and its
    filled twin then need the same content degradations. ``placement`` turns, scales and moves
    the finished page on a canvas (a scan of it on a larger glass), truth moved along.
    """
    rng = np.random.default_rng(seed)
    if hand_seed is None:
        hand = Hand(rng, blank=blank)
    else:
        hand = Hand(np.random.default_rng(hand_seed), separate=True, blank=blank)
    if kind == "form":
        from forms_ocr.synth.form import form_draw

        clean, fields = form_draw(rng, digits, dpi=dpi, degradations=degradations, hand=hand)
    elif kind == "cheque":
        from forms_ocr.synth.cheque import cheque_draw

        clean, fields = cheque_draw(rng, digits, dpi=dpi, degradations=degradations, hand=hand)
    else:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if blank:
        fields = [_field_emptied(field) for field in fields]
    degraded = page_degrade(clean, hand.rng, degradations, max_angle=max_angle)
    if placement is not None:
        degraded = page_place(degraded, placement)
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


def _field_emptied(field: CleanField) -> CleanField:
    boxes = tuple(replace(box, digit=None) for box in field.boxes)
    return replace(field, value="", boxes=boxes)


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
    hand_seed: int | None = None,
    blank: bool = False,
) -> list[Path]:
    """Write ``n`` pages as ``{kind}_{i:04d}.png`` + ``.json`` truth into ``out``; return PNGs.

    Without ``hand_seed`` every page has its own layout; with it every page has the layout of
    ``seed`` and its own handwriting. ``blank`` leaves the writing out and changes nothing else,
    so ``blank`` with the same arguments gives the template reference of the filled pages.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for index in range(n):
        if hand_seed is None:
            seeds = {"seed": seed * 100_003 + index}
        else:
            seeds = {"seed": seed, "hand_seed": hand_seed * 100_003 + index}
        page = synth_page(kind, digits, dpi=dpi, degradations=degradations, blank=blank, **seeds)
        stem = folder / f"{kind}_{index:04d}"
        cv2.imwrite(str(stem.with_suffix(".png")), page.image)
        stem.with_suffix(".json").write_text(json.dumps(page.truth.to_json(), indent=1))
        written.append(stem.with_suffix(".png"))
        logger.info("wrote %s", stem.with_suffix(".png"))
    return written
