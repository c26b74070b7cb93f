"""Segmentation of a page into fields and normalized crops: the library's main entry point."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from forms_ocr.detect.fields import A4_WIDTH_300DPI, RawField, fields_detect
from forms_ocr.images import BinaryMask, FloatImage, GrayImage, Matrix
from forms_ocr.normalize import box_normalize, crop_normalize_string
from forms_ocr.preprocess.deskew import page_rotate, skew_estimate
from forms_ocr.preprocess.masks import illumination_normalize, line_mask, rule_ink_mask
from forms_ocr.quality import PageQuality, page_quality
from forms_ocr.reading import DEFAULT_MAX_PAGES, DEFAULT_MAX_PIXELS, pages_read

BBox = tuple[int, int, int, int]


@dataclass(frozen=True)
class BoxResult:
    """One comb box: bbox on the page as read, emptiness, the cell crop with its printed border
    erased (uint8 grey, dark ink on light paper) and its MNIST normalization (zeros if empty)."""

    bbox: BBox
    empty: bool
    crop: GrayImage
    normalized: FloatImage


@dataclass(frozen=True)
class FieldResult:
    """A field: `kind` "digits" (comb) or "string"; bbox on the page as read; the field crop
    with rules erased; for strings the (32, W) normalization; for combs their boxes; `name`
    when a template names it."""

    kind: str
    style: str
    bbox: BBox
    crop: GrayImage
    boxes: tuple[BoxResult, ...] = ()
    normalized: FloatImage | None = None
    # The template's name for the field; automatic mode leaves it empty.
    name: str = ""

    def to_json(self) -> dict:
        out: dict = {"name": self.name} if self.name else {}
        out.update(kind=self.kind, bbox=list(self.bbox))
        if self.kind == "digits":
            out["boxes"] = [{"bbox": list(b.bbox), "empty": b.empty} for b in self.boxes]
        return out


@dataclass(frozen=True)
class PageResult:
    index: int
    width: int
    height: int
    skew_deg: float
    quality: PageQuality
    fields: tuple[FieldResult, ...]

    def to_json(self) -> dict:
        return {
            "index": self.index,
            "width": self.width,
            "height": self.height,
            "skew_deg": self.skew_deg,
            "quality": self.quality.to_json(),
            "fields": [f.to_json() for f in self.fields],
        }


def bbox_to_page(bbox: BBox, inverse: Matrix, shape: tuple[int, ...]) -> BBox:
    """A rectangle of a transformed page (deskewed, or registered to a template) as an
    axis-aligned bbox in the page as read, clipped to it; `inverse` (3x3) maps the transformed
    page's pixels back to the page's, `shape` is the page's (H, W)."""
    x, y, w, h = bbox
    corners = np.array([[[x, y], [x + w, y], [x + w, y + h], [x, y + h]]], dtype=np.float64)
    mapped = cv2.perspectiveTransform(corners, inverse)[0]
    x0, y0 = np.clip(mapped.min(axis=0), 0, None)
    x1, y1 = mapped.max(axis=0)
    x1, y1 = min(x1, shape[1]), min(y1, shape[0])
    return round(x0), round(y0), round(x1 - x0), round(y1 - y0)


def _cut(image: GrayImage, bbox: BBox, margin_x: int = 0, margin_y: int = 0) -> GrayImage:
    x, y, w, h = bbox
    y0, y1 = max(0, y - margin_y), min(image.shape[0], y + h + margin_y)
    x0, x1 = max(0, x - margin_x), min(image.shape[1], x + w + margin_x)
    return image[y0:y1, x0:x1].copy()


def _rule_block(unit: float) -> int:
    """The neighbourhood (pixels) of the ink threshold that finds printed rules (some room
    even on a thumbnail-sized page)."""
    return max(15, int(41 * unit))


def _rule_min_length(unit: float) -> int:
    """The shortest straight stroke (pixels) that counts as a piece of a printed rule."""
    return max(15, int(30 * unit))


