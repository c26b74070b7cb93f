"""File storage whose files are whole and on disk once `save()` returns."""

from __future__ import annotations

import os
import uuid

from django.core.files.storage import FileSystemStorage


def _fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DurableFileSystemStorage(FileSystemStorage):
    """FileSystemStorage that writes each file to a hidden sibling, flushes it to disk, renames
    it over its name and flushes the directory.

    A crash or power cut leaves the previous file or the new one, never a torn one. An upload
    answered 202 keeps its scan even if the machine goes down right after. Writing to disk
    as files arrive also spreads the disk writes out. Without it, the kernel writes many
    uploads back in one burst, and that burst stalls every request behind it.
    """

    def _save(self, name, content):
        directory, base = os.path.split(name)
        part_path = self.path(os.path.join(directory, f".{base}.{uuid.uuid4().hex}.part"))
        try:
            super()._save(part_path, content)
            _fsync_path(part_path)
            while True:
                full_path = self.path(name)
                if self._allow_overwrite:
                    os.replace(part_path, full_path)
                    break
                try:
                    os.link(part_path, full_path)  # fails rather than replace an existing file
                except FileExistsError:
                    name = self.get_available_name(name)
                    continue
                os.unlink(part_path)
                break
        except BaseException:
            if os.path.exists(part_path):
                os.unlink(part_path)
            raise
        if os.name == "posix":
            _fsync_path(os.path.dirname(full_path))
        return os.path.relpath(full_path, self.location).replace("\\", "/")
