"""Documents and what the pipeline reads from them: pages, then fields."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class DocumentStatus(models.TextChoices):
    QUEUED = "queued"
    PROCESSING = "processing"
    NEEDS_REVIEW = "needs_review"
    DONE = "done"
    FAILED = "failed"


# The pipeline is done with a document (a person may still have to review it) ...
SETTLED_STATUSES = (DocumentStatus.DONE, DocumentStatus.NEEDS_REVIEW, DocumentStatus.FAILED)
# ... and nothing will change it any more.
FINAL_STATUSES = (DocumentStatus.DONE, DocumentStatus.FAILED)


class FieldKind(models.TextChoices):
    DIGITS = "digits", "Comb boxes"
    STRING = "string", "Digit string"


class FieldStatus(models.TextChoices):
    ACCEPTED = "accepted"
    NEEDS_REVIEW = "needs_review"
    CORRECTED = "corrected"
    CONFIRMED = "confirmed"


class Batch(models.Model):
    """Files uploaded together (many files or one ZIP); a webhook fires when all are settled."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="batches"
    )
    callback_url = models.URLField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Every document done (review finished) or failed: the second webhook, "batch.done".
    done_at = models.DateTimeField(null=True, blank=True)
    done_webhook_delivered_at = models.DateTimeField(null=True, blank=True)
    webhook_delivered_at = models.DateTimeField(null=True, blank=True)
    # The last delivery attempt of each event (or its re-send by the sweep): an event reached
    # long ago with no attempt since is a webhook whose message was lost.
    webhook_attempted_at = models.DateTimeField(null=True, blank=True)
    done_webhook_attempted_at = models.DateTimeField(null=True, blank=True)
    webhook_attempts = models.PositiveIntegerField(default=0)
    webhook_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"batch {self.pk}"


def document_upload_to(document: Document, filename: str) -> str:
    # The stored name never comes from the client: a content hash cannot collide or traverse.
    return f"documents/{document.sha256[:2]}/{document.id}.{document.file_type}"


class Document(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed by the (owner, status, -created_at) index below, which starts with it.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="documents",
        db_index=False,
    )
    batch = models.ForeignKey(
        Batch, on_delete=models.CASCADE, null=True, blank=True, related_name="documents"
    )
    file = models.FileField(upload_to=document_upload_to, max_length=300)
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    file_type = models.CharField(max_length=8)  # decided from the content: pdf, tiff, png, jpeg
    status = models.CharField(
        max_length=16, choices=DocumentStatus.choices, default=DocumentStatus.QUEUED
    )
    error = models.TextField(blank=True)
    # NULL, not "", when absent: the unique constraint must ignore documents without a key.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    page_count = models.PositiveIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    processing_started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    template = models.ForeignKey(
        "recognition.Template",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="documents",
    )
    # When the scan does not register to its template: read it automatically instead of failing.
    template_fallback = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="document_idempotency_key_per_owner",
            ),
        ]
        # Every index is one more write per upload, so only those that queries use: a clerk's
        # list (owner, status, newest first), the reaper and reviewers' lists (status). A
        # `db_index=True` CharField would add a second, LIKE-only index on PostgreSQL.
        indexes = [
            models.Index(fields=["owner", "status", "-created_at"]),
            models.Index(fields=["status"], name="document_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.status})"


def document_pages_folder(document_id) -> str:
    """Where a document's page images and page crops are stored."""
    return f"pages/{document_id}"


def document_crops_folder(document_id) -> str:
    """Where a document's field crops are stored."""
    return f"crops/{document_id}"


def page_image_upload_to(page: Page, filename: str) -> str:
    return f"{document_pages_folder(page.document_id)}/{page.index:04d}.png"


def page_crops_upload_to(page: Page, filename: str) -> str:
    return f"{document_pages_folder(page.document_id)}/{page.index:04d}-crops.npz"


class DeletionReason(models.TextChoices):
    REQUEST = "request", "Deleted by a person"
    RETENTION = "retention", "Retention period passed"


class DocumentDeletion(models.Model):
    """What stays of a deleted document: what it was, who deleted it, when and why.

    Written in the transaction that deletes the document, so no document goes without its
    record. Names are kept as text, not links: the record outlives the accounts it names."""

    document_id = models.UUIDField(db_index=True)
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    # The status it had when deleted, and its pages (none when it was never read).
    status = models.CharField(max_length=16, choices=DocumentStatus.choices)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    owner = models.CharField(max_length=150)
    batch_id = models.UUIDField(null=True, blank=True)
    uploaded_at = models.DateTimeField()
    # Empty when the retention policy deleted it.
    deleted_by = models.CharField(max_length=150, blank=True)
    reason = models.CharField(max_length=16, choices=DeletionReason.choices)
    deleted_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-deleted_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.document_id}) deleted {self.deleted_at:%Y-%m-%d}"


class Page(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="pages")
    index = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    dpi = models.FloatField(null=True, blank=True)
    image = models.FileField(upload_to=page_image_upload_to, max_length=300)
    # The normalized crops of every field (an .npz keyed f<index>), from segment to recognize.
    crops = models.FileField(upload_to=page_crops_upload_to, max_length=300, blank=True)
    skew_deg = models.FloatField(null=True, blank=True)
    quality = models.JSONField(default=dict, blank=True)
    segmented_at = models.DateTimeField(null=True, blank=True)
    recognized_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["document", "index"]
        constraints = [
            models.UniqueConstraint(fields=["document", "index"], name="page_index_unique"),
        ]

    def __str__(self) -> str:
        return f"page {self.index} of {self.document_id}"


def field_crop_upload_to(field: Field, filename: str) -> str:
    return f"{document_crops_folder(field.page.document_id)}/{field.page.index:04d}-{field.index:03d}.png"


class Field(models.Model):
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="fields")
    index = models.PositiveIntegerField()  # reading order on the page
    name = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=8, choices=FieldKind.choices)
    bbox = models.JSONField()  # [x, y, w, h] in the pixels of the page as read
    # Comb fields: one entry per box, {"bbox": [x, y, w, h], "empty": bool}.
    boxes = models.JSONField(default=list, blank=True)
    crop = models.FileField(upload_to=field_crop_upload_to, max_length=300, blank=True)
    value = models.CharField(max_length=64, blank=True)
    # One entry per character of `value`: {"char", "confidence", "alternatives": [[char, p], ...]}.
    characters = models.JSONField(default=list, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=FieldStatus.choices, blank=True, db_index=True)
    model_version = models.ForeignKey(
        "recognition.ModelVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # What the machine read, kept when a person corrects `value`.
    machine_value = models.CharField(max_length=64, blank=True)
    # String fields: the model's n-best list, [[text, score], ...] best first.
    n_best = models.JSONField(default=list, blank=True)
    template_field = models.ForeignKey(
        "recognition.TemplateField",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Why the field went to review (low confidence, a failed rule, a quality sample, ...).
    review_reason = models.CharField(max_length=300, blank=True)
    # Auto-accepted, then sent to review anyway to measure the error of accepted fields.
    sampled = models.BooleanField(default=False)
    # The review queue: one reviewer holds a field until `claimed_until`.
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    claimed_until = models.DateTimeField(null=True, blank=True)
    # Bumped by every review: a save made against an older revision is a conflict.
    revision = models.PositiveIntegerField(default=0)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["page", "index"]
        constraints = [
            models.UniqueConstraint(fields=["page", "index"], name="field_index_unique"),
        ]
        indexes = [models.Index(fields=["status", "confidence"], name="field_queue")]

    def __str__(self) -> str:
        return f"{self.kind} field {self.index} = {self.value!r}"