def rule_masks(page: GrayImage, *, unit: float) -> tuple[GrayImage, BinaryMask, BinaryMask]:
    """The illumination-normalized page, its horizontal rule mask and its ink mask.

    `page` is (H, W) uint8 grey, level (deskewed or registered); `unit` is its width over an A4
    page's at 300 DPI. The rule mask holds every long horizontal stroke, handwritten ones
    included. Vertical rules are needed only around fields: :func:`vertical_rules` finds them
    in the ink mask where they are asked for, at a fraction of the cost of the whole page.
    """
    flat = illumination_normalize(page)
    ink = rule_ink_mask(flat, block=_rule_block(unit))
    return flat, line_mask(ink, min_length=_rule_min_length(unit)), ink


def vertical_rules(ink: BinaryMask, *, unit: float) -> BinaryMask:
    """The long vertical strokes of (a part of) an ink mask from :func:`rule_masks`."""
    return line_mask(ink, min_length=_rule_min_length(unit), vertical=True)


def _field_region(field: RawField, shape: tuple[int, ...], *, unit: float) -> tuple[slice, slice]:
    """Rows and columns of a page around `field`: its bbox with room for the border bands
    (see :func:`border_bands`) and the margins the crops reach past the borders."""
    x, y, w, h = field.bbox
    pad = field.line_thickness + max(4, round(8 * unit)) + h // 6
    return (
        slice(max(0, y - pad), min(shape[0], y + h + pad)),
        slice(max(0, x - pad), min(shape[1], x + w + pad)),
    )


def border_bands(
    fields: Sequence[RawField],
    shape: tuple[int, ...],
    *,
    unit: float,
    origin: tuple[int, int] = (0, 0),
) -> BinaryMask:
    """255 within reach of the printed borders of `fields` (comb and rectangle outlines, comb
    box walls, the rule under an underline field), 0 elsewhere; (H, W) of `shape`, its top-left
    pixel at page pixel `origin` (x, y)."""
    bands = np.zeros(shape[:2], np.uint8)
    ox, oy = origin
    for field in fields:
        # Half the rule, plus room for a border that wobbles or sits a pixel off its place.
        reach = field.line_thickness // 2 + max(2, round(3 * unit))
        width = 2 * reach + 1
        x, y, w, h = field.bbox
        x, y = x - ox, y - oy
        if field.style == "underline":
            cv2.line(bands, (x, y + h), (x + w, y + h), 255, width)
            continue
        cv2.rectangle(bands, (x, y), (x + w, y + h), 255, width)
        for cx, cy, cw, ch in field.cells:
            cx, cy = cx - ox, cy - oy
            cv2.line(bands, (cx, cy), (cx, cy + ch), 255, width)
            cv2.line(bands, (cx + cw, cy), (cx + cw, cy + ch), 255, width)
    return bands


def rules_erase(
    flat: GrayImage,
    horizontal: BinaryMask,
    ink: BinaryMask,
    fields: Sequence[RawField],
    *,
    unit: float,
) -> GrayImage:
    """`flat` with the printed rules of `fields` painted white, so that only handwriting is left
    in their crops. `horizontal` and `ink` are the masks of :func:`rule_masks`; the vertical
    rules are found in `ink` around each field. Only straight strokes near the fields' borders
    are erased, since a handwritten "1" or the stem of a "4" is a long straight stroke too
    (strokes crossing a border keep the parts of them that are off the rule). Only the pixels
    around the fields change, and only they are worked on.
    """
    clean = flat.copy()
    for field in fields:
        rows, columns = _field_region(field, flat.shape, unit=unit)
        near = horizontal[rows, columns] | vertical_rules(ink[rows, columns], unit=unit)
        thick = cv2.dilate(near, np.ones((3, 3), np.uint8))
        bands = border_bands([field], thick.shape, unit=unit, origin=(columns.start, rows.start))
        clean[rows, columns][(thick > 0) & (bands > 0)] = 255
    return clean


@dataclass(frozen=True)
class PageAnalysis:
    """Automatic mode's intermediates: the skew `angle` (degrees), the 3x3 matrix mapping the
    deskewed page back to the page as read, the scale `unit`, the deskewed page with its rules
    erased, and the fields found on it (in deskewed pixels, reading order)."""

    angle: float
    inverse: Matrix
    unit: float
    clean: GrayImage
    fields: tuple[RawField, ...]


