"""Page quality: is this scan good enough to read, or should a person look at it?"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2

from forms_ocr.images import GrayImage, area_shrink, grey_percentiles

A4_WIDTH_INCHES = 8.27
# Below these a scan is routed to a person: thresholds measured on our synthetic scans
# (sharp 300 DPI pages score > 300 on blur; Gaussian blur sigma 2 drops it under 60).
MIN_SHARPNESS = 40.0
MIN_CONTRAST = 60.0
MIN_DPI = 140.0


@dataclass(frozen=True)
class PageQuality:
    sharpness: float  # variance of the Laplacian on the page at 150 DPI-equivalent scale
    contrast: float  # grey levels between the paper (95th percentile) and the ink (1st)
    estimated_dpi: float  # from the page width, assuming A4 portrait
    usable: bool
    reasons: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict:
        return {
            "sharpness": round(self.sharpness, 1),
            "contrast": round(self.contrast, 1),
            "estimated_dpi": round(self.estimated_dpi),
            "usable": self.usable,
            "reasons": list(self.reasons),
        }


def page_quality(gray: GrayImage) -> PageQuality:
    """Sharpness, contrast and resolution of a page, with the reasons it is unusable if it is."""
    dpi = gray.shape[1] / A4_WIDTH_INCHES
    # Measure sharpness at a fixed scale so that resolution does not masquerade as blur.
    # (About 1240 pixels wide, by a whole factor.)
    small = area_shrink(gray, max(1, round(gray.shape[1] / 1240)))
    # A 3x3 Laplacian of 8-bit pixels fits in 16 bits, and OpenCV's mean/deviation is one pass.
    _, deviation = cv2.meanStdDev(cv2.Laplacian(small, cv2.CV_16S))
    sharpness = float(deviation[0, 0]) ** 2
    # Every other pixel of every other row: a quarter of the page still holds millions of
    # pixels, whose percentiles are the page's to a grey level, at a quarter of the cost.
    low, high = grey_percentiles(gray[::2, ::2], [1, 95])
    contrast = float(high - low)
    reasons = []
    if sharpness < MIN_SHARPNESS:
        reasons.append(f"blurred (sharpness {sharpness:.0f} < {MIN_SHARPNESS:.0f})")
    if contrast < MIN_CONTRAST:
        reasons.append(f"low contrast ({contrast:.0f} grey levels < {MIN_CONTRAST:.0f})")
    if dpi < MIN_DPI:
        reasons.append(f"low resolution (about {dpi:.0f} DPI < {MIN_DPI:.0f})")
    return PageQuality(sharpness, contrast, dpi, not reasons, tuple(reasons))
