"""`python -m ml data fetch`: download the four MNIST files, checking every byte.

The check is on the sha256 of the decompressed payload, so a mirror that re-compressed the
files (same data, different .gz bytes) is still accepted, and a corrupt or altered one is not.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import urllib.error
import urllib.request
from pathlib import Path

from ml.errors import ChecksumError, DownloadError

logger = logging.getLogger(__name__)

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
# sha256 of the decompressed IDX files.
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte.gz": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte.gz": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte.gz": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}


def payload_sha256(gz_bytes: bytes) -> str:
    try:
        return hashlib.sha256(gzip.decompress(gz_bytes)).hexdigest()
    except (OSError, EOFError) as exc:
        raise ChecksumError(f"not a valid gzip file: {exc}") from exc


def mnist_fetch(
    dest: str | Path,
    *,
    mirrors: list[str] | tuple[str, ...] | None = None,
    force: bool = False,
    timeout: float = 60.0,
) -> list[Path]:
    """Download the four files into `dest`, trying each mirror in turn; return their paths.

    Files already present with the right content are kept unless `force`. Raises DownloadError
    when no mirror delivers a file whose content checks out.
    """
    folder = Path(dest)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, expected in MNIST_SHA256.items():
        target = folder / name
        if target.exists() and not force:
            try:
                if payload_sha256(target.read_bytes()) == expected:
                    paths.append(target)
                    continue
            except ChecksumError:
                pass
        problems = []
        for mirror in mirrors or MIRRORS:
            url = mirror.rstrip("/") + "/" + name
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    data = response.read()
                got = payload_sha256(data)
            except (urllib.error.URLError, OSError, ChecksumError) as exc:
                problems.append(f"{url}: {exc}")
                continue
            if got != expected:
                problems.append(f"{url}: sha256 {got} is not the expected {expected}")
                continue
            tmp = target.with_suffix(".part")
            tmp.write_bytes(data)
            tmp.replace(target)
            logger.info("fetched %s from %s", name, mirror)
            paths.append(target)
            break
        else:
            raise DownloadError(f"could not fetch {name}: " + "; ".join(problems))
    return paths
