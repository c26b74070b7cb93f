"""Pages are read from PNG, JPEG, TIFF and PDF; unreadable files raise a specific error."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from forms_ocr.errors import (
    CorruptFileError,
    EncryptedFileError,
    TooManyPagesError,
    TooManyPixelsError,
    UnsupportedFileTypeError,
)
from forms_ocr.reading import file_type_detect, pages_read
from tests.support.scans import encrypted_pdf_bytes, pdf_bytes, tiff_bytes


def _png(height=40, width=30, value=200) -> bytes:
    return cv2.imencode(".png", np.full((height, width), value, np.uint8))[1].tobytes()


def test_each_supported_type_is_read_as_grey_pages():
    png = pages_read(_png())
    tiff = pages_read(tiff_bytes(3))
    pdf = pages_read(pdf_bytes(2), pdf_dpi=72)

    assert png[0].image.shape == (40, 30) and png[0].image.dtype == np.uint8
    assert [p.index for p in tiff] == [0, 1, 2]
    assert int(tiff[2].image[0, 0]) == 100
    assert len(pdf) == 2 and pdf[0].image.shape == (300, 200)


def test_type_comes_from_the_content():
    assert file_type_detect(_png()) == "png"
    assert file_type_detect(pdf_bytes(1)) == "pdf"
    assert file_type_detect(tiff_bytes(1)) == "tiff"


@pytest.mark.parametrize(
    ("data", "kwargs", "error"),
    [
        (b"plain text", {}, UnsupportedFileTypeError),
        (b"", {}, UnsupportedFileTypeError),
        (_png()[:30], {}, CorruptFileError),
        (b"%PDF-1.7\n garbage", {}, CorruptFileError),
        (encrypted_pdf_bytes(), {}, EncryptedFileError),
        (tiff_bytes(3), {"max_pages": 2}, TooManyPagesError),
        (pdf_bytes(3), {"max_pages": 2}, TooManyPagesError),
        (_png(2000, 2000), {"max_pixels": 1_000_000}, TooManyPixelsError),
    ],
)
def test_unreadable_files_raise_a_specific_error_with_a_reason(data, kwargs, error):
    with pytest.raises(error) as raised:
        pages_read(data, **kwargs)

    assert raised.value.reason


def _noise_png(seed: int = 0) -> tuple[np.ndarray, bytes]:
    image = np.random.default_rng(seed).integers(0, 256, (300, 200), dtype=np.uint8)
    return image, cv2.imencode(".png", image)[1].tobytes()


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "P", "I;16"])
def test_a_png_reads_to_the_same_grey_page_whichever_decoder_takes_it(mode):
    """8-bit grey PNGs go through OpenCV, every other PNG through Pillow: the page is the same
    grey levels either way (an opaque alpha changes nothing, 16-bit levels scale back)."""
    image, _ = _noise_png()
    if mode == "I;16":
        source = Image.fromarray(image.astype(np.uint16) * 257)
    else:
        source = Image.fromarray(image).convert(mode)
    buffer = io.BytesIO()
    source.save(buffer, format="PNG")

    page = pages_read(buffer.getvalue())[0].image

    expected = image if mode in ("L", "LA", "I;16") else np.array(source.convert("L"))
    assert page.dtype == np.uint8
    assert np.array_equal(page, expected)


@pytest.mark.parametrize(
    "damage", ["truncated in the pixels", "pixel data changed"], ids=["truncated", "bad-crc"]
)
def test_a_damaged_grey_png_is_refused_not_half_read(damage):
    _, data = _noise_png()
    if damage == "truncated in the pixels":
        data = data[: len(data) // 2]
    else:
        flipped = bytearray(data)
        flipped[data.find(b"IDAT") + 100] ^= 0xFF
        data = bytes(flipped)

    with pytest.raises(CorruptFileError, match="damaged"):
        pages_read(data)
