"""Registration of a scan to a form template's blank reference page.

Keypoints (ORB) are found on copies of both pages shrunk by one common factor. Page-wide matches
that pass Lowe's ratio test (print and labels: comb corners all look alike and fail it) give a
first estimate, a similarity fitted with RANSAC. Guided matching then pairs every keypoint with
the reference keypoints near its predicted place, comb corners included, in rounds that refine
an affine estimate; a homography is fitted to the last round's matches with RANSAC. The result
is checked: enough matches must agree, the warp must be one a scanner makes (scale, rotation,
shear, perspective within limits), and the printed rules of scan and reference must coincide
both ways.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from forms_ocr.detect.fields import A4_WIDTH_300DPI
from forms_ocr.errors import RegistrationError
from forms_ocr.images import BinaryMask, GrayImage, Matrix, paper_level
from forms_ocr.preprocess.masks import illumination_normalize, line_masks

logger = logging.getLogger(__name__)

DEFAULT_MIN_INLIERS = 40
# Keypoints are found on copies of at most this many pixels (an A4 page at ~160 DPI). Smaller
# copies of noisy 150-DPI scans lost the labels' features: only the title matched, and
# registration failed on 5 of 20 bench pages; 300- and 600-DPI pages shrink to this size.
WORK_PIXELS = 2_500_000
# More keypoints add matches on large pages but matching time grows with their product.
REFERENCE_KEYPOINTS = 3000
SCAN_KEYPOINTS = 4000
# Lowe's ratio test: a match must be clearly better than the second best. Comb boxes repeat,
# so their corners fail it; labels and titles pass.
MATCH_RATIO = 0.8
# RANSAC reprojection tolerance in work-copy pixels, for the first estimate (a similarity,
# which leaves a slight perspective unexplained) and for the final homography.
RANSAC_THRESHOLD = 3.0
GUIDED_THRESHOLD = 2.0
# Guided matching looks this far (a share of the work copy's longer side) around the current
# estimate's prediction; each round refits an affine map to its matches, so an estimate made
# from the title alone (slightly off in angle far down the page) is corrected row by row.
GUIDED_RADIUS = 0.012
GUIDED_ROUNDS = 3
# Among the reference keypoints near the prediction the best must beat the runner-up by this.
GUIDED_RATIO = 0.9
# Hamming distance (of 256 bits) above which a guided match is not the same corner.
MAX_GUIDED_DISTANCE = 64
# What a scanner (or a phone held over a desk) does to a page, with room to spare over the
# rotation up to 10 degrees and scale 0.9-1.1 the product promises.
MIN_SCALE, MAX_SCALE = 0.8, 1.25
MAX_ROTATION_DEG = 15.0
# The two axes of the warp may differ in length by this share (shear or a one-way stretch).
MAX_ANISOTROPY = 0.12
# The page's far side may look this much larger or smaller than its near side.
MAX_PERSPECTIVE = 0.08
# The printed rules must agree both ways. Share of the scan's rule pixels that land near a rule
# of the reference: 0.85-0.98 on scans of the right form (every degradation on), 0.16-0.29 on
# other forms (which share the title and labels, so their features do match).
MIN_RULE_PRECISION = 0.6
# Share of the reference's rule pixels that land on ink in the scan: 0.6-1.0 on the right form
# (light drop-out borders fade), 0.29-0.47 on other forms. A sanity check for scans whose own
# rules are too few to judge by.
MIN_RULE_RECALL = 0.35
# At most this many rule pixels are kept to test recall (a regular subsample).
RULE_SAMPLE = 20_000
# Below this many rule pixels a page has no rules worth checking (a page of text, or drop-out
# borders the scanner erased).
MIN_RULE_PIXELS = 200
# A scan's rule pixel counts as on a reference rule within this many work pixels of it.
RULE_REACH = 2


@dataclass(frozen=True, eq=False)
class ReferenceFeatures:
    """What registration needs from a reference page, computed once per template.

    `shape` is the reference's (H, W) in pixels; `factor` the shrink of the work copies
    (work pixels = page pixels * factor); `points` (N, 2) float32 keypoint positions and
    `descriptors` (N, 32) uint8 ORB descriptors on the work copy, whose (h, w) is `work_shape`;
    `rule_points` (M, 2) float32 work-copy positions of printed-rule pixels; `rule_zone` the
    work copy's pixels within `RULE_REACH` of a rule, packed 8 to a byte along rows
    (`np.packbits(..., axis=1)`). A few hundred kilobytes; picklable.
    """

    shape: tuple[int, int]
    factor: float
    work_shape: tuple[int, int]
    points: NDArray[np.float32]
    descriptors: NDArray[np.uint8]
    rule_points: NDArray[np.float32]
    rule_zone: NDArray[np.uint8]

    def rule_zone_mask(self) -> NDArray[np.bool_]:
        """The unpacked `rule_zone`: (h, w) bool in work-copy pixels."""
        return np.unpackbits(self.rule_zone, axis=1, count=self.work_shape[1]).astype(bool)


@dataclass(frozen=True, eq=False)
class Registration:
    """A scan aligned to a reference: `homography` (3, 3) float64 maps scan pixels to reference
    pixels; `matches` page-wide matches passed the ratio test, `inliers` matches (guided ones,
    near where the first estimate puts them) agree with the homography;
    `angle_deg` is the rotation (degrees, counter-clockwise as cv2 rotates) that levels the scan
    onto the reference, `scale` the size of the form on the scan over its size on the reference.
    """

    homography: Matrix
    matches: int
    inliers: int
    angle_deg: float
    scale: float


def _work_factor(shape: tuple[int, ...]) -> float:
    return min(1.0, math.sqrt(WORK_PIXELS / (shape[0] * shape[1])))


def _work_copy(gray: GrayImage, factor: float) -> GrayImage:
    if factor >= 1.0:
        return np.ascontiguousarray(gray)
    return cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)


def _keypoints(small: GrayImage, count: int) -> tuple[NDArray[np.float32], NDArray[np.uint8]]:
    orb = cv2.ORB_create(nfeatures=count, scaleFactor=1.2, nlevels=6, fastThreshold=12)
    keypoints, descriptors = orb.detectAndCompute(small, None)
    if descriptors is None:
        return np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8)
    return np.float32([k.pt for k in keypoints]), descriptors


def _ink(small: GrayImage, work_unit: float) -> BinaryMask:
    """Ink of a work copy, thickened by a pixel either way to forgive small misregistration."""
    block = max(15, int(41 * work_unit)) | 1
    mask = cv2.adaptiveThreshold(
        small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 8
    )
    return cv2.dilate(mask, np.ones((3, 3), np.uint8))


def _rules(small: GrayImage) -> BinaryMask:
    """Printed rules of a work copy (long straight strokes), scaled as automatic mode scales
    them from an A4 page."""
    work_unit = small.shape[1] / A4_WIDTH_300DPI
    horizontal, vertical = line_masks(
        illumination_normalize(small),
        block=max(15, int(41 * work_unit)),
        min_length=max(12, int(50 * work_unit)),
    )
    return horizontal | vertical


def reference_features(reference: GrayImage) -> ReferenceFeatures:
    """Keypoints, descriptors and printed rules of a blank reference page (H, W) uint8 grey,
    level, any DPI from 150 to 600. Compute once per template and keep it."""
    gray = np.ascontiguousarray(reference)
    factor = _work_factor(gray.shape)
    small = _work_copy(gray, factor)
    points, descriptors = _keypoints(small, REFERENCE_KEYPOINTS)
    rules = _rules(small)
    rows, cols = np.nonzero(rules)
    stride = max(1, rows.size // RULE_SAMPLE)
    rule_points = np.stack([cols[::stride], rows[::stride]], axis=1).astype(np.float32)
    zone = cv2.dilate(rules, np.ones((2 * RULE_REACH + 1, 2 * RULE_REACH + 1), np.uint8)) > 0
    return ReferenceFeatures(
        shape=(int(gray.shape[0]), int(gray.shape[1])),
        factor=factor,
        work_shape=(int(small.shape[0]), int(small.shape[1])),
        points=points,
        descriptors=descriptors,
        rule_points=rule_points,
        rule_zone=np.packbits(zone, axis=1),
    )


def _geometry(homography: Matrix, shape: tuple[int, int]) -> tuple[float, float, float, float]:
    """(angle_deg, scale, anisotropy, perspective) of a scan-to-reference homography; `shape`
    is the reference's (H, W)."""
    h = homography / homography[2, 2]
    # The map from the reference into the scan, linearized at the reference's centre.
    inverse = np.linalg.inv(h)
    centre = np.array([shape[1] / 2, shape[0] / 2, 1.0])
    w = float(inverse[2] @ centre)
    jacobian = (inverse[:2, :2] * w - np.outer(inverse[:2] @ centre, inverse[2, :2])) / w**2
    singular = np.linalg.svd(jacobian, compute_uv=False)
    det = float(np.linalg.det(jacobian))
    scale = math.sqrt(abs(det))
    anisotropy = float(singular[0] / max(singular[1], 1e-9)) - 1.0
    if det < 0:
        anisotropy = math.inf  # a mirror image: no scanner does that
    # A scan turned by t degrees (cv2's sense) maps the reference through [[c, s], [-s, c]]; the
    # rotation that levels it is -t, the rotation part's angle in the image's y-down frame.
    angle = math.degrees(
        math.atan2(jacobian[1, 0] - jacobian[0, 1], jacobian[0, 0] + jacobian[1, 1])
    )
    # Perspective: how much the local scale differs between opposite corners of the page.
    corners = np.array([[0, 0, 1], [shape[1], 0, 1], [shape[1], shape[0], 1], [0, shape[0], 1]])
    depth = corners @ inverse[2]
    perspective = float(depth.max() / depth.min()) - 1.0 if depth.min() > 0 else math.inf
    return angle, scale, anisotropy, perspective


