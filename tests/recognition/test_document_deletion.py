"""Deleting documents (API, page, retention): rows and files go together, and only when allowed."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import cv2
import pytest
from django.core.management import CommandError, call_command
from django.db.models import QuerySet
from django.utils import timezone

from forms_ocr.synth import SAMPLE_DIGITS, digits_from_npz, synth_page
from recognition.models import (
    Batch,
    DeletionReason,
    Document,
    DocumentDeletion,
    DocumentStatus,
    Field,
    FieldKind,
    FieldReview,
    Page,
    TrainingSample,
)
from recognition.services import pipeline
from recognition.services.batches import batch_webhook_deliver
from recognition.services.documents import Upload, document_create, document_delete
from recognition.services.maintenance import documents_expire
from recognition.services.review import field_review
from tests.factories import DocumentFactory, UserFactory, api_for
from worker.tasks.maintenance import expire_documents


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def clerk(db):
    return UserFactory(roles=["clerk"])


def _files(media: Path) -> set[str]:
    return {str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()}


def _read_document(owner, *, seed: int = 3) -> Document:
    """A form scanned and segmented: its file, its page's crops and a crop file per field."""
    image = synth_page("form", digits_from_npz(SAMPLE_DIGITS), seed=seed).image
    scan = cv2.imencode(".png", image)[1].tobytes()
    document, _ = document_create(owner=owner, upload=Upload("form.png", scan))
    pipeline.document_ingest(document_id=document.pk)
    Document.objects.filter(pk=document.pk).update(status=DocumentStatus.DONE)
    document.refresh_from_db()
    return document


def _reviewed(document: Document, capture) -> tuple[Field, list[TrainingSample]]:
    """A comb field of the document corrected by a reviewer, which stores training samples."""
    field = next(
        f
        for f in Field.objects.filter(page__document=document, kind=FieldKind.DIGITS)
        if any(not box["empty"] for box in f.boxes)
    )
    filled = sum(not box["empty"] for box in field.boxes)
    with capture(execute=True):
        field_review(
            field_id=field.pk,
            reviewer=UserFactory(roles=["reviewer"]),
            revision=None,
            value="7" * filled,
        )
    samples = list(TrainingSample.objects.filter(field=field))
    assert samples and FieldReview.objects.filter(field=field).exists()
    return field, samples


def test_the_uploader_deletes_a_document_with_its_results_and_files_and_nothing_else(
    media, clerk, django_capture_on_commit_callbacks
):
    document = _read_document(clerk)
    other = _read_document(clerk, seed=4)
    before_other = {name for name in _files(media) if str(other.pk) in name}
    field, samples = _reviewed(document, django_capture_on_commit_callbacks)
    own = {name for name in _files(media) if str(document.pk) in name or name == document.file.name}
    assert any(n.startswith("pages/") for n in own) and any(n.startswith("crops/") for n in own)

    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(clerk).delete(f"/api/v1/documents/{document.pk}/")

    assert response.status_code == 204
    assert not Document.objects.filter(pk=document.pk).exists()
    assert not Page.objects.filter(document_id=document.pk).exists()
    assert not Field.objects.filter(pk=field.pk).exists()
    assert not FieldReview.objects.filter(field_id=field.pk).exists()
    assert not (own & _files(media))
    assert not (media / "pages" / str(document.pk)).exists()
    assert not (media / "crops" / str(document.pk)).exists()
    # The other document is whole, and the training sample stays with the training set.
    assert before_other <= _files(media)
    assert Field.objects.filter(page__document=other).exists()
    for sample in samples:
        sample.refresh_from_db()
        assert sample.field_id is None and (media / sample.image.name).exists()
    assert api_for(clerk).get(f"/api/v1/documents/{document.pk}/").status_code == 404


def test_a_document_being_read_is_not_deleted(media, clerk, django_capture_on_commit_callbacks):
    document = DocumentFactory(owner=clerk, status=DocumentStatus.PROCESSING)

    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(clerk).delete(f"/api/v1/documents/{document.pk}/")

    assert response.status_code == 409
    assert "being read" in response.json()["error"]["message"]
    assert Document.objects.filter(pk=document.pk).exists()
    assert (media / document.file.name).exists()


