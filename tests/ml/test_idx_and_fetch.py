"""IDX files of any digit set are read (gzip or raw); downloads are checked byte for byte."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import threading
from functools import partial

import numpy as np
import pytest

from ml.data import idx_read, idx_write
from ml.data.fetch import MNIST_SHA256, mnist_fetch
from ml.errors import DataFormatError, DownloadError


@pytest.mark.parametrize("compress", [True, False])
def test_idx_round_trip(tmp_path, compress):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = idx_write(tmp_path / ("x.idx.gz" if compress else "x.idx"), images, compress=compress)

    read = idx_read(path)

    assert np.array_equal(read.data, images) and read.data.dtype == np.uint8


def test_idx_with_bad_magic_is_refused_with_the_reason(tmp_path):
    path = tmp_path / "bad.idx"
    path.write_bytes(b"\x01\x02\x03\x04" + bytes(16))

    with pytest.raises(DataFormatError):
        idx_read(path)


def test_truncated_idx_is_refused(tmp_path):
    path = idx_write(tmp_path / "x.idx", np.zeros((4, 28, 28), np.uint8), compress=False)
    path.write_bytes(path.read_bytes()[:-10])

    with pytest.raises(DataFormatError):
        idx_read(path)


@pytest.fixture
def mirror(tmp_path):
    """A local HTTP mirror serving files from a folder."""
    root = tmp_path / "mirror"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


def test_fetch_refuses_files_whose_content_does_not_match(mirror, tmp_path):
    root, url = mirror
    for name in MNIST_SHA256:
        (root / name).write_bytes(gzip.compress(b"not mnist"))

    with pytest.raises(DownloadError, match="is not the expected"):
        mnist_fetch(tmp_path / "dest", mirrors=[url], timeout=5)

    assert not any((tmp_path / "dest").glob("*.gz"))


def test_fetch_tries_the_next_mirror_when_one_is_down(mirror, tmp_path, monkeypatch):
    root, url = mirror
    for name in MNIST_SHA256:
        (root / name).write_bytes(gzip.compress(name.encode()))
    # Pretend these payloads are the real ones: the check is what is under test, not MNIST.
    monkeypatch.setattr(
        "ml.data.fetch.MNIST_SHA256",
        {name: hashlib.sha256(name.encode()).hexdigest() for name in MNIST_SHA256},
    )

    paths = mnist_fetch(tmp_path / "dest", mirrors=["http://127.0.0.1:9/", url], timeout=5)

    assert sorted(p.name for p in paths) == sorted(MNIST_SHA256)
    assert all(gzip.decompress(p.read_bytes()) == p.name.encode() for p in paths)


def test_labelled_png_folder_is_read_in_order_with_labels(tmp_path, mnist_300):
    from PIL import Image

    from ml.data import digit_set_load_folder

    images, labels = mnist_300
    for i in range(6):
        (tmp_path / "set" / str(labels[i])).mkdir(parents=True, exist_ok=True)
        Image.fromarray(images[i]).save(tmp_path / "set" / str(labels[i]) / f"{i:03d}.png")

    digits = digit_set_load_folder(tmp_path / "set")

    assert len(digits) == 6
    assert sorted(digits.labels.tolist()) == sorted(labels[:6].tolist())
    assert any(np.array_equal(digits.images[k], images[0]) for k in range(6))


def test_folder_with_a_non_digit_label_is_refused(tmp_path):
    from ml.data import digit_set_load_folder

    (tmp_path / "set" / "x").mkdir(parents=True)

    with pytest.raises(DataFormatError, match=r"digits 0\.\.9"):
        digit_set_load_folder(tmp_path / "set")
