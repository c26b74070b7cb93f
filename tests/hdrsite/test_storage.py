"""Stored files are whole and flushed to disk before save() returns, and a failed write changes
nothing."""

from __future__ import annotations

import os

import pytest
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage

from hdrsite import storage as storage_module
from hdrsite.storage import DurableFileSystemStorage


def _leftovers(root) -> list[str]:
    return sorted(p.name for p in root.rglob("*") if p.is_file() and p.name.endswith(".part"))


def test_the_configured_default_storage_is_the_durable_one():
    assert isinstance(default_storage, DurableFileSystemStorage)


def test_save_writes_the_content_under_its_name_and_leaves_no_partial_file(tmp_path):
    storage = DurableFileSystemStorage(location=tmp_path)
    name = storage.save("documents/ab/scan.png", ContentFile(b"\x89PNG scan bytes"))
    assert name == "documents/ab/scan.png"
    assert (tmp_path / "documents/ab/scan.png").read_bytes() == b"\x89PNG scan bytes"
    assert _leftovers(tmp_path) == []


def test_overwrite_replaces_the_file_in_one_step(tmp_path):
    storage = DurableFileSystemStorage(location=tmp_path, allow_overwrite=True)
    storage.save("pages/0000.png", ContentFile(b"first"))
    name = storage.save("pages/0000.png", ContentFile(b"second, longer"))
    assert name == "pages/0000.png"
    assert (tmp_path / "pages/0000.png").read_bytes() == b"second, longer"
    assert _leftovers(tmp_path) == []


def test_without_overwrite_a_taken_name_gets_a_new_one_and_the_first_file_stays(tmp_path):
    storage = DurableFileSystemStorage(location=tmp_path)
    first = storage.save("a/scan.png", ContentFile(b"first"))
    second = storage.save("a/scan.png", ContentFile(b"second"))
    assert first != second
    assert (tmp_path / first).read_bytes() == b"first"
    assert (tmp_path / second).read_bytes() == b"second"
    assert _leftovers(tmp_path) == []


class _BrokenFile(File):
    """A file whose reading fails half way, like a client that disconnects mid-upload."""

    def __init__(self):
        super().__init__(None, name="broken")

    def chunks(self, chunk_size=None):
        yield b"half of the"
        raise OSError("connection reset")

    @property
    def size(self):
        return 100


def test_a_write_that_fails_half_way_leaves_the_previous_file_untouched(tmp_path):
    storage = DurableFileSystemStorage(location=tmp_path, allow_overwrite=True)
    storage.save("pages/0000.png", ContentFile(b"the good copy"))
    with pytest.raises(OSError, match="connection reset"):
        storage.save("pages/0000.png", _BrokenFile())
    assert (tmp_path / "pages/0000.png").read_bytes() == b"the good copy"
    assert _leftovers(tmp_path) == []


def _record_flushes(monkeypatch) -> list[tuple[str, str]]:
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(source, target):
        events.append(("rename", str(target)))
        real_replace(source, target)

    monkeypatch.setattr(storage_module.os, "fsync", fsync)
    monkeypatch.setattr(storage_module.os, "replace", replace)
    return events


def test_a_new_file_is_flushed_then_its_directory_entry(tmp_path, monkeypatch):
    events = _record_flushes(monkeypatch)
    storage = DurableFileSystemStorage(location=tmp_path, allow_overwrite=True)
    storage.save("docs/scan.png", ContentFile(b"bytes"))
    assert events == [
        ("fsync", str(tmp_path / "docs" / "scan.png")),
        ("fsync", str(tmp_path / "docs")),
    ]


def test_a_replacement_is_flushed_before_it_takes_the_name_and_the_directory_after(
    tmp_path, monkeypatch
):
    storage = DurableFileSystemStorage(location=tmp_path, allow_overwrite=True)
    storage.save("docs/scan.png", ContentFile(b"old"))
    events = _record_flushes(monkeypatch)
    storage.save("docs/scan.png", ContentFile(b"new"))

    assert [kind for kind, _ in events] == ["fsync", "rename", "fsync"]
    assert events[0][1].endswith(".part")  # the data, under its temporary name
    assert events[1][1] == str(tmp_path / "docs" / "scan.png")
    assert events[2][1] == str(tmp_path / "docs")


def test_a_new_file_that_fails_half_way_leaves_nothing_under_its_name(tmp_path):
    storage = DurableFileSystemStorage(location=tmp_path, allow_overwrite=True)
    with pytest.raises(OSError, match="connection reset"):
        storage.save("docs/scan.png", _BrokenFile())
    assert not (tmp_path / "docs" / "scan.png").exists()
