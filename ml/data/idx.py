"""Reader and writer for the IDX format used by MNIST, EMNIST and QMNIST.

The format: two zero bytes, one type byte, one byte with the number of dimensions, then one
big-endian uint32 per dimension, then the array in C order (big-endian for multi-byte types).
Files may be gzip-compressed; the reader detects that from the content, not the file name.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ml.errors import DataFormatError

_GZIP_MAGIC = b"\x1f\x8b"

# IDX type byte -> numpy dtype (big-endian where it matters).
_IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


@dataclass(frozen=True)
class IdxArray:
    """An array read from an IDX file.

    ``data`` has the file's shape and a native-endian dtype; ``sha256`` is the digest of the
    decompressed bytes, which stays the same whether the file is stored gzipped or raw.
    """

    data: NDArray
    sha256: str
    path: str


def idx_decode(payload: bytes, *, source: str = "<bytes>") -> NDArray:
    """Decode the (decompressed) bytes of an IDX file into a numpy array.

    Raises :class:`DataFormatError` for a bad magic number, an unknown type byte or a payload
    whose length does not match the header.
    """
    if len(payload) < 4:
        raise DataFormatError(f"{source}: too short to be an IDX file ({len(payload)} bytes)")
    zero0, zero1, type_code, ndim = payload[0], payload[1], payload[2], payload[3]
    if zero0 != 0 or zero1 != 0 or type_code not in _IDX_DTYPES or ndim == 0:
        raise DataFormatError(
            f"{source}: bad IDX magic number 0x{payload[:4].hex()} "
            "(expected 00 00 <type> <ndim> with type one of 08 09 0b 0c 0d 0e)"
        )
    header_len = 4 + 4 * ndim
    if len(payload) < header_len:
        raise DataFormatError(f"{source}: header truncated ({len(payload)} bytes)")
    shape = tuple(int(d) for d in np.frombuffer(payload, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    body = len(payload) - header_len
    if body != expected:
        raise DataFormatError(
            f"{source}: header says shape {shape} ({expected} bytes of data) "
            f"but the file holds {body} bytes of data"
        )
    array = np.frombuffer(payload, dtype=dtype, offset=header_len).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def idx_read(path: str | Path) -> IdxArray:
    """Read an IDX file, gzip-compressed or raw.

    Returns an :class:`IdxArray`; images come back as uint8 ``[N, H, W]`` in 0..255, labels as
    uint8 ``[N]``. Raises :class:`DataFormatError` for malformed files and ``FileNotFoundError``
    when the file is missing.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataFormatError(f"{path}: corrupt gzip stream ({exc})") from exc
    data = idx_decode(raw, source=str(path))
    return IdxArray(data=data, sha256=hashlib.sha256(raw).hexdigest(), path=str(path))


def idx_encode(array: NDArray) -> bytes:
    """Encode a uint8 array (any rank >= 1) as IDX bytes; the inverse of :func:`idx_decode`."""
    array = np.asarray(array)
    if array.dtype != np.uint8 or array.ndim == 0:
        raise DataFormatError(f"idx_encode takes a uint8 array of rank >= 1, got {array.dtype}")
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array).tobytes()


def idx_write(path: str | Path, array: NDArray, *, compress: bool | None = None) -> Path:
    """Write a uint8 array as an IDX file; gzip it when ``compress`` or the name ends in .gz."""
    path = Path(path)
    payload = idx_encode(array)
    if compress is None:
        compress = path.suffix == ".gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(payload, mtime=0) if compress else payload)
    return path
