"""Template mode: registration and field cutting on generated filled scans, scored against truth.

    python bench/template_registration.py [--pages 10] [--seed 300] [--dpi 300] [--kind form]

For each page a blank reference and a filled scan of the same layout are drawn; the scan gets
every degradation and is turned (up to 10 degrees), scaled (0.9-1.1) and moved on a canvas 25%
larger. Fields are cut with the reference's exact template (its truth) and with the template
that `template_fields_detect` proposes. A scan of another layout is offered to every template
and should be refused. Digits come from $HDR_DATA_DIR (MNIST IDX) when set, else from the
packaged sample. Prints JSON: registration failures, shares of fields and boxes cut at
IoU >= 0.9, empty decisions right, angle error, other layouts refused, ms per page on one core.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2
import numpy as np

from bench._common import emit, summary
from bench.segmentation_accuracy import iou
from forms_ocr.errors import RegistrationError
from forms_ocr.synth import (
    ALL_DEGRADATIONS,
    SAMPLE_DIGITS,
    Placement,
    digits_from_npz,
    digits_load,
    synth_page,
)
from forms_ocr.template import (
    TemplateFieldSpec,
    page_register,
    reference_features,
    segment_page_with_template,
    template_fields_detect,
)


def _rounded(values: list[float], digits: int) -> dict:
    return {k: round(v, digits) if isinstance(v, float) else v for k, v in summary(values).items()}


def _specs(truth) -> list[TemplateFieldSpec]:
    return [
        TemplateFieldSpec(
            f"field_{n}",
            f.kind,
            f.bbox,
            len(f.boxes) if f.kind == "digits" else None,
            tuple(b.bbox for b in f.boxes),
        )
        for n, f in enumerate(truth.fields, start=1)
    ]


def _placement(rng: np.random.Generator, shape: tuple[int, int]) -> Placement:
    height, width = shape
    canvas = (round(1.25 * height), round(1.25 * width))
    # Room for the turned, scaled page: the offset moves it anywhere it stays whole.
    return Placement(
        angle_deg=float(rng.uniform(-10, 10)),
        scale=float(rng.uniform(0.9, 1.1)),
        offset=(int(rng.integers(0, width // 8 + 1)), int(rng.integers(0, height // 8 + 1))),
        canvas=canvas,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--seed", type=int, default=300)
    parser.add_argument("--dpi", type=int, default=300)
    parser.add_argument("--kind", choices=["form", "cheque"], default="form")
    args = parser.parse_args()
    cv2.setNumThreads(1)  # figures are per core
    folder = os.environ.get("HDR_DATA_DIR")
    digits = digits_load(folder) if folder else digits_from_npz(SAMPLE_DIGITS)
    rng = np.random.default_rng(args.seed)

    counts = dict.fromkeys(
        (
            "scans",
            "registered",
            "fields",
            "fields_iou90",
            "boxes",
            "boxes_iou90",
            "empty_right",
            "truth_fields",
            "detected_fields_found",
            "others",
            "others_refused",
        ),
        0,
    )
    page_ms, register_ms, reference_ms, angle_errors, failures, other_reasons = (
        [],
        [],
        [],
        [],
        [],
        [],
    )
    for index in range(args.pages):
        seed = args.seed + index
        reference = synth_page(
            args.kind, digits, seed=seed, dpi=args.dpi, degradations=(), blank=True, hand_seed=0
        )
        started = time.perf_counter()
        features = reference_features(reference.image)
        reference_ms.append((time.perf_counter() - started) * 1000)
        detected = template_fields_detect(reference.image)
        for truth in reference.truth.fields:
            counts["truth_fields"] += 1
            # IoU > 0.5 as in segmentation_accuracy: over an underline the writing area's
            # height is a guess.
            counts["detected_fields_found"] += any(
                iou(spec.bbox, truth.bbox) > 0.5 and spec.kind == truth.kind for spec in detected
            )
        scan = synth_page(
            args.kind, digits, seed=seed, dpi=args.dpi, hand_seed=1000 + index, max_angle=0.5,
            degradations=ALL_DEGRADATIONS, placement=_placement(rng, reference.image.shape),
        )  # fmt: skip
        counts["scans"] += 1
        specs = _specs(reference.truth)
        try:
            started = time.perf_counter()
            page_register(scan.image, features)
            register_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            result = segment_page_with_template(scan.image, features, specs)
            page_ms.append((time.perf_counter() - started) * 1000)
        except RegistrationError as exc:
            failures.append({"seed": seed, "reason": exc.reason})
            continue
        counts["registered"] += 1
        angle_errors.append(abs(result.skew_deg - scan.truth.skew_deg))
        for field, truth in zip(result.fields, scan.truth.fields, strict=True):
            counts["fields"] += 1
            counts["fields_iou90"] += iou(field.bbox, truth.bbox) >= 0.9
            for box, truth_box in zip(field.boxes, truth.boxes, strict=True):
                counts["boxes"] += 1
                counts["boxes_iou90"] += iou(box.bbox, truth_box.bbox) >= 0.9
                counts["empty_right"] += box.empty == truth_box.empty
        other = synth_page(args.kind, digits, seed=seed + 500, dpi=args.dpi, hand_seed=1)
        counts["others"] += 1
        try:
            page_register(other.image, features)
        except RegistrationError as exc:
            counts["others_refused"] += 1
            other_reasons.append(exc.reason.split(":")[0].split("(")[0].strip())

    emit(
        {
            "benchmark": "template_registration",
            "kind": args.kind,
            "dpi": args.dpi,
            "pages": args.pages,
            "placement": "rotation +-10 deg, scale 0.9-1.1, shifted on a 1.25x canvas",
            "degradations": "all (perspective, blur, noise, jpeg, lighting, light borders, crossing)",
            "registered": round(counts["registered"] / counts["scans"], 4),
            "fields_iou_at_least_0_9": round(counts["fields_iou90"] / max(1, counts["fields"]), 4),
            "boxes_iou_at_least_0_9": round(counts["boxes_iou90"] / max(1, counts["boxes"]), 4),
            "empty_decisions_right": round(counts["empty_right"] / max(1, counts["boxes"]), 4),
            "detected_template_field_recall_iou_0_5": round(
                counts["detected_fields_found"] / max(1, counts["truth_fields"]), 4
            ),
            "other_layouts_refused": round(counts["others_refused"] / max(1, counts["others"]), 4),
            "other_layout_reasons": sorted(set(other_reasons)),
            "angle_error_deg": _rounded(angle_errors, 3) if angle_errors else None,
            "ms_per_page_one_core": _rounded(page_ms, 1) if page_ms else None,
            "ms_register_one_core": _rounded(register_ms, 1) if register_ms else None,
            "ms_reference_features_one_core": _rounded(reference_ms, 1),
            "failures": failures,
            "counts": counts,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
