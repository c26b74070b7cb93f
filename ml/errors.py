"""The exceptions raised by :mod:`ml`.

Every error a caller can act on derives from :class:`MLError`. Errors about malformed input also
derive from :class:`ValueError`, so callers that only know the standard library still catch them.
"""


class MLError(Exception):
    """Base class of every error raised on purpose by :mod:`ml`."""


class DataFormatError(MLError, ValueError):
    """A data file or folder does not have the expected format (bad magic, truncated, bad label)."""


class ChecksumError(MLError):
    """A downloaded or read file does not match its expected sha256 digest."""


class DownloadError(MLError):
    """None of the mirrors could deliver a file."""


class UnknownModelError(MLError, KeyError):
    """A model name is not in the registry."""

    def __str__(self) -> str:  # KeyError would quote the message; show it as written.
        return str(self.args[0]) if self.args else ""


class CheckpointError(MLError, ValueError):
    """A checkpoint or model card is missing fields or describes an incompatible model."""


class InputShapeError(MLError, ValueError):
    """An input batch has the wrong shape, dtype or value range for the model contract."""
