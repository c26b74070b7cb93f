"""Skew estimation by projection profiles, and the rotation that undoes it."""

from __future__ import annotations

import cv2
import numpy as np

from forms_ocr.images import GrayImage, Matrix

# Skew is measured on a page shrunk to this width: lines stay lines, the search stays cheap.
PROFILE_WIDTH = 800


def _profile_score(mask: np.ndarray, angle: float) -> float:
    h, w = mask.shape
    rotation = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    rotated = cv2.warpAffine(mask, rotation, (w, h), flags=cv2.INTER_NEAREST)
    rows = rotated.sum(axis=1, dtype=np.float64)
    # Text lines and rules are sharpest (highest row-sum variance) when they are horizontal.
    return float(np.var(np.diff(rows)))


def skew_estimate(gray: GrayImage, *, max_angle: float = 12.0) -> float:
    """The page's skew in degrees (counter-clockwise positive, as cv2 rotates), |angle| <= max_angle.

    `gray` is (H, W) uint8, dark ink on light paper. Coarse 0.5-degree search, then 0.05 degrees.
    """
    scale = PROFILE_WIDTH / gray.shape[1]
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    mask = cv2.adaptiveThreshold(
        small, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15
    ).astype(np.uint8)
    best = max(np.arange(-max_angle, max_angle + 1e-9, 0.5), key=lambda a: _profile_score(mask, a))
    fine = np.arange(best - 0.5, best + 0.5 + 1e-9, 0.05)
    return float(round(max(fine, key=lambda a: _profile_score(mask, a)), 2))


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
    paper = int(np.percentile(gray, 90))
    rotated = cv2.warpAffine(
        gray, matrix[:2], (gray.shape[1], gray.shape[0]), flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT, borderValue=paper,
    )  # fmt: skip
    return rotated, matrix