def test_only_the_uploader_or_an_admin_deletes_a_document(media, clerk):
    document = DocumentFactory(owner=clerk)

    other_clerk = api_for(UserFactory(roles=["clerk"]))
    assert other_clerk.delete(f"/api/v1/documents/{document.pk}/").status_code == 404
    reviewer = api_for(UserFactory(roles=["reviewer"]))
    refused = reviewer.delete(f"/api/v1/documents/{document.pk}/")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert Document.objects.filter(pk=document.pk).exists()

    admin = api_for(UserFactory(roles=["admin"]))
    assert admin.delete(f"/api/v1/documents/{document.pk}/").status_code == 204
    assert not Document.objects.filter(pk=document.pk).exists()


def test_a_queued_document_deleted_before_its_ingest_runs_leaves_nothing(
    media, clerk, django_capture_on_commit_callbacks
):
    scan = cv2.imencode(".png", synth_page("form", digits_from_npz(SAMPLE_DIGITS), seed=3).image)
    document, _ = document_create(owner=clerk, upload=Upload("form.png", scan[1].tobytes()))

    with django_capture_on_commit_callbacks(execute=True):
        assert api_for(clerk).delete(f"/api/v1/documents/{document.pk}/").status_code == 204

    assert pipeline.document_ingest(document_id=document.pk) == []  # its message arrives late
    assert _files(media) == set()


def test_deleting_a_batchs_last_unsettled_document_completes_the_batch(
    media, clerk, broker, django_capture_on_commit_callbacks
):
    batch = Batch.objects.create(owner=clerk, callback_url="https://example.com/hook")
    DocumentFactory(owner=clerk, batch=batch, status=DocumentStatus.DONE)
    queued = DocumentFactory(owner=clerk, batch=batch, status=DocumentStatus.QUEUED)

    with django_capture_on_commit_callbacks(execute=True):
        assert api_for(clerk).delete(f"/api/v1/documents/{queued.pk}/").status_code == 204

    batch.refresh_from_db()
    assert batch.completed_at is not None and batch.done_at is not None
    assert [args for name, args in broker.sent if name == "hdr.batch_webhook_deliver"] == [
        [str(batch.pk), "batch.completed"],
        [str(batch.pk), "batch.done"],
    ]


def test_the_document_page_deletes_for_its_uploader_and_says_so(media, clerk, client):
    document = DocumentFactory(owner=clerk, original_name="cheque-17.png")
    client.force_login(clerk)
    assert "Delete document" in client.get(f"/documents/{document.pk}/").content.decode()

    response = client.post(f"/documents/{document.pk}/delete/", follow=True)

    assert response.redirect_chain[-1][0] == "/documents/"
    assert "Deleted cheque-17.png" in response.content.decode()
    assert not Document.objects.filter(pk=document.pk).exists()


def test_the_document_page_offers_no_delete_to_a_reviewer_and_refuses_one(media, clerk, client):
    document = DocumentFactory(owner=clerk)
    client.force_login(UserFactory(roles=["reviewer"]))
    assert "Delete document" not in client.get(f"/documents/{document.pk}/").content.decode()

    response = client.post(f"/documents/{document.pk}/delete/", follow=True)

    assert "Not deleted: only the clerk who uploaded" in response.content.decode()
    assert Document.objects.filter(pk=document.pk).exists()
    assert client.get(f"/documents/{document.pk}/delete/").status_code == 405


def _aged(days: float, **kwargs) -> Document:
    document = DocumentFactory(**kwargs)
    Document.objects.filter(pk=document.pk).update(created_at=timezone.now() - timedelta(days=days))
    return document


