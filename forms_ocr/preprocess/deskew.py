"""Skew estimation by projection profiles, and the rotation that undoes it."""

from __future__ import annotations

import cv2
import numpy as np

from forms_ocr.images import GrayImage, Matrix, area_shrink

# Skew is measured on a page shrunk to about this width: lines stay lines, the search stays cheap.
PROFILE_WIDTH = 800


def _profile_score(xs: np.ndarray, ys: np.ndarray, angle: float) -> float:
    """Row-profile sharpness of the ink pixels at ``(xs, ys)`` (coordinates about the page's
    centre) once the page is rotated by ``angle`` degrees as :func:`page_rotate` does: only
    each pixel's new row is needed, so the pixels are projected instead of warping an image."""
    radians = np.deg2rad(angle)
    rows = np.floor(ys * np.cos(radians) - xs * np.sin(radians)).astype(np.int64)
    profile = np.bincount(rows - rows.min()).astype(np.float64)
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
    ys, xs = np.nonzero(mask)
    h, w = mask.shape
    xs, ys = xs - w / 2, ys - h / 2

    def score(angle: float) -> float:
        return _profile_score(xs, ys, angle)

    if xs.size == 0:
        return 0.0
    best = max(np.arange(-max_angle, max_angle + 1e-9, 0.5), key=score)
    fine = np.arange(best - 0.5, best + 0.5 + 1e-9, 0.05)
    return float(round(max(fine, key=score), 2))


def rotation_matrix(shape: tuple[int, int], angle: float) -> Matrix:
    """3x3 matrix rotating a page of `shape` (H, W) by `angle` degrees about its centre."""
    h, w = shape
    matrix = np.eye(3)
    matrix[:2] = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return matrix


def page_rotate(gray: GrayImage, angle: float) -> tuple[GrayImage, Matrix]:
    """The page rotated by `angle` (same size, border filled with the paper's colour) and the
    3x3 matrix mapping input pixels to output pixels."""
    matrix = rotation_matrix(gray.shape, angle)
    # Every fourth pixel of every fourth row gives the paper's grey as well as all of them.
    paper = int(np.percentile(gray[::4, ::4], 90))
    rotated = cv2.warpAffine(
        gray, matrix[:2], (gray.shape[1], gray.shape[0]), flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT, borderValue=paper,
    )  # fmt: skip
    return rotated, matrix
