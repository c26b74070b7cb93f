"""Segmentation accuracy and speed on generated, degraded form pages, scored against their truth.

    python bench/segmentation_accuracy.py [--pages 10] [--seed 100] [--dpi 300]

Digits come from $HDR_DATA_DIR (MNIST IDX) when set, else from the packaged sample. Prints JSON:
comb-field recall and precision (IoU > 0.5), share of boxes with IoU >= 0.9, empty-box decisions
right, string-field recall, skew error, and ms per page on one core.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2

from bench._common import emit, rounded, summary
from forms_ocr import segment_page
from forms_ocr.synth import SAMPLE_DIGITS, digits_from_npz, digits_load, synth_page


def iou(a, b) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--seed", type=int, default=100)
    parser.add_argument("--dpi", type=int, default=300, help="resolution of the generated pages")
    args = parser.parse_args()
    cv2.setNumThreads(1)  # the target is per core
    folder = os.environ.get("HDR_DATA_DIR")
    digits = digits_load(folder) if folder else digits_from_npz(SAMPLE_DIGITS)

    counts = dict.fromkeys(
        (
            "combs",
            "combs_found",
            "combs_detected",
            "boxes",
            "boxes_iou90",
            "empty_right",
            "strings",
            "strings_found",
        ),
        0,
    )
    skew_errors, milliseconds = [], []
    for index in range(args.pages):
        page = synth_page("form", digits, seed=args.seed + index, dpi=args.dpi)
        started = time.perf_counter()
        result = segment_page(page.image)
        milliseconds.append((time.perf_counter() - started) * 1000)
        skew_errors.append(abs(result.skew_deg - page.truth.skew_deg))
        combs = [f for f in result.fields if f.kind == "digits"]
        strings = [f for f in result.fields if f.kind == "string"]
        counts["combs_detected"] += len(combs)
        for truth in page.truth.fields:
            pool = combs if truth.kind == "digits" else strings
            best = max(pool, key=lambda f: iou(f.bbox, truth.bbox), default=None)
            found = best is not None and iou(best.bbox, truth.bbox) > 0.5
            if truth.kind == "string":
                counts["strings"] += 1
                counts["strings_found"] += found
                continue
            counts["combs"] += 1
            counts["combs_found"] += found
            for box in truth.boxes:
                counts["boxes"] += 1
                match = (
                    max(best.boxes, key=lambda b: iou(b.bbox, box.bbox), default=None)
                    if found
                    else None
                )
                if match is not None and iou(match.bbox, box.bbox) >= 0.9:
                    counts["boxes_iou90"] += 1
                if (
                    match is not None
                    and iou(match.bbox, box.bbox) > 0.5
                    and match.empty == box.empty
                ):
                    counts["empty_right"] += 1

    emit(
        {
            "benchmark": "segmentation_accuracy",
            "pages": args.pages,
            "dpi": args.dpi,
            "degradations": "all (rotation, perspective, blur, noise, jpeg, lighting, light borders, crossing)",
            "comb_recall": round(counts["combs_found"] / counts["combs"], 4),
            "comb_precision": round(counts["combs_found"] / max(1, counts["combs_detected"]), 4),
            "boxes_iou_at_least_0_9": round(counts["boxes_iou90"] / counts["boxes"], 4),
            "empty_decisions_right": round(counts["empty_right"] / counts["boxes"], 4),
            "string_recall": round(counts["strings_found"] / max(1, counts["strings"]), 4),
            "skew_error_deg": rounded(summary(skew_errors), 3),
            "ms_per_page_one_core": rounded(summary(milliseconds), 1),
            "counts": counts,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
