"""Scanner degradations applied to a clean page: each returns the new page, and the geometric
ones also the 3x3 matrix mapping clean to degraded pixels (to move the ground truth)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from forms_ocr.images import GrayImage, Matrix

# Content degradations happen while drawing; image degradations are applied afterwards.
CONTENT_DEGRADATIONS = ("light_borders", "crossing")
IMAGE_DEGRADATIONS = ("lighting", "rotation", "perspective", "blur", "noise", "jpeg")
ALL_DEGRADATIONS = CONTENT_DEGRADATIONS + IMAGE_DEGRADATIONS


@dataclass(frozen=True)
class Degraded:
    image: GrayImage
    matrix: Matrix
    skew_deg: float


def degradations_parse(text: str) -> tuple[str, ...]:
    """Parse ``all``, ``none`` or a comma-separated list of names from ``ALL_DEGRADATIONS``."""
    if text == "all":
        return ALL_DEGRADATIONS
    if text in ("", "none"):
        return ()
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = sorted(set(names) - set(ALL_DEGRADATIONS))
    if unknown:
        raise ValueError(f"unknown degradations {unknown}; known: {', '.join(ALL_DEGRADATIONS)}")
    return names


def page_degrade(
    page: np.ndarray, rng: np.random.Generator, names: tuple[str, ...], *, max_angle: float = 10.0
) -> Degraded:
    """Apply the image degradations in ``names`` to a float32 page (0..255); return uint8."""
    height, width = page.shape
    image = page.astype(np.float32)
    if "lighting" in names:
        image = _uneven_lighting(image, rng)
    matrix = np.eye(3)
    angle = 0.0
    if "rotation" in names:
        angle = float(rng.uniform(-max_angle, max_angle))
        rotation = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
        matrix = np.vstack([rotation, [0, 0, 1]]) @ matrix
    if "perspective" in names:
        # A page not quite flat on the glass: each corner moves by up to 0.6% of the page size.
        src = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
        jitter = rng.uniform(-0.006, 0.006, size=(4, 2)) * np.float32([width, height])
        dst = (src + jitter).astype(np.float32)
        matrix = cv2.getPerspectiveTransform(src, dst) @ matrix
    if not np.allclose(matrix, np.eye(3)):
        image = cv2.warpPerspective(
            image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=255.0
        )
    if "blur" in names:
        sigma = float(rng.uniform(0.5, 1.4)) * width / 2480
        image = cv2.GaussianBlur(image, (0, 0), sigma)
    if "noise" in names:
        image = image + rng.normal(0.0, rng.uniform(3.0, 10.0), size=image.shape).astype(np.float32)
    result = np.clip(image, 0, 255).astype(np.uint8)
    if "jpeg" in names:
        quality = int(rng.integers(35, 80))
        ok, encoded = cv2.imencode(".jpg", result, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            result = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)
    # The page's skew as a scanner would report it (clockwise positive in image coordinates).
    return Degraded(image=result, matrix=matrix, skew_deg=-angle)


@dataclass(frozen=True)
class Placement:
    """Where a scanner puts the page: turned by ``angle_deg`` (counter-clockwise, as cv2 rotates)
    and scaled by ``scale`` about its centre, moved by ``offset`` (x, y) pixels, on a canvas of
    ``canvas`` (H, W) pixels (None: the page's own size). Draws nothing from any rng."""

    angle_deg: float = 0.0
    scale: float = 1.0
    offset: tuple[int, int] = (0, 0)
    canvas: tuple[int, int] | None = None


def page_place(degraded: Degraded, placement: Placement) -> Degraded:
    """Put a degraded page on its canvas as ``placement`` says, paper-coloured around it."""
    height, width = degraded.image.shape
    matrix = np.eye(3)
    matrix[:2] = cv2.getRotationMatrix2D(
        (width / 2, height / 2), placement.angle_deg, placement.scale
    )
    matrix[:2, 2] += placement.offset
    canvas_h, canvas_w = placement.canvas or (height, width)
    paper = int(np.percentile(degraded.image, 90))
    image = cv2.warpPerspective(
        degraded.image, matrix, (canvas_w, canvas_h), flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT, borderValue=paper,
    )  # fmt: skip
    return Degraded(
        image=image,
        matrix=matrix @ degraded.matrix,
        skew_deg=degraded.skew_deg - placement.angle_deg,
    )


def _uneven_lighting(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    height, width = image.shape
    ys, xs = np.mgrid[0:height:8, 0:width:8].astype(np.float32)
    cx, cy = rng.uniform(0, width), rng.uniform(0, height)
    distance = np.hypot(xs - cx, ys - cy) / np.hypot(width, height)
    gradient = rng.uniform(-1, 1) * (xs / width - 0.5) + rng.uniform(-1, 1) * (ys / height - 0.5)
    shade = 1.0 - rng.uniform(0.1, 0.3) * distance - rng.uniform(0.05, 0.15) * gradient
    shade = cv2.resize(shade.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    return image * np.clip(shade, 0.5, 1.1)