def page_analyse(gray: GrayImage) -> PageAnalysis:
    """Deskew a page (H, W) uint8, erase its rules and detect its fields (automatic mode)."""
    # The skew is reported as the rotation (degrees, counter-clockwise) that levels the page.
    angle = skew_estimate(gray)
    deskewed, matrix = page_rotate(gray, angle)
    unit = gray.shape[1] / A4_WIDTH_300DPI
    flat, horizontal, ink = rule_masks(deskewed, unit=unit)
    fields = fields_detect(flat, horizontal, unit=unit)
    clean = rules_erase(flat, horizontal, ink, fields, unit=unit)
    return PageAnalysis(angle, np.linalg.inv(matrix), unit, clean, tuple(fields))


def segment_page(image: GrayImage, *, index: int = 0) -> PageResult:
    """Find the fields of a page and cut their normalized crops.

    `image` is (H, W) uint8 grey as read (any DPI from 150 to 600, skew up to 10 degrees). Every
    bbox in the result is in the pixels of `image`. This is automatic mode (no template).
    """
    gray = np.ascontiguousarray(image)
    quality = page_quality(gray)
    analysis = page_analyse(gray)
    fields = [
        field_cut(raw, analysis.clean, analysis.inverse, gray.shape) for raw in analysis.fields
    ]
    # A degenerate detection (a sliver on the page's edge, a comb without boxes) has nothing to
    # read: drop it rather than hand an empty crop on.
    fields = [f for f in fields if f.crop.size and (f.kind != "digits" or f.boxes)]
    return PageResult(
        index, gray.shape[1], gray.shape[0], round(analysis.angle, 2), quality, tuple(fields)
    )


def field_cut(
    raw: RawField, clean: GrayImage, inverse: Matrix, shape: tuple[int, ...], *, name: str = ""
) -> FieldResult:
    """Cut a field found (or placed by a template) on a level page with its rules erased
    (`clean`): per comb box the crop reaching past the border, the emptiness decision and the
    MNIST normalization; for a string the crop and its (32, W) normalization. Bboxes are mapped
    to the page as read through `inverse` (3x3); `shape` is that page's (H, W)."""
    bbox = bbox_to_page(raw.bbox, inverse, shape)
    if raw.kind == "digits":
        boxes = []
        for cell in raw.cells:
            # Reach a little past the border: digits that cross it keep their strokes.
            margin_x, margin_y = raw.line_thickness, cell[3] // 8
            crop = _cut(clean, cell, margin_x=margin_x, margin_y=margin_y)
            # Writing in this box has ink in the middle of the cell (a sixth in from each side).
            x, y, w, h = cell
            core = (
                x - max(0, x - margin_x) + w // 6,
                y - max(0, y - margin_y) + h // 6,
                w - 2 * (w // 6),
                h - 2 * (h // 6),
            )
            normalized = box_normalize(crop, ink_is_dark=True, core=core)
            empty = normalized is None
            if empty:
                normalized = np.zeros((28, 28), np.float32)
            boxes.append(BoxResult(bbox_to_page(cell, inverse, shape), empty, crop, normalized))
        return FieldResult(
            "digits", raw.style, bbox, _cut(clean, raw.bbox), tuple(boxes), name=name
        )
    margin_y = raw.bbox[3] // 6 if raw.style == "underline" else 0
    crop = _cut(clean, raw.bbox, margin_y=margin_y)
    return FieldResult(
        "string",
        raw.style,
        bbox,
        crop,
        normalized=crop_normalize_string(crop, ink_is_dark=True),
        name=name,
    )


def segment_file(
    source: str | os.PathLike[str] | bytes,
    *,
    max_pages: int = DEFAULT_MAX_PAGES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> list[PageResult]:
    """Read a PDF, TIFF, PNG or JPEG file and segment every page (see `pages_read` for errors)."""
    pages = pages_read(source, max_pages=max_pages, max_pixels=max_pixels)
    return [segment_page(page.image, index=page.index) for page in pages]