def _geometry_check(homography: Matrix, shape: tuple[int, int]) -> tuple[float, float]:
    angle, scale, anisotropy, perspective = _geometry(homography, shape)
    problem = None
    if anisotropy == math.inf:
        problem = "the scan would be a mirror image"
    elif not MIN_SCALE <= scale <= MAX_SCALE:
        problem = (
            f"scale {scale:.2f} (the form must appear {MIN_SCALE} to {MAX_SCALE} times its size "
            "on the template's reference; scanned at another DPI?)"
        )
    elif abs(angle) > MAX_ROTATION_DEG:
        problem = f"rotation {angle:.1f} degrees (at most {MAX_ROTATION_DEG:.0f})"
    elif anisotropy > MAX_ANISOTROPY:
        problem = f"sheared or stretched by {anisotropy:.0%} (at most {MAX_ANISOTROPY:.0%})"
    elif perspective > MAX_PERSPECTIVE:
        problem = (
            f"perspective {perspective:.0%} (one side of the page that much larger than the "
            f"other; at most {MAX_PERSPECTIVE:.0%})"
        )
    if problem:
        raise RegistrationError(
            f"implausible homography: {problem}; the scan does not show the template's form, "
            "or is badly distorted"
        )
    return angle, scale


def _lookup(mask: NDArray[np.bool_] | BinaryMask, points: np.ndarray) -> NDArray[np.bool_]:
    """`mask` at `points` (N, 2) x, y (False outside the mask)."""
    xs, ys = np.round(points[:, 0]).astype(int), np.round(points[:, 1]).astype(int)
    inside = (xs >= 0) & (ys >= 0) & (xs < mask.shape[1]) & (ys < mask.shape[0])
    found = np.zeros(len(points), bool)
    found[inside] = mask[ys[inside], xs[inside]] > 0
    return found


