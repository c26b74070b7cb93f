"""Automatic segmentation finds comb fields and strings on generated forms, degraded or not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from forms_ocr import segment_page
from forms_ocr.synth import digits_from_npz, synth_page

DIGITS = Path(__file__).resolve().parent.parent / "ml" / "fixtures" / "mnist_test_300.npz"


def _iou(a, b) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


@pytest.fixture(scope="module")
def digits():
    return digits_from_npz(DIGITS)


@pytest.mark.slow
@pytest.mark.parametrize(
    "degradations",
    [
        (),
        ("rotation",),
        ("light_borders", "noise", "blur"),
        ("rotation", "lighting", "jpeg"),
    ],
    ids=["clean", "rotated", "light-noisy-blurred", "rotated-lit-jpeg"],
)
def test_comb_fields_are_found_where_the_truth_has_them(digits, degradations):
    page = synth_page("form", digits, seed=11, degradations=degradations)

    result = segment_page(page.image)

    combs = [f for f in result.fields if f.kind == "digits"]
    truth = [f for f in page.truth.fields if f.kind == "digits"]
    found = [t for t in truth if any(_iou(f.bbox, t.bbox) > 0.5 for f in combs)]
    assert len(found) >= 0.85 * len(truth)
    assert len(found) >= 0.85 * len(combs)
    assert abs(result.skew_deg - page.truth.skew_deg) <= 0.6
    for field in combs:
        for box in field.boxes:
            assert box.normalized.shape == (28, 28)
            assert bool(box.normalized.any()) is (not box.empty)


def test_bboxes_are_in_the_pixels_of_the_page_as_read(digits):
    page = synth_page("form", digits, seed=5, degradations=("rotation",))

    result = segment_page(page.image)

    assert (result.width, result.height) == (page.image.shape[1], page.image.shape[0])
    for field in result.fields:
        x, y, w, h = field.bbox
        assert x >= 0 and y >= 0 and x + w <= result.width and y + h <= result.height


@pytest.mark.slow
def test_cli_prints_the_segmentation_json(digits, tmp_path):
    page = synth_page("form", digits, seed=2, degradations=())
    path = tmp_path / "form.png"
    cv2.imwrite(str(path), page.image)

    out = subprocess.run(
        [sys.executable, "-m", "forms_ocr", "segment", str(path), "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    first = body["pages"][0]
    assert first["index"] == 0 and first["width"] == page.image.shape[1]
    assert {"kind", "bbox"} <= set(first["fields"][0])
    assert any(f["kind"] == "digits" and f["boxes"] for f in first["fields"])


def test_no_field_comes_out_with_an_empty_crop_or_a_comb_without_boxes():
    from forms_ocr.synth import SAMPLE_DIGITS

    # Seed 28 (rotation and noise) once produced a one-pixel-wide comb on the page's edge.
    page = synth_page(
        "form", digits_from_npz(SAMPLE_DIGITS), seed=28, degradations=("rotation", "noise")
    )

    fields = segment_page(page.image).fields

    assert fields
    assert all(f.crop.size > 0 for f in fields)
    assert all(
        f.boxes and all(b.crop.size > 0 for b in f.boxes) for f in fields if f.kind == "digits"
    )


@pytest.mark.parametrize("size", [(120, 90), (40, 30), (8, 8)])
def test_a_thumbnail_sized_page_segments_to_no_fields(size):
    # Every length scales with the page's width; on a tiny page the ink threshold's
    # neighbourhood once shrank to one pixel and OpenCV refused it.
    page = np.full(size, 235, np.uint8)
    cv2.putText(page, "4", (2, size[0] - 2), cv2.FONT_HERSHEY_SIMPLEX, 0.3, 20, 1)

    result = segment_page(page)

    assert (result.width, result.height) == (size[1], size[0])
    assert result.fields == ()


def test_handwriting_strokes_in_a_rectangle_do_not_make_a_comb():
    from forms_ocr.detect.fields import comb_borders

    # A light rectangle 300 px wide, 80 high, with three dark strokes of writing at about a
    # quarter, a half and three quarters of its width (page 130 of the benchmark, reduced).
    strokes = [(0, 36.0), (76, 95.0), (151, 124.0), (224, 110.0), (300, 40.0)]
    # The same positions printed as comb walls, as dark as the outline.
    walls = [(0, 36.0), (75, 38.0), (150, 35.0), (225, 37.0), (300, 40.0)]

    assert comb_borders(strokes, 80, (0, 300)) == [0, 300]
    assert comb_borders(walls, 80, (0, 300)) == [0, 75, 150, 225, 300]
