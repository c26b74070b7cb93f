from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import timedelta
from importlib import import_module
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone

from recognition.models import (
    FINAL_STATUSES,
    Batch,
    Document,
    Field,
    Page,
    Template,
    TrainingSample,
)
from recognition.services.documents import DELETION_FIELDS, documents_delete_rows

logger = logging.getLogger(__name__)


def sessions_clear_expired() -> None:
    """Delete expired login sessions; database-backed sessions otherwise grow without bound."""
    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore.clear_expired()
    logger.info("expired sessions cleared")


# --- retention ----------------------------------------------------------------------------------
#
# With HDR_RETENTION_DAYS set, documents are deleted with their results and files once they are
# that old and final (done, or failed). A document still waiting for review is kept: deleting it
# would throw away work a person has not done yet. Batches left with no document go too.


def documents_expired(*, older_than: timedelta):
    """The final documents created more than `older_than` ago, oldest first."""
    cutoff = timezone.now() - older_than
    return Document.objects.filter(created_at__lt=cutoff, status__in=FINAL_STATUSES).order_by(
        "created_at"
    )


def documents_expire(*, older_than: timedelta, chunk: int = 200) -> dict[str, int]:
    """Delete the documents `documents_expired` names, `chunk` to a transaction, and the batches
    older than `older_than` that have no document left. Returns the counts deleted."""
    deleted = 0
    while True:
        with transaction.atomic():
            # Locked as read; a row changed meanwhile is checked again against the filter (a
            # document re-queued since is not taken).
            documents = list(
                documents_expired(older_than=older_than)
                .select_for_update()
                .only(*DELETION_FIELDS)[:chunk]
            )
            documents_delete_rows(documents)
        deleted += len(documents)
        if len(documents) < chunk:
            break
    cutoff = timezone.now() - older_than
    batches, _ = Batch.objects.filter(created_at__lt=cutoff, documents__isnull=True).delete()
    if deleted or batches:
        logger.info("retention: %d documents and %d empty batches deleted", deleted, batches)
    return {"documents": deleted, "batches": batches}


# --- stored files that no row points to -------------------------------------------------------
#
# A file is written before the row that names it (an upload, a page, a crop), so a crash in
# between, a row deleted in the admin, or a page segmented again into fewer fields leaves files
# behind that nothing reads. The sweep finds them folder by folder, asking the database only
# about the rows that folder can belong to (by primary key, foreign key or unique hash; only the
# small templates table is read whole), and deletes them once they are older than a grace period, so a file
# whose row is about to be written is never taken. Folders it does not know (models/: versions
# and their reports) are left alone.


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _documents_referenced(folder: str, names: list[str]) -> set[str]:
    ids = {_uuid(PurePosixPath(name).name.split(".")[0]) for name in names} - {None}
    return set(Document.objects.filter(pk__in=ids).values_list("file", flat=True))


def _pages_referenced(folder: str, names: list[str]) -> set[str]:
    document_id = _uuid(PurePosixPath(folder).name)
    if document_id is None:
        return set()
    rows = Page.objects.filter(document_id=document_id).values_list("image", "crops")
    return {name for row in rows for name in row}


def _crops_referenced(folder: str, names: list[str]) -> set[str]:
    document_id = _uuid(PurePosixPath(folder).name)
    if document_id is None:
        return set()
    return set(Field.objects.filter(page__document_id=document_id).values_list("crop", flat=True))


def _samples_referenced(folder: str, names: list[str]) -> set[str]:
    parts = PurePosixPath(folder).parts  # samples/<kind>/<xx>
    if len(parts) != 3:
        return set()
    hashes = [PurePosixPath(name).stem for name in names]
    return set(
        TrainingSample.objects.filter(kind=parts[1], sha256__in=hashes).values_list(
            "image", flat=True
        )
    )


def _templates_referenced(folder: str, names: list[str]) -> set[str]:
    return set(Template.objects.exclude(reference="").values_list("reference", flat=True))


SWEPT_FOLDERS = {
    "documents": _documents_referenced,
    "pages": _pages_referenced,
    "crops": _crops_referenced,
    "samples": _samples_referenced,
    "templates": _templates_referenced,
}


@dataclass
class SweepReport:
    files: int = 0
    orphans: list[str] = dataclass_field(default_factory=list)
    orphan_bytes: int = 0
    deleted: int = 0

    def to_json(self) -> dict:
        return {
            "files": self.files,
            "orphans": len(self.orphans),
            "orphan_bytes": self.orphan_bytes,
            "deleted": self.deleted,
        }


def media_orphans_sweep(*, older_than: timedelta, delete: bool = False) -> SweepReport:
    """Find (and with `delete`, remove) the stored files under the platform's own folders that
    no row names and that were last written more than `older_than` ago."""
    storage = storages["default"]
    cutoff = timezone.now() - older_than
    report = SweepReport()
    for root, referenced in SWEPT_FOLDERS.items():
        if not storage.exists(root):
            continue
        pending = [root]
        while pending:
            folder = pending.pop()
            subfolders, files = storage.listdir(folder)
            pending.extend(f"{folder}/{name}" for name in subfolders)
            names = [f"{folder}/{name}" for name in files]
            report.files += len(names)
            if not names:
                continue
            known = referenced(folder, names)
            for name in names:
                if name in known or storage.get_modified_time(name) >= cutoff:
                    continue
                report.orphans.append(name)
                report.orphan_bytes += storage.size(name)
                if delete:
                    storage.delete(name)
                    report.deleted += 1
    if report.deleted:
        logger.warning(
            "file sweep: %d orphan files deleted (%d bytes)", report.deleted, report.orphan_bytes
        )
    return report
