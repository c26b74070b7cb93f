"""Creating documents from uploads: validation by content, storage, and the hand-off to ingest."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import zipfile
from contextlib import nullcontext
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from django.utils import timezone

from forms_ocr.errors import UnsupportedFileTypeError
from forms_ocr.reading import file_type_detect
from recognition.errors import ApplicationError, ConflictError, ForbiddenError, NotFoundError
from recognition.models import (
    SETTLED_STATUSES,
    Batch,
    DeletionReason,
    Document,
    DocumentDeletion,
    DocumentStatus,
    Template,
)
from recognition.models.documents import document_crops_folder, document_pages_folder
from recognition.roles import user_is_admin
from recognition.selectors.documents import batches_visible_to, documents_visible_to
from recognition.services.batches import (
    batch_complete_if_settled,
    batch_done_if_final,
    callback_url_check,
)
from recognition.services.tasks import task_send_on_commit

logger = logging.getLogger(__name__)

# A local file header, or the end record that an empty archive starts with.
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
# A ZIP member that inflates more than this many times its compressed size is a bomb, not a scan:
# scans are already compressed (PNG, JPEG, PDF streams) and barely shrink in a ZIP.
ZIP_MAX_RATIO = 50


@dataclass(frozen=True)
class Upload:
    """One file as received: its bytes and the name the client gave it (display only)."""

    name: str
    data: bytes


# What archivers and file managers put into a ZIP beside the files chosen: macOS's resource
# forks ("__MACOSX/", "._name") and folder settings, Windows' thumbnail caches. Skipped rather
# than refused as unreadable scans, or no ZIP made by a Mac's "Compress" would be accepted.
ZIP_SYSTEM_FOLDERS = frozenset({"__MACOSX"})
ZIP_SYSTEM_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
NAME_MAX = 255


def _display_name(name: str) -> str:
    """A name fit to show: its folders kept (a ZIP's "north/0001.png" and "south/0001.png" stay
    apart) but never a step up or a root ("..", "/", "C:"), no control characters, and at most
    255 characters, keeping the end (the file's own name) when shortened. Names are shown and
    exported, never used as paths."""
    printable = "".join(c for c in name if c.isprintable())
    parts = [p.strip() for p in printable.replace("\\", "/").split("/")]
    parts = [p for p in parts if p not in ("", ".", "..")]
    if parts and len(parts[0]) == 2 and parts[0][1] == ":" and len(parts) > 1:
        parts = parts[1:]  # a Windows drive
    cleaned = "/".join(parts) or "upload"
    return cleaned if len(cleaned) <= NAME_MAX else "…" + cleaned[-(NAME_MAX - 1) :]


def _zip_system_file(filename: str) -> bool:
    *folders, name = _display_name(filename).split("/")
    return (
        name in ZIP_SYSTEM_FILES
        or name.startswith("._")
        or any(folder in ZIP_SYSTEM_FOLDERS for folder in folders)
    )


def upload_validate(upload: Upload) -> str:
    """Return the file type decided from the content; raise ApplicationError with the reason."""
    limit = settings.HDR_UPLOAD_MAX_BYTES
    if not upload.data:
        raise ApplicationError(f"{upload.name}: the file is empty")
    if len(upload.data) > limit:
        raise ApplicationError(
            f"{upload.name}: the file is {len(upload.data)} bytes, more than the limit of {limit}"
        )
    if upload.data[:4] in ZIP_MAGICS:
        raise ApplicationError(
            f"{upload.name}: a ZIP archive holds many documents; upload it as a batch"
        )
    try:
        return file_type_detect(upload.data)
    except UnsupportedFileTypeError as exc:
        raise ApplicationError(f"{upload.name}: {exc.reason}") from exc


def document_enqueue(document: Document) -> None:
    """Send the document to the ingest task once the transaction that created it commits.

    The document is stored before this runs: if the broker is down, the failure is logged and
    the upload still succeeds; the reaper sends documents left queued to ingest later."""
    task_send_on_commit("hdr.document_ingest", document.id)


def template_resolve(value) -> Template | None:
    """The template an upload names, by id or by name (its current version); None for none.
    Unknown, draft and superseded templates are refused with the reason."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    if text.isdigit():
        template = Template.objects.filter(pk=int(text)).first()
    else:
        template = Template.objects.filter(name=text, is_current=True).first()
    if template is None:
        raise ApplicationError(f"no template {text!r}")
    if not template.is_current:
        raise ApplicationError(f"{template} is an old version; upload with the current one")
    if not template.is_live:
        raise ApplicationError(f"{template} is a draft; an admin must make it live first")
    return template


def document_create(
    *,
    owner,
    upload: Upload,
    idempotency_key: str | None = None,
    batch: Batch | None = None,
    template=None,
    template_fallback: bool = False,
) -> tuple[Document, bool]:
    """Store an uploaded scan as a queued document; return (document, created).

    With an idempotency key, a retry by the same owner returns the first document unchanged, also
    when the two race. The file is written before the row, outside the transaction, so the
    database (SQLite's single writer above all) is locked only for the insert; a failed insert
    removes the file again.
    """
    if idempotency_key:
        existing = Document.objects.filter(owner=owner, idempotency_key=idempotency_key).first()
        if existing:
            return existing, False
    file_type = upload_validate(upload)
    document = Document(
        owner=owner,
        batch=batch,
        original_name=_display_name(upload.name),
        sha256=hashlib.sha256(upload.data).hexdigest(),
        size=len(upload.data),
        file_type=file_type,
        idempotency_key=idempotency_key or None,
        template=template,
        template_fallback=template_fallback,
    )
    document.file.save("original", ContentFile(upload.data), save=False)
    # Alone (an API upload), the INSERT commits by itself: one statement instead of BEGIN,
    # INSERT and COMMIT. Inside a caller's transaction (a batch), a savepoint keeps that
    # transaction usable after a duplicate key.
    in_transaction = transaction.get_connection().in_atomic_block
    try:
        with transaction.atomic() if in_transaction else nullcontext():
            document.save()
    except IntegrityError:
        document.file.delete(save=False)
        existing = Document.objects.filter(owner=owner, idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing, False
    except BaseException:
        document.file.delete(save=False)
        raise
    # Sent when the row is committed: at once alone, at the caller's commit otherwise. Whatever
    # happens to the message, the row and its file stay (the reaper sends a document left queued
    # to ingest again).
    document_enqueue(document)
    logger.info("document %s created (%s, %d bytes)", document.id, file_type, document.size)
    return document, True


def zip_uploads_extract(upload: Upload) -> list[Upload]:
    """The scans inside a ZIP, refusing bombs, nested archives and anything that is not a scan.

    Nothing is written to disk: member names are display names only ("scans.zip:north/0001.png"),
    so path tricks ("../", absolute paths) cannot escape anywhere. The files an operating system
    adds to an archive by itself are skipped (`ZIP_SYSTEM_FOLDERS`, `ZIP_SYSTEM_FILES`, "._*").
    """
    max_files = settings.HDR_UPLOAD_MAX_FILES
    max_bytes = settings.HDR_UPLOAD_MAX_BYTES
    try:
        archive = zipfile.ZipFile(io.BytesIO(upload.data))
        members = [
            info
            for info in archive.infolist()
            if not info.is_dir() and not _zip_system_file(info.filename)
        ]
    except (zipfile.BadZipFile, OSError) as exc:
        raise ApplicationError(f"{upload.name}: not a readable ZIP archive ({exc})") from exc
    if not members:
        raise ApplicationError(f"{upload.name}: the ZIP archive holds no files")
    if len(members) > max_files:
        raise ApplicationError(
            f"{upload.name}: the ZIP archive holds {len(members)} files, more than {max_files}"
        )
    total = sum(info.file_size for info in members)
    if total > max_bytes:
        raise ApplicationError(
            f"{upload.name}: the ZIP archive inflates to {total} bytes, more than {max_bytes}"
        )
    extracted = []
    with archive:
        for info in members:
            name = f"{_display_name(upload.name)}:{_display_name(info.filename)}"
            if info.flag_bits & 0x1:
                raise ApplicationError(f"{name}: encrypted ZIP members are not accepted")
            if info.compress_size and info.file_size / info.compress_size > ZIP_MAX_RATIO:
                raise ApplicationError(f"{name}: compression ratio too high (a ZIP bomb?)")
            with archive.open(info) as member:
                # Read one byte past the declared size: a lying header cannot inflate further.
                data = member.read(info.file_size + 1)
            if len(data) > info.file_size:
                raise ApplicationError(f"{name}: the member is larger than its header says")
            if data[:4] in ZIP_MAGICS:
                raise ApplicationError(f"{name}: nested ZIP archives are not accepted")
            extracted.append(Upload(name=name, data=data))
    return extracted


def uploads_expand(uploads: list[Upload]) -> list[Upload]:
    """Replace every ZIP by its members; validate every file before anything is stored."""
    files: list[Upload] = []
    for upload in uploads:
        files.extend(zip_uploads_extract(upload) if upload.data[:4] in ZIP_MAGICS else [upload])
    if not files:
        raise ApplicationError("no file was uploaded")
    if len(files) > settings.HDR_UPLOAD_MAX_FILES:
        raise ApplicationError(
            f"{len(files)} files in one upload, more than {settings.HDR_UPLOAD_MAX_FILES}"
        )
    for upload in files:
        upload_validate(upload)
    return files


@transaction.atomic
def batch_create(
    *,
    owner,
    uploads: list[Upload],
    callback_url: str = "",
    template=None,
    template_fallback: bool = False,
) -> Batch:
    """Create a batch and one queued document per file (ZIPs expanded); all or nothing."""
    if callback_url:
        callback_url_check(callback_url)
    files = uploads_expand(uploads)
    batch = Batch.objects.create(owner=owner, callback_url=callback_url)
    for upload in files:
        document_create(
            owner=owner,
            upload=upload,
            batch=batch,
            template=template,
            template_fallback=template_fallback,
        )
    return batch


def document_fail(*, document_id, reason: str) -> bool:
    """Record why a document cannot be read; it stays failed until someone uploads it again.

    Only a document still queued or processing can fail. A failure reported after the document
    settled (a task that raised after its step committed, say) leaves its status, results and
    first failure reason as they are. Returns whether the document failed now."""
    failed = (
        Document.objects.filter(pk=document_id)
        .exclude(status__in=SETTLED_STATUSES)
        .update(status=DocumentStatus.FAILED, error=reason[:2000], finished_at=timezone.now())
    )
    if not failed:
        logger.warning("document %s already settled; not failed for: %s", document_id, reason)
        return False
    logger.warning("document %s failed: %s", document_id, reason)
    batch_id = Document.objects.filter(pk=document_id).values_list("batch_id", flat=True).first()
    if batch_id:
        batch_complete_if_settled(batch_id=batch_id)
    return True


# --- deleting documents -----------------------------------------------------------------------
#
# A document's files are its original (`documents/`), its pages (`pages/<id>/`: images and the
# crops segmentation stores for recognition) and its fields' crops (`crops/<id>/`). The rows go
# in one transaction; the files only once it has committed, so a rollback never leaves rows
# without files. A process that dies between the two leaves files that no row names, which
# `manage.py files_sweep` takes. Training samples cut from corrected fields are not the
# document's: they stay with the training set (their link to the field is cleared).


def document_files_delete(*, document_id, file_name: str) -> int:
    """Delete a document's stored files (its rows are gone); returns how many were deleted. A
    file that cannot be deleted is logged and left to the file sweep, never raised."""
    storage = storages["default"]
    folders = (document_pages_folder(document_id), document_crops_folder(document_id))
    names = [file_name] if file_name else []
    for folder in folders:
        try:
            if storage.exists(folder):
                names.extend(f"{folder}/{name}" for name in storage.listdir(folder)[1])
        except OSError as exc:
            logger.warning("files of document %s not listed in %s: %s", document_id, folder, exc)
    deleted = 0
    for name in names:
        try:
            storage.delete(name)
            deleted += 1
        except OSError as exc:
            logger.warning("file %s of deleted document %s kept: %s", name, document_id, exc)
    for folder in folders:
        _folder_remove_if_empty(storage, folder)
    return deleted


def _folder_remove_if_empty(storage, folder: str) -> None:
    """Remove an emptied local folder; storages without folders (object stores) have none."""
    try:
        path = storage.path(folder)
    except NotImplementedError:
        return
    if os.path.isdir(path) and not os.listdir(path):
        try:
            os.rmdir(path)
        except OSError as exc:  # a file written into it meanwhile: the sweep will see it
            logger.warning("folder %s of a deleted document kept: %s", folder, exc)


# What `documents_delete_rows` reads of each document: its files, its batch and what its
# deletion record keeps (a caller that loads only some columns loads these).
DELETION_FIELDS = (
    "pk", "batch_id", "file", "owner_id", "original_name", "sha256", "size", "status",
    "page_count", "created_at",
)  # fmt: skip


def documents_delete_rows(
    documents: list[Document], *, deleted_by=None, settle_batches: bool = True
) -> None:
    """Delete these documents' rows (pages, fields and reviews with them) inside the caller's
    transaction, each leaving a `DocumentDeletion` record, and their files once it commits;
    `deleted_by` is the person who asked (None: the retention policy). With `settle_batches`,
    batches that lose their last unsettled document reach their events."""
    owners = dict(
        get_user_model()
        .objects.filter(pk__in={document.owner_id for document in documents})
        .values_list("pk", "username")
    )
    DocumentDeletion.objects.bulk_create(
        DocumentDeletion(
            document_id=document.pk,
            original_name=document.original_name,
            sha256=document.sha256,
            size=document.size,
            status=document.status,
            page_count=document.page_count,
            owner=owners[document.owner_id],
            batch_id=document.batch_id,
            uploaded_at=document.created_at,
            deleted_by=deleted_by.get_username() if deleted_by else "",
            reason=DeletionReason.REQUEST if deleted_by else DeletionReason.RETENTION,
        )
        for document in documents
    )
    Document.objects.filter(pk__in=[document.pk for document in documents]).delete()
    for document in documents:
        transaction.on_commit(
            lambda document_id=document.pk, name=document.file.name: document_files_delete(
                document_id=document_id, file_name=name
            )
        )
    if settle_batches:
        for batch_id in {document.batch_id for document in documents if document.batch_id}:
            # Completing a batch also marks it done when it can; else it may be done now.
            transaction.on_commit(
                lambda batch_id=batch_id: (
                    batch_complete_if_settled(batch_id=batch_id)
                    or batch_done_if_final(batch_id=batch_id)
                )
            )


def user_may_delete(user, row: Document | Batch) -> bool:
    """Whether `user` may delete the document or batch: its uploader or an admin."""
    return row.owner_id == user.pk or user_is_admin(user)


def _deletable(user, visible, pk, what: str) -> Document | Batch:
    """The row `pk` of `visible` (the rows `user` may see), locked, if `user` may delete it; a
    row the user may not even see is "not found", as everywhere else."""
    row = visible.select_for_update().filter(pk=pk).first()
    if row is None:
        raise NotFoundError(f"no such {what}")
    if not user_may_delete(user, row):
        raise ForbiddenError(f"only the clerk who uploaded a {what}, or an admin, deletes it")
    return row


def document_delete(*, user, document_id) -> Document:
    """Delete a document with its results and files, for the clerk who uploaded it or an admin;
    returns the deleted document.

    A document being read is refused: its worker would write pages and crops for rows that are
    gone. A queued one may go (its ingest finds nothing to do)."""
    with transaction.atomic():
        document = _deletable(user, documents_visible_to(user), document_id, "document")
        if document.status == DocumentStatus.PROCESSING:
            raise ConflictError(
                "the document is being read; delete it once it is done or has failed"
            )
        documents_delete_rows([document], deleted_by=user)
    logger.info("document %s deleted by %s", document_id, user)
    return document


def batch_delete(*, user, batch_id) -> int:
    """Delete a batch with every document in it, for the clerk who uploaded it or an admin;
    refused while any of its documents is being read. Returns the documents deleted. A webhook
    not yet delivered is not sent any more."""
    with transaction.atomic():
        batch = _deletable(user, batches_visible_to(user), batch_id, "batch")
        documents = list(Document.objects.select_for_update().filter(batch=batch))
        reading = sum(document.status == DocumentStatus.PROCESSING for document in documents)
        if reading:
            raise ConflictError(
                f"{reading} of the batch's {len(documents)} documents "
                f"{'is' if reading == 1 else 'are'} being read; delete the batch once every "
                "document is done or has failed"
            )
        documents_delete_rows(documents, deleted_by=user, settle_batches=False)
        batch.delete()
    logger.info("batch %s deleted by %s with %d documents", batch_id, user, len(documents))
    return len(documents)