def _rule_agreement(
    features: ReferenceFeatures, small: GrayImage, homography: Matrix
) -> tuple[float | None, float | None]:
    """(precision, recall) of the printed rules, or None where too few rules to judge: the
    share of the scan's rule pixels near a reference rule, and the share of the reference's
    rule pixels on ink in the scan. `homography` maps scan to reference work pixels."""
    if len(features.rule_points) < MIN_RULE_PIXELS:
        return None, None
    zone = features.rule_zone_mask()
    # Compare in the reference's frame, where rules are level and line masks find them.
    paper = paper_level(small)
    level = cv2.warpPerspective(
        small, homography, (zone.shape[1], zone.shape[0]), flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT, borderValue=paper,
    )  # fmt: skip
    ink = _ink(level, level.shape[1] / A4_WIDTH_300DPI)
    recall = float(_lookup(ink, features.rule_points).mean())
    rules = _rules(level) > 0
    count = int(rules.sum())
    precision = float((rules & zone).sum() / count) if count >= MIN_RULE_PIXELS else None
    return precision, recall


def _ratio_matches(
    descriptors: NDArray[np.uint8], reference: NDArray[np.uint8]
) -> NDArray[np.int64]:
    """(K, 2) index pairs (scan, reference) whose best match passes the ratio test."""
    if len(descriptors) < 2 or len(reference) < 2:
        return np.zeros((0, 2), np.int64)
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    pairs = [
        (best.queryIdx, best.trainIdx)
        for best, second in (
            p for p in matcher.knnMatch(descriptors, reference, k=2) if len(p) == 2
        )
        if best.distance < MATCH_RATIO * second.distance
    ]
    return np.array(pairs, np.int64).reshape(-1, 2)


