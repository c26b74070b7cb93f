"""The exceptions of ``forms_ocr``: one base class, one subclass per way a page can be refused.

Every error carries a human-readable ``reason`` that the platform can show to a clerk as is.
"""

from __future__ import annotations


class FormsOcrError(Exception):
    """Base class of every error raised on purpose by ``forms_ocr``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnreadableFileError(FormsOcrError):
    """The file cannot be turned into page images."""


class CorruptFileError(UnreadableFileError):
    """The file claims a supported type but its content is damaged or truncated."""


class EncryptedFileError(UnreadableFileError):
    """The PDF is password-protected."""


class UnsupportedFileTypeError(UnreadableFileError):
    """The file is not a PDF, TIFF, PNG or JPEG."""


class TooManyPagesError(UnreadableFileError):
    """The document has more pages than the caller allows."""


class TooManyPixelsError(UnreadableFileError):
    """A page has more pixels than the caller allows (decompression bombs included)."""


class SegmentationError(FormsOcrError):
    """A page was read but could not be analysed."""


class RegistrationError(SegmentationError):
    """A scan could not be aligned to its form template (too few matches, implausible warp)."""


class TemplateError(FormsOcrError):
    """A template file is malformed or does not fit the scan."""
