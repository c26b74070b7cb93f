"""Reads of documents, pages and fields, always through who may see them."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from recognition.models import (
    FINAL_STATUSES,
    SETTLED_STATUSES,
    Batch,
    Document,
    DocumentStatus,
    Field,
    Page,
)
from recognition.roles import Role


def user_sees_all_documents(user) -> bool:
    """Reviewers and admins work on everyone's documents; clerks see their own."""
    if user.is_superuser:
        return True
    return user.groups.filter(name__in=[Role.REVIEWER, Role.ADMIN]).exists()


def documents_visible_to(user) -> QuerySet[Document]:
    documents = Document.objects.all()
    if not user_sees_all_documents(user):
        documents = documents.filter(owner=user)
    return documents


def documents_list(*, user, status: str | None = None, batch_id=None) -> QuerySet[Document]:
    documents = documents_visible_to(user).select_related("owner")
    if status:
        documents = documents.filter(status=status)
    if batch_id:
        documents = documents.filter(batch_id=batch_id)
    # The id breaks ties, so that pages of the list never repeat or skip a document created in
    # the same instant as another (the documents of one archive).
    return documents.order_by("-created_at", "-id")


def document_with_results(*, user, document_id) -> Document:
    """The document with its pages and fields in reading order; Document.DoesNotExist if unseen."""
    fields = Field.objects.select_related("model_version").order_by("index")
    pages = Page.objects.order_by("index").prefetch_related(Prefetch("fields", queryset=fields))
    return (
        documents_visible_to(user)
        .prefetch_related(Prefetch("pages", queryset=pages))
        .get(pk=document_id)
    )


def batches_visible_to(user) -> QuerySet[Batch]:
    batches = Batch.objects.all()
    if not user_sees_all_documents(user):
        batches = batches.filter(owner=user)
    return batches


def batch_progress(batch: Batch) -> dict:
    """Counts of the batch's documents by status, and whether every one is settled."""
    counts = dict(
        batch.documents.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    total = sum(counts.values())
    settled = sum(counts.get(s, 0) for s in SETTLED_STATUSES)
    final = sum(counts.get(s, 0) for s in FINAL_STATUSES)
    return {
        "total": total,
        "by_status": {status: counts.get(status, 0) for status in DocumentStatus.values},
        "settled": settled,
        # Every document processed (some may still wait for review).
        "complete": total > 0 and settled == total,
        # Every document final: done after review, or failed.
        "final": total > 0 and final == total,
    }


def fields_for_export(*, documents: QuerySet[Document]) -> QuerySet[Field]:
    return (
        Field.objects.filter(page__document__in=documents)
        .select_related("page", "page__document")
        .order_by("page__document__created_at", "page__document_id", "page__index", "index")
    )
