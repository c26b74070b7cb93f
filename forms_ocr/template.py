"""Template mode: fields named and placed on a blank reference page, cut from registered scans.

A template is a blank reference page and its fields (`TemplateFieldSpec`, in reference pixels).
`template_fields_detect` proposes the fields of a reference (automatic mode on the blank page);
`segment_page_with_template` registers a scan to the reference (see `forms_ocr.registration`),
warps it into the reference's frame, erases the printed rules as automatic mode does and cuts
every field at its template position with automatic mode's own crop code.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from forms_ocr.detect.fields import A4_WIDTH_300DPI, RawField
from forms_ocr.errors import RegistrationError, TemplateError
from forms_ocr.images import BinaryMask, GrayImage, paper_level
from forms_ocr.quality import page_quality
from forms_ocr.registration import (
    DEFAULT_MIN_INLIERS,
    ReferenceFeatures,
    Registration,
    page_register,
    reference_features,
)
from forms_ocr.segment import (
    PageResult,
    bbox_to_page,
    field_cut,
    page_analyse,
    rule_masks,
    rules_erase,
    vertical_rules,
)

BBox = tuple[int, int, int, int]
KINDS = ("digits", "string")
# Share of a field's side that a printed border must cover for a string field to count as a
# rectangle (whose writing stays inside) rather than an underline (whose writing may rise above).
SIDE_BORDER_COVERAGE = 0.5

__all__ = [
    "DEFAULT_MIN_INLIERS",
    "BBox",
    "ReferenceFeatures",
    "Registration",
    "RegistrationError",
    "TemplateFieldSpec",
    "page_register",
    "reference_features",
    "segment_page_with_template",
    "template_fields_detect",
]


def _bbox_parse(value: Any, what: str) -> BBox:
    try:
        x, y, w, h = (int(v) for v in value)
    except (TypeError, ValueError):
        raise TemplateError(f"{what} must be four integers [x, y, w, h], got {value!r}") from None
    if w <= 0 or h <= 0:
        raise TemplateError(f"{what} must have a positive width and height, got {value!r}")
    return x, y, w, h


@dataclass(frozen=True)
class TemplateFieldSpec:
    """A field of a template, in pixels of the reference page.

    `kind` is "digits" (a comb: one digit per box) or "string". A digits field has `box_count`
    boxes; `boxes` gives their exact rectangles, otherwise they split `bbox` evenly. Raises
    TemplateError when the spec is inconsistent.
    """

    name: str
    kind: str
    bbox: BBox
    box_count: int | None = None
    boxes: tuple[BBox, ...] = ()

    def __post_init__(self) -> None:
        label = f"template field {self.name!r}"
        if self.kind not in KINDS:
            raise TemplateError(f"{label}: kind must be one of {KINDS}, got {self.kind!r}")
        object.__setattr__(self, "bbox", _bbox_parse(self.bbox, f"{label}: bbox"))
        boxes = tuple(_bbox_parse(b, f"{label}: box") for b in self.boxes)
        object.__setattr__(self, "boxes", boxes)
        if self.kind == "string":
            return
        if self.box_count is None and not boxes:
            raise TemplateError(f"{label}: a digits field needs box_count or boxes")
        if self.box_count is not None and self.box_count < 1:
            raise TemplateError(f"{label}: box_count must be at least 1, got {self.box_count}")
        if boxes and self.box_count is not None and self.box_count != len(boxes):
            raise TemplateError(
                f"{label}: box_count {self.box_count} but {len(boxes)} boxes are given"
            )

    @property
    def cells(self) -> tuple[BBox, ...]:
        """The boxes of a digits field: `boxes`, or `bbox` split evenly into `box_count`."""
        if self.kind != "digits":
            return ()
        if self.boxes:
            return self.boxes
        x, y, w, h = self.bbox
        count = int(self.box_count or 1)
        edges = [x + round(i * w / count) for i in range(count + 1)]
        return tuple((a, y, b - a, h) for a, b in itertools.pairwise(edges))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "bbox": list(self.bbox)}
        if self.kind == "digits":
            out["box_count"] = self.box_count if self.box_count is not None else len(self.boxes)
            out["boxes"] = [list(b) for b in self.boxes]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TemplateFieldSpec:
        """Read the dict `to_json` writes (`box_count` and `boxes` optional for strings)."""
        if not isinstance(data, dict) or "kind" not in data or "bbox" not in data:
            raise TemplateError(f"a template field needs at least kind and bbox, got {data!r}")
        count = data.get("box_count")
        return cls(
            name=str(data.get("name", "")),
            kind=str(data["kind"]),
            bbox=data["bbox"],
            box_count=None if count is None else int(count),
            boxes=tuple(data.get("boxes") or ()),
        )


def template_fields_detect(reference: GrayImage) -> list[TemplateFieldSpec]:
    """Propose the fields of a blank reference page (H, W) uint8 grey: automatic mode's comb and
    string fields, named "field_1", "field_2", ... in reading order, in reference pixels. Digits
    fields carry their box count and boxes. Scan the reference level: on a skewed one the boxes
    become the axis-aligned boxes of the tilted cells."""
    gray = np.ascontiguousarray(reference)
    analysis = page_analyse(gray)
    specs = []
    for number, raw in enumerate(analysis.fields, start=1):
        bbox = bbox_to_page(raw.bbox, analysis.inverse, gray.shape)
        cells = tuple(bbox_to_page(c, analysis.inverse, gray.shape) for c in raw.cells)
        specs.append(
            TemplateFieldSpec(
                name=f"field_{number}",
                kind=raw.kind,
                bbox=bbox,
                box_count=len(cells) if raw.kind == "digits" else None,
                boxes=cells,
            )
        )
    return specs


def _scaled(bbox: BBox, sx: float, sy: float) -> BBox:
    x, y, w, h = bbox
    return round(x * sx), round(y * sy), max(1, round(w * sx)), max(1, round(h * sy))


def _rule_thickness(horizontal: BinaryMask, bbox: BBox, default: int) -> int:
    """Thickness of the printed rule along the top of `bbox` (default when there is none)."""
    x, y, w, h = bbox
    band = horizontal[max(0, y - h // 4) : y + h // 4, max(0, x) : x + w] > 0
    if band.size == 0:
        return default
    per_column = band.sum(axis=0)
    thickness = int(np.median(per_column))
    return min(thickness, max(1, h // 6)) if thickness > 0 else default


def _string_style(ink: BinaryMask, bbox: BBox, *, unit: float) -> str:
    """ "rectangle" when printed borders close the field at both sides, else "underline"
    (`ink` is the page's ink mask, see :func:`rule_masks`)."""
    x, y, w, h = bbox
    reach = max(2, h // 10)
    sides = [
        vertical_rules(ink[max(0, y) : y + h, max(0, side - reach) : side + reach + 1], unit=unit)
        for side in (x, x + w)
    ]
    covered = [s.any(axis=1).mean() if s.size else 0.0 for s in sides]
    return "rectangle" if min(covered) >= SIDE_BORDER_COVERAGE else "underline"


def _raw_field(
    spec: TemplateFieldSpec,
    horizontal: BinaryMask,
    ink: BinaryMask,
    sx: float,
    sy: float,
    default_thickness: int,
    *,
    unit: float,
) -> RawField:
    """A template field as automatic mode's RawField, in the registered page's pixels."""
    bbox = _scaled(spec.bbox, sx, sy)
    thickness = _rule_thickness(horizontal, bbox, default_thickness)
    if spec.kind == "digits":
        cells = tuple(_scaled(cell, sx, sy) for cell in spec.cells)
        return RawField("digits", "comb", bbox, cells, line_thickness=thickness)
    return RawField("string", _string_style(ink, bbox, unit=unit), bbox, line_thickness=thickness)


def segment_page_with_template(
    image: GrayImage,
    reference: GrayImage | ReferenceFeatures,
    fields: Sequence[TemplateFieldSpec],
    *,
    index: int = 0,
    reference_shape: tuple[int, int] | None = None,
) -> PageResult:
    """Cut the fields of a template from a scan (template mode).

    `image` is the scan (H, W) uint8 grey as read; `reference` the template's blank reference
    page (uint8 grey) or, faster, its `reference_features`; `fields` the template's fields in
    reference pixels. `reference_shape` is the (H, W) of the page those pixels refer to when it
    differs from `reference` (say the fields were drawn on a 300-DPI rendering and `reference`
    is a 150-DPI copy); None means `reference` itself. Returns a PageResult with one named field
    per spec, in template order, every bbox in the pixels of `image`, and `skew_deg` the
    rotation that levels the scan onto the reference. Raises RegistrationError (with a reason)
    when the scan does not register to the reference.
    """
    gray = np.ascontiguousarray(image)
    features = (
        reference if isinstance(reference, ReferenceFeatures) else reference_features(reference)
    )
    registration = page_register(gray, features)
    height, width = features.shape
    spec_h, spec_w = reference_shape or features.shape
    sx, sy = width / spec_w, height / spec_h
    # Warp the scan into the reference's frame; what lies outside the scan is paper.
    paper = paper_level(gray)
    level = cv2.warpPerspective(
        gray, registration.homography, (width, height), flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT, borderValue=paper,
    )  # fmt: skip
    unit = width / A4_WIDTH_300DPI
    flat, horizontal, ink = rule_masks(level, unit=unit)
    default_thickness = max(2, round(2 * unit))
    raws = [
        _raw_field(spec, horizontal, ink, sx, sy, default_thickness, unit=unit) for spec in fields
    ]
    clean = rules_erase(flat, horizontal, ink, raws, unit=unit)
    inverse = np.linalg.inv(registration.homography)
    results = [
        field_cut(raw, clean, inverse, gray.shape, name=spec.name)
        for raw, spec in zip(raws, fields, strict=True)
    ]
    return PageResult(
        index,
        gray.shape[1],
        gray.shape[0],
        round(registration.angle_deg, 2),
        page_quality(gray),
        tuple(results),
    )
