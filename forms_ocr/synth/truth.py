"""Ground truth of a generated page, in the pixels of the final (degraded) image."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np

from forms_ocr.images import Matrix

BBox = tuple[int, int, int, int]


@dataclass(frozen=True)
class TruthBox:
    bbox: BBox
    empty: bool
    digit: int | None


@dataclass(frozen=True)
class TruthField:
    kind: str  # "digits" or "string"
    bbox: BBox
    value: str
    style: str  # "comb", "rectangle" or "underline"
    boxes: tuple[TruthBox, ...] = ()


@dataclass(frozen=True)
class PageTruth:
    kind: str  # "form" or "cheque"
    width: int
    height: int
    dpi: int
    skew_deg: float
    degradations: tuple[str, ...]
    fields: tuple[TruthField, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["degradations"] = list(self.degradations)
        for item in data["fields"]:
            item["bbox"] = list(item["bbox"])
            item["boxes"] = [{**box, "bbox": list(box["bbox"])} for box in item["boxes"]]
        return data


def rect_transform(x: float, y: float, w: float, h: float, matrix: Matrix | None) -> BBox:
    """Axis-aligned bounding box (x, y, w, h) of a rectangle after a 3x3 homography."""
    corners = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], dtype=np.float64)
    if matrix is not None:
        corners = cv2.perspectiveTransform(corners[None], matrix)[0]
    x0, y0 = corners.min(axis=0)
    x1, y1 = corners.max(axis=0)
    return round(x0), round(y0), round(x1 - x0), round(y1 - y0)
