"""Skew estimation by projection profiles, and the rotation that undoes it."""

from __future__ import annotations

import cv2
import numpy as np

from forms_ocr.images import GrayImage, Matrix, area_shrink, paper_level

# Skew is measured on a page shrunk to about this width: lines stay lines, the search stays cheap.
PROFILE_WIDTH = 620


def _profile_score(xs: np.ndarray, ys: np.ndarray, angle: float) -> float:
    """Row-profile sharpness of the ink pixels at ``(xs, ys)`` (coordinates about the page's
    centre) once the page is rotated by ``angle`` degrees as :func:`page_rotate` does: only
    each pixel's new row is needed, so the pixels are projected instead of warping an image."""
    radians = np.deg2rad(angle)
    rows = ys * np.float32(np.cos(radians)) - xs * np.float32(np.sin(radians))
    # Shifted to positive values, truncation is the floor, and the rows index a bincount.
    rows -= np.floor(rows.min())
    profile = np.bincount(rows.astype(np.int32)).astype(np.float64)
    # Text lines and rules are sharpest (highest row-sum variance) when they are horizontal.
    return float(np.var(np.diff(profile)))


def skew_estimate(gray: GrayImage, *, max_angle: float = 12.0) -> float:
    """The page's skew in degrees (counter-clockwise positive, as cv2 rotates), |angle| <= max_angle.

    `gray` is (H, W) uint8, dark ink on light paper. Coarse 0.5-degree search, then 0.05 degrees.
    """
    small = area_shrink(gray, max(1, round(gray.shape[1] / PROFILE_WIDTH)))
    mask = cv2.adaptiveThreshold(
        small, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15
    ).astype(np.uint8)
    points = cv2.findNonZero(mask)
    if points is None:
        return 0.0
    h, w = mask.shape
    xs = points[:, 0, 0].astype(np.float32) - w / 2
    ys = points[:, 0, 1].astype(np.float32) - h / 2

    # The coarse search needs only the rough shape of the profiles: every fourth ink pixel
    # gives it at a quarter of the cost.
    coarse = np.arange(-max_angle, max_angle + 1e-9, 0.5)
    best = max(coarse, key=lambda angle: _profile_score(xs[::4], ys[::4], angle))
    fine = np.arange(best - 0.5, best + 0.5 + 1e-9, 0.05)
    return float(round(max(fine, key=lambda angle: _profile_score(xs, ys, angle)), 2))


def rotation_matrix(shape: tuple[int, int], angle: float) -> Matrix:
    """3x3 matrix rotating a page of `shape` (H, W) by `angle` degrees about its centre."""
    h, w = shape
    matrix = np.eye(3)
    matrix[:2] = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return matrix


def page_rotate(gray: GrayImage, angle: float) -> tuple[GrayImage, Matrix]:
    """The page rotated by `angle` (same size, border filled with the paper's colour) and the
    3x3 matrix mapping input pixels to output pixels. A level page (`angle` 0, as most
    sheet-fed scans measure) is returned as it is: interpolating it would only cost time."""
    matrix = rotation_matrix(gray.shape, angle)
    if angle == 0:
        return gray, matrix
    paper = paper_level(gray)
    rotated = cv2.warpAffine(
        gray, matrix[:2], (gray.shape[1], gray.shape[0]), flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT, borderValue=paper,
    )  # fmt: skip
    return rotated, matrix
