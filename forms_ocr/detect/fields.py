"""Field detection from ruling lines.

Every length here is scaled by `unit`, the page width over an A4 page's width at 300 DPI, so the
same thresholds hold at 150 to 600 DPI.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np

from forms_ocr.images import BinaryMask

A4_WIDTH_300DPI = 2481
# Box heights of real forms lie between ~3 and ~13 mm: 35 to 160 pixels at 300 DPI.
MIN_BOX_HEIGHT = 35
MAX_BOX_HEIGHT = 160
# A vertical border spans at least this share of the band between the two horizontal rules.
BORDER_COVERAGE = 0.75
# Comb cells are roughly square; wider boxes are rectangles for a free-written string.
MIN_CELL_RATIO, MAX_CELL_RATIO = 0.35, 1.7
# Rules longer than this share of the page are page decoration (headers, separators).
MAX_UNDERLINE_SHARE = 0.75


@dataclass(frozen=True)
class Segment:
    x0: int
    x1: int
    y: int
    thickness: int

    @property
    def length(self) -> int:
        return self.x1 - self.x0


@dataclass(frozen=True)
class RawField:
    """A field in deskewed page pixels: kind, style, bbox (x, y, w, h), and comb cells."""

    kind: str
    style: str
    bbox: tuple[int, int, int, int]
    cells: tuple[tuple[int, int, int, int], ...] = ()
    line_thickness: int = 2


def horizontal_segments(horizontal: BinaryMask, *, min_length: int, max_gap: int) -> list[Segment]:
    """Horizontal rules, with pieces on one line joined across gaps up to `max_gap` pixels (a
    light printed rule breaks up in the ink mask, a digit crossing it can interrupt it)."""
    closed = cv2.morphologyEx(horizontal, cv2.MORPH_CLOSE, np.ones((1, 9), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    pieces = sorted(
        (
            Segment(int(x), int(x + w), int(y + h // 2), int(max(1, h)))
            for x, y, w, h, _ in stats[1:count]
            if h <= max(4, w / 8)
        ),
        key=lambda s: (s.x0, s.y),
    )
    merged: list[Segment] = []
    for piece in pieces:
        for k, line in enumerate(merged):
            if (
                abs(line.y - piece.y) <= max(3, line.thickness)
                and 0 <= piece.x0 - line.x1 <= max_gap
            ):
                merged[k] = Segment(
                    line.x0, max(line.x1, piece.x1), line.y, max(line.thickness, piece.thickness)
                )
                break
        else:
            merged.append(piece)
    return sorted((s for s in merged if s.length >= min_length), key=lambda s: (s.y, s.x0))


def _border_columns(vertical: BinaryMask, x0: int, x1: int, y0: int, y1: int) -> list[int]:
    band = vertical[y0:y1, max(0, x0) : x1] > 0
    if band.size == 0:
        return []
    # A border may wobble by a pixel after deskewing: look at 3-pixel-wide columns.
    covered = band.mean(axis=0)
    covered = np.maximum.reduce([covered, np.roll(covered, 1), np.roll(covered, -1)])
    columns = np.flatnonzero(covered >= BORDER_COVERAGE)
    if columns.size == 0:
        return []
    groups = np.split(columns, np.flatnonzero(np.diff(columns) > 2) + 1)
    return [int(max(0, x0) + g.mean()) for g in groups]


def _regular_borders(borders: list[int]) -> list[int]:
    """Borders at the comb's pitch: strokes off the pitch are dropped (a handwritten "1" or the
    stem of a "4" can look like a border) and borders hidden by a crossing digit are restored
    (printed combs repeat at one pitch)."""
    if len(borders) < 3:
        return borders
    pitch = float(np.median(np.diff(borders)))
    kept = [borders[0]]
    for x in borders[1:]:
        steps = (x - kept[-1]) / pitch
        if steps >= 0.75 and abs(steps - round(steps)) <= 0.25:
            # Whole pitches apart: put back the borders in between.
            missing = round(steps)
            kept.extend(round(kept[-1] + (x - kept[-1]) * k / missing) for k in range(1, missing))
            kept.append(x)
    return kept


def _cells(borders: list[int]) -> list[tuple[int, int]]:
    return list(itertools.pairwise(borders))


def fields_detect(horizontal: BinaryMask, vertical: BinaryMask, *, unit: float) -> list[RawField]:
    """Comb fields, rectangles and underlines from the line masks of a deskewed page."""
    width = horizontal.shape[1]
    min_h, max_h = MIN_BOX_HEIGHT * unit, MAX_BOX_HEIGHT * unit
    segments = horizontal_segments(horizontal, min_length=int(60 * unit), max_gap=int(45 * unit))
    used: set[int] = set()
    fields: list[RawField] = []

    for i, top in enumerate(segments):
        if i in used:
            continue
        for j in range(i + 1, len(segments)):
            bottom = segments[j]
            gap = bottom.y - top.y
            if gap < min_h:
                continue
            if gap > max_h:
                break
            overlap = min(top.x1, bottom.x1) - max(top.x0, bottom.x0)
            if j in used or overlap < 0.8 * min(top.length, bottom.length):
                continue
            x0, x1 = max(top.x0, bottom.x0), min(top.x1, bottom.x1)
            inset = max(top.thickness, bottom.thickness) + 2
            borders = _border_columns(vertical, x0 - 4, x1 + 4, top.y + inset, bottom.y - inset)
            if len(borders) < 2:
                continue
            thickness = max(top.thickness, bottom.thickness)
            borders = _regular_borders(borders)
            cells = _cells(borders)
            ratios = [(b - a) / gap for a, b in cells]
            bbox = (borders[0], top.y, borders[-1] - borders[0], gap)
            if len(cells) == 1 and ratios[0] > MAX_CELL_RATIO:
                fields.append(RawField("string", "rectangle", bbox, line_thickness=thickness))
            elif all(MIN_CELL_RATIO <= r <= MAX_CELL_RATIO for r in ratios):
                boxes = tuple((a, top.y, b - a, gap) for a, b in cells)
                fields.append(RawField("digits", "comb", bbox, boxes, line_thickness=thickness))
            else:
                continue
            used.update((i, j))
            break

    typical_height = int(np.median([f.bbox[3] for f in fields])) if fields else int(80 * unit)
    for k, segment in enumerate(segments):
        if k in used or segment.length > MAX_UNDERLINE_SHARE * width:
            continue
        if segment.length < 2.5 * typical_height:
            continue
        top = max(0, segment.y - int(1.6 * typical_height))
        fields.append(
            RawField(
                "string",
                "underline",
                (segment.x0, top, segment.length, segment.y - top),
                line_thickness=segment.thickness,
            )
        )
    return reading_order(fields, row_tolerance=typical_height / 2)


def reading_order(fields: list[RawField], *, row_tolerance: float) -> list[RawField]:
    """Top to bottom by rows (fields whose centres lie within `row_tolerance`), left to right."""
    ordered = sorted(fields, key=lambda f: f.bbox[1] + f.bbox[3] / 2)
    rows: list[list[RawField]] = []
    for field in ordered:
        centre = field.bbox[1] + field.bbox[3] / 2
        if rows and abs(centre - (rows[-1][0].bbox[1] + rows[-1][0].bbox[3] / 2)) <= row_tolerance:
            rows[-1].append(field)
        else:
            rows.append([field])
    return [field for row in rows for field in sorted(row, key=lambda f: f.bbox[0])]