def _guided_matches(
    points: NDArray[np.float32],
    descriptors: NDArray[np.uint8],
    features: ReferenceFeatures,
    estimate: NDArray[np.float64],
    radius: float,
) -> NDArray[np.int64]:
    """Matches searched only near where an estimate puts each scan keypoint.

    The corners of comb boxes all look alike, so page-wide matching drops them; near their
    predicted place they are unique, and they spread the matches over the whole form, which is
    what pins down a homography. `estimate` (2, 3) maps scan to reference work pixels.
    Returns (K, 2) index pairs (scan, reference) that pass the ratio test among the reference
    keypoints within `radius` pixels of the prediction.
    """
    predicted = points @ estimate[:, :2].T + estimate[:, 2]
    # Bucket the reference keypoints on a grid of `radius` cells; candidates of a scan keypoint
    # lie in the 3x3 cells around its prediction.
    ref_cells = np.floor(features.points / radius).astype(np.int64)
    columns = int(ref_cells[:, 0].max()) + 3 if len(ref_cells) else 1
    ref_keys = (ref_cells[:, 1] + 1) * columns + ref_cells[:, 0] + 1
    order = np.argsort(ref_keys, kind="stable")
    sorted_keys = ref_keys[order]
    scan_cells = np.floor(predicted / radius).astype(np.int64)
    scan_index, ref_index = [], []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            cx, cy = scan_cells[:, 0] + dx + 1, scan_cells[:, 1] + dy + 1
            valid = (cx >= 0) & (cx < columns) & (cy >= 0)
            keys = np.where(valid, cy * columns + cx, -1)
            start = np.searchsorted(sorted_keys, keys, side="left")
            stop = np.where(valid, np.searchsorted(sorted_keys, keys, side="right"), start)
            counts = stop - start
            scan_index.append(np.repeat(np.arange(len(points)), counts))
            offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            ref_index.append(order[np.repeat(start, counts) + offsets])
    query, train = np.concatenate(scan_index), np.concatenate(ref_index)
    near = np.sum((predicted[query] - features.points[train]) ** 2, axis=1) <= radius**2
    query, train = query[near], train[near]
    if query.size == 0:
        return np.zeros((0, 2), np.int64)
    distance = np.unpackbits(descriptors[query] ^ features.descriptors[train], axis=1).sum(axis=1)
    # Per scan keypoint, candidates by increasing descriptor distance: keep the best when it
    # clearly beats the runner-up (or has none and is a close match on its own).
    order = np.lexsort((distance, query))
    query, train, distance = query[order], train[order], distance[order]
    first = np.flatnonzero(np.r_[True, query[1:] != query[:-1]])
    has_second = np.r_[query[first[:-1] + 1] == query[first[:-1]], False] if first.size else []
    has_second = np.asarray(has_second, bool)
    if first.size and first[-1] + 1 < len(query):
        has_second[-1] = query[first[-1] + 1] == query[first[-1]]
    second = np.where(has_second, distance[np.minimum(first + 1, len(query) - 1)], np.inf)
    keep = (distance[first] < GUIDED_RATIO * second) & (distance[first] <= MAX_GUIDED_DISTANCE)
    return np.stack([query[first[keep]], train[first[keep]]], axis=1)


