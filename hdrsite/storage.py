"""File storage whose files are whole and on disk once `save()` returns."""

from __future__ import annotations

import os
import uuid

from django.core.files.storage import FileSystemStorage


def _fsync_path(path: str) -> None:
    # POSIX flushes through a read-only descriptor; Windows needs write access to flush a file.
    fd = os.open(path, os.O_RDONLY if os.name == "posix" else os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DurableFileSystemStorage(FileSystemStorage):
    """FileSystemStorage whose `save()` returns only once the file and its directory entry are
    flushed to disk, and which never leaves a torn file under a name.

    - A new name (every upload) is written in place, then the file and the directory are
      flushed: on a journalling filesystem that is one journal commit per file. A crash before
      the flush leaves a partial file under a name no database row points to yet, because
      the document row is committed after the file is saved.
    - A name that already holds a file (a pipeline step run again) is written under a hidden
      sibling name, flushed, then renamed over the old file. Readers and crashes see the old
      file or the new one, never a mix.

    An upload answered 202 thus keeps its scan even if the machine goes down right after.
    """

    def _save(self, name, content):
        full_path = self.path(name)
        if self._allow_overwrite and os.path.exists(full_path):
            self._replace(full_path, content)
        else:
            try:
                name = super()._save(name, content)
            except BaseException:
                if os.path.exists(full_path):  # the name was free: this is our partial file
                    os.unlink(full_path)
                raise
            full_path = self.path(name)
            _fsync_path(full_path)
        if os.name == "posix":
            _fsync_path(os.path.dirname(full_path))
        return name

    def _replace(self, full_path: str, content) -> None:
        directory, base = os.path.split(full_path)
        part_path = os.path.join(directory, f".{base}.{uuid.uuid4().hex}.part")
        try:
            super()._save(part_path, content)
            _fsync_path(part_path)
            os.replace(part_path, full_path)
        except BaseException:
            if os.path.exists(part_path):
                os.unlink(part_path)
            raise
