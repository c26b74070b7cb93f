"""Splitting written numbers into single characters by connected components.

The fallback reader of digit strings when no string model is installed: each component is
normalized like a comb box and read by the digit classifier. Touching digits stay one component
and read poorly, which shows as low confidence, so such fields go to review.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from forms_ocr.images import GrayImage
from forms_ocr.normalize import INK_LEVEL, box_is_empty, ink_is_dark_detect, ink_map

# Components smaller than this share of the writing's height are specks, dots or commas.
MIN_HEIGHT_SHARE = 0.3
# Two components overlapping this share of the narrower one's width are one character
# (the detached top bar of a 5, a broken stroke).
MERGE_OVERLAP = 0.6


@dataclass(frozen=True)
class Component:
    """One character candidate: bbox (x, y, w, h) in the input crop, and its pixels (uint8 grey)
    with a margin of background around them."""

    bbox: tuple[int, int, int, int]
    crop: GrayImage


def ink_components_split(crop: GrayImage, *, ink_is_dark: bool | None = None) -> list[Component]:
    """Character candidates of a written number, left to right; none for an empty crop.

    `crop` is (H, W) uint8 of any polarity; each returned crop keeps the input's polarity and
    only the pixels of its own component (the neighbours' strokes are blanked to background).
    """
    if ink_is_dark is None:
        ink_is_dark = ink_is_dark_detect(crop)
    if box_is_empty(crop, ink_is_dark=ink_is_dark):
        return []
    ink = ink_map(crop, ink_is_dark=ink_is_dark) > INK_LEVEL
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    boxes = [[*stats[i, :4].tolist(), i] for i in range(1, count)]
    if not boxes:
        return []
    writing_height = max(b[3] for b in boxes)
    boxes = [b for b in boxes if b[3] >= MIN_HEIGHT_SHARE * writing_height]
    boxes.sort(key=lambda b: b[0])

    groups: list[dict] = []
    for x, y, w, h, label in boxes:
        if groups:
            last = groups[-1]
            overlap = min(last["x1"], x + w) - max(last["x0"], x)
            if overlap >= MERGE_OVERLAP * min(w, last["x1"] - last["x0"]):
                last.update(x0=min(last["x0"], x), x1=max(last["x1"], x + w),
                            y0=min(last["y0"], y), y1=max(last["y1"], y + h))  # fmt: skip
                last["labels"].append(label)
                continue
        groups.append({"x0": x, "x1": x + w, "y0": y, "y1": y + h, "labels": [label]})

    background = int(np.median(crop))
    components = []
    for group in groups:
        keep = np.isin(labels, group["labels"])
        isolated = np.where(keep, crop, background).astype(np.uint8)
        x0, y0, x1, y1 = group["x0"], group["y0"], group["x1"], group["y1"]
        # A margin of paper, so the crop is mostly background as box normalization expects.
        margin = max(2, (y1 - y0) // 4)
        padded = cv2.copyMakeBorder(
            isolated[y0:y1, x0:x1], margin, margin, margin, margin, cv2.BORDER_CONSTANT,
            value=background,
        )  # fmt: skip
        components.append(Component((int(x0), int(y0), int(x1 - x0), int(y1 - y0)), padded))
    return components