def page_register(
    image: GrayImage,
    reference: GrayImage | ReferenceFeatures,
    *,
    min_inliers: int = DEFAULT_MIN_INLIERS,
) -> Registration:
    """Align a scan to a template's reference page.

    `image` is the scan (H, W) uint8 grey as read, at the reference's DPI within 0.8-1.25x,
    rotated up to 15 degrees, anywhere on a canvas of any size. `reference` is the blank
    reference (uint8 grey) or its precomputed `reference_features`. Returns the homography from
    scan pixels to reference pixels with its statistics. Raises RegistrationError, with a
    reason for the user, when fewer than `min_inliers` matches agree, when the homography is not
    one a scanner makes, or when the reference's printed rules are not on the scan.
    """
    features = (
        reference if isinstance(reference, ReferenceFeatures) else reference_features(reference)
    )
    small = _work_copy(np.ascontiguousarray(image), features.factor)
    points, descriptors = _keypoints(small, SCAN_KEYPOINTS)
    good = _ratio_matches(descriptors, features.descriptors)
    if len(good) < min_inliers:
        raise RegistrationError(
            f"too few matching features ({len(good)} of at least {min_inliers}): the scan does "
            "not show the template's form, or it is blank or unreadable"
        )
    # A first estimate with four degrees of freedom (rotation, scale, shift) from the distinct
    # features (print, labels): robust even when they crowd into a few places of the page.
    similarity, mask = cv2.estimateAffinePartial2D(
        points[good[:, 0]], features.points[good[:, 1]], method=cv2.RANSAC,
        ransacReprojThreshold=RANSAC_THRESHOLD, maxIters=5000, confidence=0.999,
    )  # fmt: skip
    agreeing = int(mask.sum()) if mask is not None else 0
    if similarity is None or agreeing < min_inliers:
        raise RegistrationError(
            f"too few matching features agree on one position ({agreeing} of at least "
            f"{min_inliers}, of {len(good)} matches): the scan does not show the template's form"
        )
    # Then every feature near its predicted place, in rounds that refine an affine estimate,
    # and a homography fitted to the last round's matches.
    radius = GUIDED_RADIUS * max(features.work_shape)
    model = similarity
    for _ in range(GUIDED_ROUNDS - 1):
        guided = _guided_matches(points, descriptors, features, model, radius)
        if len(guided) < min_inliers:
            break
        fitted, _mask = cv2.estimateAffine2D(
            points[guided[:, 0]], features.points[guided[:, 1]], method=cv2.RANSAC,
            ransacReprojThreshold=RANSAC_THRESHOLD, maxIters=5000, confidence=0.999,
        )  # fmt: skip
        if fitted is None:
            break
        model = fitted
    guided = _guided_matches(points, descriptors, features, model, radius)
    homography, inliers = None, 0
    if len(guided) >= min_inliers:
        homography, mask = cv2.findHomography(
            points[guided[:, 0]], features.points[guided[:, 1]], cv2.USAC_ACCURATE,
            GUIDED_THRESHOLD, maxIters=5000, confidence=0.999,
        )  # fmt: skip
        inliers = int(mask.sum()) if mask is not None else 0
    if homography is None or inliers < min_inliers:
        logger.debug("guided matching gave %d inliers; keeping the similarity", inliers)
        homography, inliers = np.vstack([similarity, [0.0, 0.0, 1.0]]), agreeing
    precision, recall = _rule_agreement(features, small, homography)
    # From work copies back to page pixels: both copies were shrunk by the same factor.
    shrink = np.diag([features.factor, features.factor, 1.0])
    full = np.linalg.inv(shrink) @ homography @ shrink
    full /= full[2, 2]
    angle, scale = _geometry_check(full, features.shape)
    if precision is not None and precision < MIN_RULE_PRECISION:
        raise RegistrationError(
            f"the scan's printed lines are not where the template has them ({precision:.0%} "
            f"are, at least {MIN_RULE_PRECISION:.0%} needed): the scan shows another form"
        )
    if recall is not None and recall < MIN_RULE_RECALL:
        raise RegistrationError(
            f"the template's printed lines are missing from the scan ({recall:.0%} found, at "
            f"least {MIN_RULE_RECALL:.0%} needed): the scan shows another form"
        )
    logger.debug(
        "registered: %d matches, %d inliers, angle %.2f, scale %.3f, rules %s/%s",
        len(good), inliers, angle, scale, precision, recall,
    )  # fmt: skip
    return Registration(full, len(good), inliers, angle, scale)
