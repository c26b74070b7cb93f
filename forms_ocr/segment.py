"""Segmentation of a page into fields and normalized crops: the library's main entry point."""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np

from forms_ocr.detect.fields import A4_WIDTH_300DPI, RawField, fields_detect
from forms_ocr.images import FloatImage, GrayImage, Matrix
from forms_ocr.normalize import box_is_empty, crop_normalize_mnist, crop_normalize_string
from forms_ocr.preprocess.deskew import page_rotate, skew_estimate
from forms_ocr.preprocess.masks import illumination_normalize, line_masks
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
    with rules erased; for strings the (32, W) normalization; for combs their boxes."""

    kind: str
    style: str
    bbox: BBox
    crop: GrayImage
    boxes: tuple[BoxResult, ...] = ()
    normalized: FloatImage | None = None

    def to_json(self) -> dict:
        out: dict = {"kind": self.kind, "bbox": list(self.bbox)}
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


def _to_page(bbox: BBox, inverse: Matrix, shape: tuple[int, int]) -> BBox:
    """A deskewed-page rectangle as an axis-aligned bbox in the page as read, clipped to it."""
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


def segment_page(image: GrayImage, *, index: int = 0) -> PageResult:
    """Find the fields of a page and cut their normalized crops.

    `image` is (H, W) uint8 grey as read (any DPI from 150 to 600, skew up to 10 degrees). Every
    bbox in the result is in the pixels of `image`. This is automatic mode (no template).
    """
    gray = np.ascontiguousarray(image)
    quality = page_quality(gray)
    # The skew is reported as the rotation (degrees, counter-clockwise) that levels the page.
    angle = skew_estimate(gray)
    deskewed, matrix = page_rotate(gray, angle)
    inverse = np.linalg.inv(matrix)
    unit = gray.shape[1] / A4_WIDTH_300DPI
    flat = illumination_normalize(deskewed)
    horizontal, vertical = line_masks(
        flat, block=int(41 * unit), min_length=max(15, int(30 * unit))
    )
    # Erase the rules from the crops so only handwriting remains (strokes crossing keep the
    # parts of them that are off the rule).
    rules = cv2.dilate(horizontal | vertical, np.ones((3, 3), np.uint8))
    clean = flat.copy()
    clean[rules > 0] = 255

    fields = [
        _field_result(raw, clean, inverse, gray.shape)
        for raw in fields_detect(horizontal, vertical, unit=unit)
    ]
    return PageResult(index, gray.shape[1], gray.shape[0], round(angle, 2), quality, tuple(fields))


def _field_result(raw: RawField, clean: GrayImage, inverse: Matrix, shape) -> FieldResult:
    bbox = _to_page(raw.bbox, inverse, shape)
    if raw.kind == "digits":
        boxes = []
        for cell in raw.cells:
            # Reach a little past the border: digits that cross it keep their strokes.
            crop = _cut(clean, cell, margin_x=raw.line_thickness, margin_y=cell[3] // 8)
            empty = box_is_empty(crop, ink_is_dark=True)
            normalized = (
                np.zeros((28, 28), np.float32)
                if empty
                else crop_normalize_mnist(crop, ink_is_dark=True)
            )
            boxes.append(BoxResult(_to_page(cell, inverse, shape), empty, crop, normalized))
        return FieldResult("digits", raw.style, bbox, _cut(clean, raw.bbox), tuple(boxes))
    margin_y = raw.bbox[3] // 6 if raw.style == "underline" else 0
    crop = _cut(clean, raw.bbox, margin_y=margin_y)
    return FieldResult(
        "string", raw.style, bbox, crop, normalized=crop_normalize_string(crop, ink_is_dark=True)
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