def test_retention_deletes_old_final_documents_with_their_files_and_keeps_the_rest(
    media, clerk, django_capture_on_commit_callbacks
):
    old_done = [_aged(40, owner=clerk) for _ in range(3)]
    old_failed = _aged(40, owner=clerk, status=DocumentStatus.FAILED)
    kept = [
        _aged(40, owner=clerk, status=DocumentStatus.NEEDS_REVIEW),  # a person still owes it
        _aged(40, owner=clerk, status=DocumentStatus.PROCESSING),
        _aged(40, owner=clerk, status=DocumentStatus.QUEUED),
        _aged(10, owner=clerk),  # young
    ]
    empty_batch = Batch.objects.create(owner=clerk)
    Batch.objects.filter(pk=empty_batch.pk).update(created_at=timezone.now() - timedelta(days=40))
    young_empty_batch = Batch.objects.create(owner=clerk)

    with django_capture_on_commit_callbacks(execute=True):
        counts = documents_expire(older_than=timedelta(days=30), chunk=2)

    assert counts == {"documents": 4, "batches": 1}
    remaining = set(Document.objects.values_list("pk", flat=True))
    assert remaining == {document.pk for document in kept}
    assert not any((media / d.file.name).exists() for d in [*old_done, old_failed])
    assert all((media / d.file.name).exists() for d in kept)
    assert set(Batch.objects.values_list("pk", flat=True)) == {young_empty_batch.pk}


def test_the_retention_task_deletes_nothing_while_retention_is_off(
    media, clerk, settings, django_capture_on_commit_callbacks
):
    old = _aged(400, owner=clerk)
    settings.HDR_RETENTION_DAYS = 0

    assert expire_documents() == {"documents": 0, "batches": 0}
    assert Document.objects.filter(pk=old.pk).exists()

    settings.HDR_RETENTION_DAYS = 365
    with django_capture_on_commit_callbacks(execute=True):
        assert expire_documents() == {"documents": 1, "batches": 0}
    assert not Document.objects.filter(pk=old.pk).exists()


def test_the_expire_command_lists_by_default_and_deletes_when_told(
    media, clerk, capsys, django_capture_on_commit_callbacks
):
    old = _aged(40, owner=clerk, original_name="march.png")
    young = _aged(5, owner=clerk)

    call_command("documents_expire", "--days", "30")
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 2 and str(old.pk) in listed[0] and "march.png" in listed[0]
    assert json.loads(listed[-1]) == {"documents": 1, "deleted": 0}
    assert Document.objects.count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        call_command("documents_expire", "--days", "30", "--delete")
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["deleted"] == 1
    assert list(Document.objects.values_list("pk", flat=True)) == [young.pk]

    with pytest.raises(CommandError, match="--days above 0"):
        call_command("documents_expire")


