"""Pages are read from PNG, JPEG, TIFF and PDF; unreadable files raise a specific error."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pypdfium2 as pdfium
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


def _png(height=40, width=30, value=200) -> bytes:
    return cv2.imencode(".png", np.full((height, width), value, np.uint8))[1].tobytes()


def _tiff(pages: int) -> bytes:
    frames = [Image.fromarray(np.full((20, 20), 50 * i, np.uint8)) for i in range(pages)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="TIFF", save_all=True, append_images=frames[1:])
    return buffer.getvalue()


def _pdf(pages: int) -> bytes:
    document = pdfium.PdfDocument.new()
    for _ in range(pages):
        document.new_page(200, 300)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _encrypted_pdf() -> bytes:
    """A one-page PDF under the standard security handler whose empty password is wrong.

    PDFium cannot write encrypted files, so the objects are written by hand; the /O and /U
    entries are arbitrary, which makes every password (the empty one included) fail.
    """
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <"
        + b"11" * 32
        + b"> /U <"
        + b"22" * 32
        + b"> /P -4 >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Encrypt 4 0 R /ID [<" % (len(objects) + 1)
    out += b"00" * 16 + b"> <" + b"00" * 16 + b">] >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def test_each_supported_type_is_read_as_grey_pages():
    png = pages_read(_png())
    tiff = pages_read(_tiff(3))
    pdf = pages_read(_pdf(2), pdf_dpi=72)

    assert png[0].image.shape == (40, 30) and png[0].image.dtype == np.uint8
    assert [p.index for p in tiff] == [0, 1, 2]
    assert int(tiff[2].image[0, 0]) == 100
    assert len(pdf) == 2 and pdf[0].image.shape == (300, 200)


def test_type_comes_from_the_content():
    assert file_type_detect(_png()) == "png"
    assert file_type_detect(_pdf(1)) == "pdf"
    assert file_type_detect(_tiff(1)) == "tiff"


@pytest.mark.parametrize(
    ("data", "kwargs", "error"),
    [
        (b"plain text", {}, UnsupportedFileTypeError),
        (b"", {}, UnsupportedFileTypeError),
        (_png()[:30], {}, CorruptFileError),
        (b"%PDF-1.7\n garbage", {}, CorruptFileError),
        (_encrypted_pdf(), {}, EncryptedFileError),
        (_tiff(3), {"max_pages": 2}, TooManyPagesError),
        (_pdf(3), {"max_pages": 2}, TooManyPagesError),
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
