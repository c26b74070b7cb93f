"""Page quality: a clean scan is usable; a blurred, faded or low-resolution one says why not."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from forms_ocr.images import grey_percentiles
from forms_ocr.quality import MIN_CONTRAST, MIN_SHARPNESS, page_quality
from forms_ocr.synth import digits_from_npz, synth_page

DIGITS = Path(__file__).resolve().parent.parent / "ml" / "fixtures" / "mnist_test_300.npz"


@pytest.fixture(scope="module")
def page() -> np.ndarray:
    return synth_page("form", digits_from_npz(DIGITS), seed=4, degradations=("noise",)).image


def test_a_clean_300_dpi_scan_is_usable(page):
    quality = page_quality(page)

    assert quality.usable and quality.reasons == ()
    assert quality.sharpness > MIN_SHARPNESS and quality.contrast > MIN_CONTRAST
    assert 290 <= quality.estimated_dpi <= 310


def test_the_contrast_is_the_whole_pages_to_a_grey_level(page):
    """Contrast is measured on a sample of the page's pixels: the sample's percentiles must be
    the page's own."""
    low, high = grey_percentiles(page, [1, 95])

    assert page_quality(page).contrast == pytest.approx(high - low, abs=1)


def test_a_faded_scan_is_refused_for_low_contrast(page):
    # Ink and paper squeezed into 40 grey levels near white, as a washed-out scan.
    faded = (215 + page.astype(np.float32) * 40 / 255).astype(np.uint8)

    quality = page_quality(faded)

    assert not quality.usable
    assert any(reason.startswith("low contrast") for reason in quality.reasons)


def test_a_blurred_scan_is_refused_for_blur(page):
    blurred = cv2.GaussianBlur(page, (0, 0), 6)

    quality = page_quality(blurred)

    assert not quality.usable
    assert any(reason.startswith("blurred") for reason in quality.reasons)


def test_a_page_scanned_at_100_dpi_is_refused_for_resolution(page):
    small = cv2.resize(page, (page.shape[1] // 3, page.shape[0] // 3), interpolation=cv2.INTER_AREA)

    quality = page_quality(small)

    assert not quality.usable
    assert any(reason.startswith("low resolution") for reason in quality.reasons)