def test_the_uploader_deletes_a_batch_with_every_document_and_its_webhook_is_not_sent(
    media, clerk, broker, django_capture_on_commit_callbacks
):
    batch = Batch.objects.create(owner=clerk, callback_url="https://example.com/hook")
    documents = [
        DocumentFactory(owner=clerk, batch=batch, status=status)
        for status in (DocumentStatus.DONE, DocumentStatus.FAILED, DocumentStatus.QUEUED)
    ]
    kept = DocumentFactory(owner=clerk)  # not in the batch

    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(clerk).delete(f"/api/v1/batches/{batch.pk}/")

    assert response.status_code == 204
    assert not Batch.objects.filter(pk=batch.pk).exists()
    assert list(Document.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not any((media / d.file.name).exists() for d in documents)
    assert (media / kept.file.name).exists()
    assert broker.sent == []  # no batch events for a batch that is gone
    batch_webhook_deliver(batch_id=batch.pk)  # a delivery already queued: nothing to send
    assert api_for(clerk).get(f"/api/v1/batches/{batch.pk}/").status_code == 404


def test_a_batch_is_not_deleted_while_a_document_in_it_is_being_read(media, clerk):
    batch = Batch.objects.create(owner=clerk)
    DocumentFactory(owner=clerk, batch=batch, status=DocumentStatus.DONE)
    DocumentFactory(owner=clerk, batch=batch, status=DocumentStatus.PROCESSING)

    response = api_for(clerk).delete(f"/api/v1/batches/{batch.pk}/")

    assert response.status_code == 409
    assert response.json()["error"]["message"].startswith("1 of the batch's 2 documents is")
    assert Document.objects.filter(batch=batch).count() == 2


def test_only_the_uploader_or_an_admin_deletes_a_batch(media, clerk):
    batch = Batch.objects.create(owner=clerk)
    DocumentFactory(owner=clerk, batch=batch)

    assert (
        api_for(UserFactory(roles=["clerk"])).delete(f"/api/v1/batches/{batch.pk}/").status_code
        == 404
    )
    assert (
        api_for(UserFactory(roles=["reviewer"])).delete(f"/api/v1/batches/{batch.pk}/").status_code
        == 403
    )
    assert Batch.objects.filter(pk=batch.pk).exists()
    assert (
        api_for(UserFactory(roles=["admin"])).delete(f"/api/v1/batches/{batch.pk}/").status_code
        == 204
    )


def test_every_deletion_leaves_a_record_of_what_went_who_deleted_it_and_why(
    media, clerk, django_capture_on_commit_callbacks
):
    asked = DocumentFactory(owner=clerk, original_name="june.png", page_count=2)
    batch = Batch.objects.create(owner=clerk)
    in_batch = DocumentFactory(owner=clerk, batch=batch, status=DocumentStatus.FAILED)
    expired = _aged(40, owner=clerk, original_name="march.png")
    refused = DocumentFactory(owner=clerk, status=DocumentStatus.PROCESSING)
    admin = UserFactory(username="ada", roles=["admin"])

    with django_capture_on_commit_callbacks(execute=True):
        assert api_for(clerk).delete(f"/api/v1/documents/{asked.pk}/").status_code == 204
        assert api_for(admin).delete(f"/api/v1/batches/{batch.pk}/").status_code == 204
        documents_expire(older_than=timedelta(days=30))
        assert api_for(clerk).delete(f"/api/v1/documents/{refused.pk}/").status_code == 409

    records = {r.document_id: r for r in DocumentDeletion.objects.all()}
    assert set(records) == {asked.pk, in_batch.pk, expired.pk}  # none for the refused one
    record = records[asked.pk]
    assert (record.original_name, record.sha256, record.size) == (
        "june.png", asked.sha256, asked.size,
    )  # fmt: skip
    assert (record.status, record.page_count, record.uploaded_at) == (
        DocumentStatus.DONE, 2, asked.created_at,
    )  # fmt: skip
    assert (record.owner, record.deleted_by, record.reason) == (
        clerk.username, clerk.username, DeletionReason.REQUEST,
    )  # fmt: skip
    assert (records[in_batch.pk].deleted_by, records[in_batch.pk].batch_id) == ("ada", batch.pk)
    assert records[in_batch.pk].status == DocumentStatus.FAILED
    assert (records[expired.pk].deleted_by, records[expired.pk].reason) == (
        "", DeletionReason.RETENTION,
    )  # fmt: skip
    assert records[expired.pk].original_name == "march.png"


def test_a_deletion_that_rolls_back_leaves_no_record(media, clerk, monkeypatch):
    document = DocumentFactory(owner=clerk)

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(QuerySet, "delete", fail)  # the rows' DELETE fails after the record
    with pytest.raises(RuntimeError):
        document_delete(user=clerk, document_id=document.pk)

    assert Document.objects.filter(pk=document.pk).exists()
    assert not DocumentDeletion.objects.exists()


def test_admins_read_the_deletion_records_and_cannot_add_change_or_delete_them(
    media, clerk, client, django_capture_on_commit_callbacks
):
    document = DocumentFactory(owner=clerk, original_name="july.png")
    with django_capture_on_commit_callbacks(execute=True):
        document_delete(user=clerk, document_id=document.pk)
    record = DocumentDeletion.objects.get()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    listed = client.get("/admin/recognition/documentdeletion/")
    shown = client.get(f"/admin/recognition/documentdeletion/{record.pk}/change/")
    changed = client.post(
        f"/admin/recognition/documentdeletion/{record.pk}/change/", {"original_name": "x.png"}
    )

    assert listed.status_code == 200 and "july.png" in listed.content.decode()
    assert shown.status_code == 200 and 'name="original_name"' not in shown.content.decode()
    assert client.get("/admin/recognition/documentdeletion/add/").status_code == 403
    assert (
        client.post(f"/admin/recognition/documentdeletion/{record.pk}/delete/").status_code == 403
    )
    assert changed.status_code in (302, 403)
    record.refresh_from_db()
    assert record.original_name == "july.png"
