"""Field detection from ruling lines.

Every length here is scaled by `unit`, the page width over an A4 page's width at 300 DPI, so the
same thresholds hold at 150 to 600 DPI.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from forms_ocr.images import BinaryMask, GrayImage, grey_percentiles

A4_WIDTH_300DPI = 2481
# Box heights of real forms lie between ~3 and ~13 mm: 35 to 160 pixels at 300 DPI.
MIN_BOX_HEIGHT = 35
MAX_BOX_HEIGHT = 160
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


def _rule_piece(
    horizontal: BinaryMask, labels: np.ndarray, index: int, x: int, y: int, w: int, h: int
) -> Segment:
    """A component of the horizontal mask as a rule piece: ``labels`` are four times narrower
    than the page (``horizontal``), ``x, y, w, h`` its bbox in page pixels. A component more
    than a few rows high is a rule with handwriting touching it: its line is the band of rows
    around its fullest row that hold at least half as many pixels. The ends are read on the
    page's own mask, to the pixel."""
    top, bottom = 0, h - 1
    if h > 4:
        rows = (labels[y : y + h, x // 4 : (x + w) // 4] == index).sum(axis=1)
        peak = int(np.argmax(rows))
        full = rows >= rows[peak] / 2
        top = bottom = peak
        while top > 0 and full[top - 1]:
            top -= 1
        while bottom < h - 1 and full[bottom + 1]:
            bottom += 1
    left = max(0, x - 4)
    columns = np.flatnonzero(horizontal[y + top : y + bottom + 1, left : x + w + 4].any(axis=0))
    x0, x1 = (left + int(columns[0]), left + int(columns[-1]) + 1) if columns.size else (x, x + w)
    return Segment(x0, x1, y + (top + bottom) // 2, bottom - top + 1)


# Rows between a line's last piece and a piece that cannot belong to it (rules on a deskewed
# page drift a few pixels over a page's width; handwriting touching them moves their line less).
FAR_ROWS = 40


def _pieces_join(
    pieces: list[Segment], joins: Callable[[Segment, int, Segment], bool], max_gap: int
) -> list[Segment]:
    """Pieces swept left to right, each joined to the first line so far that ends at most
    ``max_gap`` before it starts (or after it) and that ``joins(line, end_y, piece)`` accepts
    (``line`` with its length-weighted height so far, ``end_y`` the height of its last piece),
    else starting a line of its own."""
    # Each line: [x0, x1, y of its last piece, sum of y * length, length, thickness].
    lines: list[list[int]] = []
    for piece in sorted(pieces, key=lambda s: (s.x0, s.y)):
        for line in lines:
            x0, x1, end_y, weighted, length, thickness = line
            # (Lines far above or below cannot take the piece, whatever ``joins`` says.)
            if piece.x0 - x1 > max_gap or abs(piece.y - end_y) > FAR_ROWS:
                continue
            current = Segment(x0, x1, round(weighted / max(1, length)), thickness)
            if joins(current, end_y, piece):
                line[1], line[2] = max(x1, piece.x1), piece.y
                line[3] += piece.y * piece.length
                line[4] += piece.length
                line[5] = max(thickness, piece.thickness)
                break
        else:
            lines.append(
                [piece.x0, piece.x1, piece.y, piece.y * piece.length, piece.length, piece.thickness]
            )
    return [
        Segment(x0, x1, round(weighted / max(1, length)), thickness)
        for x0, x1, _, weighted, length, thickness in lines
    ]


def _components(mask: BinaryMask) -> tuple[np.ndarray, np.ndarray]:
    """The 8-connected components of a sparse ``mask``: their labels (1..n, 0 off the mask)
    and their bboxes (n, 4) as x, y, w, h. The bboxes come from the mask's few pixels, which
    is several times faster than OpenCV's statistics over every pixel of the page."""
    _, labels = cv2.connectedComponents(mask, connectivity=8)
    points = cv2.findNonZero(mask)
    if points is None:
        return labels, np.zeros((0, 4), np.int64)
    xs, ys = points[:, 0, 0], points[:, 0, 1]
    order = np.argsort(labels[ys, xs], kind="stable")
    xs, ys, owners = xs[order], ys[order], labels[ys[order], xs[order]]
    starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
    x0, x1 = np.minimum.reduceat(xs, starts), np.maximum.reduceat(xs, starts)
    y0, y1 = np.minimum.reduceat(ys, starts), np.maximum.reduceat(ys, starts)
    return labels, np.stack([x0, y0, x1 - x0 + 1, y1 - y0 + 1], axis=1)


def horizontal_segments(
    horizontal: BinaryMask,
    *,
    min_length: int,
    max_gap: int,
    flat: GrayImage | None = None,
    bridge_gap: int = 0,
) -> list[Segment]:
    """Horizontal rules at least ``min_length`` long, sorted top to bottom, their pieces joined.

    A light printed rule breaks up in the ink mask, and a digit crossing it can interrupt it.
    A piece joins a line when it starts within ``max_gap`` of the line's end at about the height
    the line has there: the tolerance grows by 1% of the distance, since a long rule on a page
    deskewed to a few tenths of a degree is not quite level. With the grey page ``flat``, rules
    are then joined across gaps up to ``bridge_gap`` where the grey line runs on, at least half
    as dark as the rules on either side in nine columns of ten (a light rule breaks up most
    under writing; text standing at the same height has gaps and does not join).
    """
    # Components are found on a copy four times narrower (any ink in four columns counts):
    # rules are long and level, so they survive, and labelling a page costs a quarter.
    narrow = cv2.dilate(horizontal, np.ones((1, 4), np.uint8), anchor=(0, 0))[:, ::4]
    closed = cv2.morphologyEx(narrow, cv2.MORPH_CLOSE, np.ones((1, 3), np.uint8))
    labels, boxes = _components(closed)
    pieces = [
        _rule_piece(horizontal, labels, i, 4 * int(x), int(y), 4 * int(w), int(h))
        for i, (x, y, w, h) in enumerate(boxes, start=1)
        if h <= max(4, 4 * w / 8)
    ]

    def near(line: Segment, end_y: int, piece: Segment) -> bool:
        # A piece may also overlap the line's end: handwriting crossing a rule can cut it into
        # components that overlap in x.
        gap = max(0, piece.x0 - line.x1)
        reach = max(3, line.thickness, piece.thickness) + 0.01 * (gap + piece.length / 2)
        return abs(piece.y - end_y) <= reach

    def bridged(line: Segment, _: int, piece: Segment) -> bool:
        gap = piece.x0 - line.x1
        if gap < 0 or abs(piece.y - line.y) > max(3, line.thickness, piece.thickness) + 0.01 * gap:
            return False
        bridge = Segment(line.x1, piece.x0, (line.y + piece.y) // 2, max(line.thickness, 3))
        level = 0.5 * min(darkness(line), darkness(piece))
        return _line_darkness(flat, bridge, bridge.x0, bridge.x1, quantile=10) >= level

    known: dict[Segment, float] = {}

    def darkness(segment: Segment) -> float:
        # A line is tried against many pieces before it grows: measure it once.
        if segment not in known:
            known[segment] = _line_darkness(flat, segment, segment.x0, segment.x1)
        return known[segment]

    segments = _pieces_join(pieces, near, max_gap)
    if flat is not None and bridge_gap > 0:
        # Pieces of half the length take part in the bridging too: the top rule of a small
        # light comb breaks into pieces shorter than a rule, and only joined is it one.
        segments = _pieces_join(
            [s for s in segments if 2 * s.length >= min_length], bridged, bridge_gap
        )
    segments = [s for s in segments if s.length >= min_length]
    return sorted(segments, key=lambda s: (s.y, s.x0))


def border_profile(flat: GrayImage, x0: int, x1: int, y0: int, y1: int) -> np.ndarray:
    """How much each column of ``flat[y0:y1, x0:x1]`` looks like a printed vertical border.

    A border runs the whole height of the band between a comb's rules, so a column scores the
    lowest, over the band's top, middle and bottom thirds, of its median darkness (255 - grey)
    in that third. Handwriting seldom covers most of a column in all three thirds (digits sit
    in the middle of their box), so it scores low even where a stroke is long and dark. The
    score of a column is the best of it and its neighbours: a border may lean by a pixel.
    Works on grey levels rather than on a binary mask, so light and blurred borders that break
    up under thresholding still score.
    """
    x0 = max(0, x0)
    band = 255 - flat[y0:y1, x0:x1].astype(np.int16)
    if band.shape[0] < 3 or band.shape[1] == 0:
        return np.zeros(max(0, band.shape[1]), np.float32)
    thirds = np.array_split(band, 3, axis=0)
    score = np.min([np.median(third, axis=0) for third in thirds], axis=0).astype(np.float32)
    return np.maximum.reduce([score, np.roll(score, 1), np.roll(score, -1)])


def border_candidates(profile: np.ndarray, threshold: float) -> list[tuple[int, float]]:
    """(column, score) of each run of columns of ``profile`` at or above ``threshold``: the
    middle of its top (the columns within 10% of its best score: a border's profile is flat
    across its width and the neighbour-maximum widens it by a pixel each side) and its best
    score, joining runs closer than 3 pixels."""
    columns = np.flatnonzero(profile >= threshold)
    if columns.size == 0:
        return []
    runs = np.split(columns, np.flatnonzero(np.diff(columns) > 2) + 1)
    out = []
    for run in runs:
        scores = profile[run]
        best = float(scores.max())
        top = run[scores >= best - 0.1 * (best - threshold)]
        out.append((round(float(top.mean())), best))
    return out


# The outer borders of a comb are looked for among this many candidates at each end: a stroke
# of the writing just inside the first or last box, or just past the comb, can be a candidate.
END_CHOICES = 3
# Borders are looked for up to this many boxes (as wide as high) past the ends of a comb's rules.
EXTEND_BOXES = 3
# A comb's walls are printed alike. Inner walls score within this range of the stronger outer
# border (generated combs: 0.85-1.15, up to 1.8 where a digit runs along a wall; strokes of the
# writing that made false combs in rectangles: 0.6-0.8 and 2.4-3.4), and outer borders other
# than the first and last candidates at least this share of each other (a stroke of the
# writing just inside a box, taken for a wall, scored 0.45-0.55 of the printed one).
INNER_SCORE_RANGE = (0.7, 2.0)
OUTER_SCORE_RATIO = 0.65


def comb_borders(
    candidates: list[tuple[int, float]], height: int, extent: tuple[int, int]
) -> list[int]:
    """The borders of a comb (or a one-box rectangle) among border ``candidates`` (sorted by
    column), boxes ``height`` pixels high.

    Printed combs repeat at one pitch, so the borders are fitted as a lattice: for each choice
    of outer borders among the first and last few candidates and each count of boxes between
    them that gives comb-shaped cells, the inner lattice positions are looked up among the
    candidates that score like the stronger outer border (``INNER_SCORE_RANGE``), within 15%
    of the pitch. The fit with the most positions found minus positions
    missing wins; on a tie the wider one, then the fewer boxes. A handwritten stroke off the
    lattice is ignored, and a border hidden by a crossing digit or lost to a light print is put
    back at its lattice position. The first and last candidates as one box (a comb cell or a
    rectangle) stand when no fit does better. Other outer borders are tried only when they span
    at least 75% of ``extent`` (x0, x1 of the rules), so strokes of the writing in a wide
    rectangle cannot make a small comb of their own.
    """
    xs = [x for x, _ in candidates]
    scores = [score for _, score in candidates]
    best_key, best = (0, xs[-1] - xs[0], 0), [xs[0], xs[-1]]
    for i in range(min(END_CHOICES, len(xs) - 1)):
        for j in range(max(i + 1, len(xs) - END_CHOICES), len(xs)):
            left, right = xs[i], xs[j]
            span = right - left
            outer = i == 0 and j == len(xs) - 1
            if not outer and span < 0.75 * (extent[1] - extent[0]):
                continue
            # Printed walls score alike; a stroke of the writing in a rectangle is much fainter
            # or much darker over the box's height than its outline, and must not make lattice
            # positions (or the outer borders) of a comb.
            level = max(scores[i], scores[j])
            if not outer and min(scores[i], scores[j]) < OUTER_SCORE_RATIO * level:
                continue
            low, high = INNER_SCORE_RANGE[0] * level, INNER_SCORE_RANGE[1] * level
            inner = [
                x
                for x, score in zip(xs[i + 1 : j], scores[i + 1 : j], strict=True)
                if low <= score <= high
            ]
            most = int(span / (MIN_CELL_RATIO * height)) if height else 1
            # A count of boxes scores at most 2 * min(count - 1, len(inner)) - (count - 1), so
            # counts are tried nearest len(inner) + 1 first and a count that cannot beat the
            # best fit so far is skipped (the result is the same as trying them all).
            counts = sorted(range(2, most + 1), key=lambda c: abs(c - 1 - len(inner)))
            for count in counts:
                if 2 * min(count - 1, len(inner)) - (count - 1) < best_key[0]:
                    continue
                pitch = span / count
                if pitch > MAX_CELL_RATIO * height:
                    continue
                tolerance = max(2.0, 0.15 * pitch)
                borders, found = [left], 0
                for k in range(1, count):
                    near = _nearest(inner, left + k * pitch, tolerance)
                    if near is not None:
                        borders.append(near)
                        found += 1
                    else:
                        borders.append(round(left + k * pitch))
                key = (found - (count - 1 - found), span, -count)
                if key > best_key:
                    best_key, best = key, [*borders, right]
    return best


def _nearest(xs: list[int], target: float, tolerance: float) -> int | None:
    """The column of ``xs`` (sorted) nearest ``target`` if within ``tolerance`` of it, else None."""
    at = bisect.bisect_left(xs, target)
    near = min(xs[max(0, at - 1) : at + 1], key=lambda x: abs(x - target), default=None)
    return near if near is not None and abs(near - target) <= tolerance else None


def _line_darkness(
    flat: GrayImage, segment: Segment, xa: int, xb: int, *, quantile: float = 50.0
) -> float:
    """The ``quantile`` (median by default) along ``xa..xb`` of the darkest pixel near
    ``segment``'s line in each column."""
    y0 = max(0, segment.y - segment.thickness // 2 - 2)
    rows = flat[y0 : segment.y + segment.thickness // 2 + 3, max(0, xa) : max(0, xb)]
    if rows.size == 0:
        return 0.0
    darkness = 255 - rows.min(axis=0)
    return float(grey_percentiles(darkness.reshape(1, -1), [quantile])[0])


def comb_extend(
    borders: list[int],
    candidates: list[tuple[int, float]],
    flat: GrayImage,
    rules: tuple[Segment, Segment],
    rule_level: float,
) -> list[int]:
    """``borders`` grown outward by whole pitches while a border candidate stands there
    (within 15% of the pitch) and both rules run on to it at least ``rule_level`` dark on the
    grey page: the boxes at the ends of a light comb whose rules broke up in the line mask."""
    if len(borders) < 2:
        return borders
    pitch = (borders[-1] - borders[0]) / (len(borders) - 1)
    tolerance = max(2.0, 0.15 * pitch)
    xs = [x for x, _ in candidates]
    out = list(borders)
    for side in (-1, 1):
        while True:
            edge = out[0] if side < 0 else out[-1]
            near = _nearest(xs, edge + side * pitch, tolerance)
            if near is None:
                break
            xa, xb = sorted((edge, near))
            if min(_line_darkness(flat, rule, xa, xb) for rule in rules) < rule_level:
                break
            if side < 0:
                out.insert(0, near)
            else:
                out.append(near)
    return out


def _bottom_rules(
    segments: list[Segment], i: int, used: set[int], min_h: float, max_h: float
) -> list[tuple[list[int], int, int]]:
    """The rules that could close a box row under ``segments[i]``, best first, as (indices of
    the pieces of one rule, x0, x1 of the span shared with the top rule).

    A rule broken into pieces (light print, scan noise) counts as one: the pieces at about one
    height are taken together. The candidates are tried longest shared span first, so the row's
    real bottom rule wins over a handwritten stroke between the two rules.
    """
    top = segments[i]
    options = []
    seen: set[int] = set()
    for j in range(i + 1, len(segments)):
        bottom = segments[j]
        gap = bottom.y - top.y
        if gap > max_h:
            break
        if gap < min_h or j in used or j in seen:
            continue
        level = max(3, bottom.thickness)
        partners = [
            k
            for k in range(i + 1, len(segments))
            if k not in used
            and abs(segments[k].y - bottom.y) <= level
            and min(top.x1, segments[k].x1) > max(top.x0, segments[k].x0)
        ]
        seen.update(partners)
        if not partners:
            continue
        u0 = min(segments[k].x0 for k in partners)
        u1 = max(segments[k].x1 for k in partners)
        overlap = min(top.x1, u1) - max(top.x0, u0)
        if overlap < 0.8 * min(top.length, u1 - u0):
            continue
        shared = sum(min(top.x1, segments[k].x1) - max(top.x0, segments[k].x0) for k in partners)
        # The two rules of a box row are about as long; a short stroke over a long rule is
        # handwriting above an underline (the bar of a "4"), not the top of a box.
        if shared < 0.5 * max(top.length, u1 - u0):
            continue
        options.append((shared, partners, max(top.x0, u0), min(top.x1, u1)))
    options.sort(key=lambda option: -option[0])
    return [(partners, x0, x1) for _, partners, x0, x1 in options]


def fields_detect(flat: GrayImage, horizontal: BinaryMask, *, unit: float) -> list[RawField]:
    """Comb fields, rectangles and underlines from a deskewed, illumination-normalized page
    (``flat``, paper 255) and its horizontal line mask (vertical borders are found on the grey
    levels between pairs of rules, see :func:`border_profile`)."""
    width = horizontal.shape[1]
    min_h, max_h = MIN_BOX_HEIGHT * unit, MAX_BOX_HEIGHT * unit
    segments = horizontal_segments(
        horizontal,
        min_length=int(60 * unit),
        max_gap=int(45 * unit),
        flat=flat,
        bridge_gap=int(400 * unit),
    )
    used: set[int] = set()
    fields: list[RawField] = []

    for i, top in enumerate(segments):
        if i in used:
            continue
        for partners, x0, x1 in _bottom_rules(segments, i, used, min_h, max_h):
            bottom = segments[partners[0]]
            gap = bottom.y - top.y
            inset = max(top.thickness, bottom.thickness) + 2
            reach = max(4, round(6 * unit))
            # Borders are looked for a few boxes past the rules' ends too: a light rule's ends
            # can drop out of the line mask while its boxes are still there (comb_extend
            # grows the comb over them where the grey rules run on).
            lo = min(top.x0, *(segments[k].x0 for k in partners))
            hi = max(top.x1, *(segments[k].x1 for k in partners))
            beyond = round(EXTEND_BOXES * gap)
            start = max(0, lo - beyond)
            profile = border_profile(flat, start, hi + beyond, top.y + inset, bottom.y - inset)
            core = profile[max(0, x0 - start) : max(0, x1 - start)]
            # A border is at least 40% as dark as the comb's own rules, over the paper.
            paper = float(np.percentile(core, 25)) if core.size else 0.0
            # (Column by column, so a rule that is not quite level still shows its full ink.)
            rule = min(_line_darkness(flat, top, x0, x1), _line_darkness(flat, bottom, x0, x1))
            threshold = max(paper + 8.0, paper + 0.4 * (rule - paper))
            # Borders are printed like the rules; a column far darker than the rules is
            # handwriting (a dark "1" in a comb printed in light grey).
            darkest = paper + 2.0 * max(rule - paper, 8.0)
            found = [
                (x + start, score)
                for x, score in border_candidates(profile, threshold)
                if score <= darkest
            ]
            candidates = [c for c in found if x0 - reach <= c[0] <= x1 + reach]
            if len(candidates) < 2:
                continue
            thickness = max(top.thickness, bottom.thickness)
            borders = comb_borders(candidates, gap, (x0, x1))
            rule_level = paper + 0.5 * (rule - paper)
            borders = comb_extend(borders, found, flat, (top, bottom), rule_level)
            cells = list(itertools.pairwise(borders))
            ratios = [(b - a) / gap for a, b in cells]
            bbox = (borders[0], top.y, borders[-1] - borders[0], gap)
            if len(cells) == 1 and ratios[0] > MAX_CELL_RATIO:
                fields.append(RawField("string", "rectangle", bbox, line_thickness=thickness))
            elif all(MIN_CELL_RATIO <= r <= MAX_CELL_RATIO for r in ratios):
                boxes = tuple((a, top.y, b - a, gap) for a, b in cells)
                fields.append(RawField("digits", "comb", bbox, boxes, line_thickness=thickness))
            else:
                continue
            used.add(i)
            used.update(partners)
            break

    typical_height = int(np.median([f.bbox[3] for f in fields])) if fields else int(80 * unit)
    rules = [
        segment
        for k, segment in enumerate(segments)
        if k not in used and 2.5 * typical_height <= segment.length <= MAX_UNDERLINE_SHARE * width
    ]
    writing_height = int(1.6 * typical_height)
    for segment in rules:
        # A long stroke of the writing on a rule (the feet of "153") is not a rule of its own.
        if any(
            0 < rule.y - segment.y <= writing_height
            and min(rule.x1, segment.x1) - max(rule.x0, segment.x0) > 0.5 * segment.length
            and rule.length > segment.length
            for rule in rules
        ):
            continue
        top = max(0, segment.y - writing_height)
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
