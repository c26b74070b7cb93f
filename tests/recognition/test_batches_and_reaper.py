"""Batch completion fires one signed webhook (retried until received, sent again when its message
was lost); stuck documents are reaped; a settled document never fails afterwards."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from recognition.models import Batch, Document, DocumentStatus
from recognition.services.batches import (
    WebhookDeliveryError,
    batch_complete_if_settled,
    batch_webhook_deliver,
    batches_sweep,
)
from recognition.services.documents import document_fail
from recognition.services.pipeline import documents_reap_stuck, pipeline_failure_record
from tests.factories import DocumentFactory, PageFactory, UserFactory, png_bytes
from tests.support.webhooks import Receiver, signature_expected


@pytest.fixture
def receiver(settings):
    # The receiver listens on loopback, which webhooks refuse unless allowed.
    settings.HDR_WEBHOOK_ALLOW_PRIVATE = True
    server = Receiver()
    yield server
    server.close()


def _batch_with(statuses, callback_url=""):
    owner = UserFactory()
    batch = Batch.objects.create(owner=owner, callback_url=callback_url)
    for status in statuses:
        DocumentFactory(owner=owner, batch=batch, status=status)
    return batch


def test_batch_completes_only_when_every_document_is_settled(
    db, django_capture_on_commit_callbacks
):
    batch = _batch_with([DocumentStatus.DONE, DocumentStatus.PROCESSING], callback_url="http://x/")

    assert batch_complete_if_settled(batch_id=batch.pk) is False
    Document.objects.filter(batch=batch).update(status=DocumentStatus.NEEDS_REVIEW)
    with django_capture_on_commit_callbacks() as callbacks:
        assert batch_complete_if_settled(batch_id=batch.pk) is True
    assert batch_complete_if_settled(batch_id=batch.pk) is False  # only once

    batch.refresh_from_db()
    assert batch.completed_at is not None
    assert len(callbacks) == 1  # the webhook task is queued once


def test_webhook_is_signed_and_carries_every_document(db, receiver, settings):
    settings.HDR_WEBHOOK_SECRET = "s3cret"
    batch = _batch_with([DocumentStatus.DONE, DocumentStatus.FAILED], callback_url=receiver.url)
    batch_complete_if_settled(batch_id=batch.pk)

    batch_webhook_deliver(batch_id=batch.pk)

    headers, body = receiver.requests[0]
    assert headers["X-Hdr-Signature"] == signature_expected("s3cret", headers, body)
    payload = json.loads(body)
    assert payload["event"] == "batch.completed" and payload["batch"] == str(batch.pk)
    assert sorted(d["status"] for d in payload["documents"]) == ["done", "failed"]
    batch.refresh_from_db()
    assert batch.webhook_delivered_at is not None and batch.webhook_attempts == 1

    batch_webhook_deliver(batch_id=batch.pk)
    assert len(receiver.requests) == 1  # delivered once, never again


def test_webhook_failure_raises_for_retry_and_records_the_error(db, receiver):
    receiver.status = 503
    batch = _batch_with([DocumentStatus.DONE], callback_url=receiver.url)

    with pytest.raises(WebhookDeliveryError, match="answered 503"):
        batch_webhook_deliver(batch_id=batch.pk)

    batch.refresh_from_db()
    assert batch.webhook_delivered_at is None and batch.webhook_error == "HTTP 503"
    receiver.status = 200
    batch_webhook_deliver(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.webhook_delivered_at is not None and batch.webhook_attempts == 2


def test_webhook_to_a_private_address_is_refused_at_delivery(db, receiver, settings):
    batch = _batch_with([DocumentStatus.DONE], callback_url=receiver.url)
    settings.HDR_WEBHOOK_ALLOW_PRIVATE = False

    batch_webhook_deliver(batch_id=batch.pk)

    batch.refresh_from_db()
    assert receiver.requests == []
    assert batch.webhook_delivered_at is None
    assert "private or local address" in batch.webhook_error


def test_a_broker_down_when_the_last_document_fails_loses_neither_the_failure_nor_the_webhook(
    db, broker, django_capture_on_commit_callbacks
):
    batch = _batch_with([DocumentStatus.DONE], callback_url="http://hooks.example/h")
    last = DocumentFactory(owner=batch.owner, batch=batch, status=DocumentStatus.PROCESSING)
    broker.down = True

    with django_capture_on_commit_callbacks(execute=True):
        assert document_fail(document_id=last.pk, reason="unreadable") is True

    batch.refresh_from_db()
    assert Document.objects.get(pk=last.pk).status == DocumentStatus.FAILED
    assert batch.completed_at is not None and batch.done_at is not None
    assert broker.sent == []

    broker.down = False
    with django_capture_on_commit_callbacks(execute=True):
        assert batches_sweep(older_than=timedelta(0)) == {"reached": 0, "resent": 2}
        assert batches_sweep(older_than=timedelta(minutes=30)) == {"reached": 0, "resent": 0}

    assert sorted(broker.sent) == [
        ("hdr.batch_webhook_deliver", [str(batch.pk), "batch.completed"]),
        ("hdr.batch_webhook_deliver", [str(batch.pk), "batch.done"]),
    ]


def test_the_sweep_reaches_batch_events_that_a_crash_skipped(
    db, broker, django_capture_on_commit_callbacks
):
    # Documents settled, but the worker died before the batch was stamped.
    settled = _batch_with([DocumentStatus.DONE, DocumentStatus.NEEDS_REVIEW], "http://h.example/")
    open_batch = _batch_with([DocumentStatus.DONE, DocumentStatus.PROCESSING], "http://h.example/")
    reviewed = _batch_with([DocumentStatus.DONE, DocumentStatus.FAILED])
    Batch.objects.filter(pk=reviewed.pk).update(completed_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        assert batches_sweep(older_than=timedelta(minutes=30)) == {"reached": 2, "resent": 0}
        assert batches_sweep(older_than=timedelta(minutes=30)) == {"reached": 0, "resent": 0}

    stamps = {
        b.pk: (b.completed_at is not None, b.done_at is not None) for b in Batch.objects.all()
    }
    assert stamps[settled.pk] == (True, False)  # one document still waits for review
    assert stamps[open_batch.pk] == (False, False)
    assert stamps[reviewed.pk] == (True, True)
    assert broker.sent == [("hdr.batch_webhook_deliver", [str(settled.pk), "batch.completed"])]


def test_the_sweep_leaves_webhooks_being_retried_delivered_or_given_up(
    db, broker, django_capture_on_commit_callbacks
):
    now = timezone.now()
    url = "http://hooks.example/h"
    retrying = _batch_with([DocumentStatus.NEEDS_REVIEW], url)
    delivered = _batch_with([DocumentStatus.NEEDS_REVIEW], url)
    given_up = _batch_with([DocumentStatus.NEEDS_REVIEW], url)
    stalled = _batch_with([DocumentStatus.NEEDS_REVIEW], url)
    an_hour_ago = now - timedelta(hours=1)
    Batch.objects.update(completed_at=an_hour_ago)
    Batch.objects.filter(pk=retrying.pk).update(webhook_attempted_at=now - timedelta(minutes=5))
    Batch.objects.filter(pk=delivered.pk).update(webhook_delivered_at=an_hour_ago)
    Batch.objects.filter(pk=given_up.pk).update(completed_at=now - timedelta(days=4))
    Batch.objects.filter(pk=stalled.pk).update(webhook_attempted_at=an_hour_ago)

    with django_capture_on_commit_callbacks(execute=True):
        assert batches_sweep(older_than=timedelta(minutes=30)) == {"reached": 0, "resent": 1}

    assert broker.sent == [("hdr.batch_webhook_deliver", [str(stalled.pk), "batch.completed"])]


def test_a_delivery_attempt_is_stamped_on_its_event(db, receiver):
    receiver.status = 503
    batch = _batch_with([DocumentStatus.DONE], callback_url=receiver.url)
    batch_complete_if_settled(batch_id=batch.pk)

    with pytest.raises(WebhookDeliveryError):
        batch_webhook_deliver(batch_id=batch.pk, event="batch.done")

    batch.refresh_from_db()
    assert batch.done_webhook_attempted_at is not None and batch.webhook_attempted_at is None
    assert batch.webhook_attempts == 1


@pytest.mark.parametrize(
    "status", [DocumentStatus.DONE, DocumentStatus.NEEDS_REVIEW, DocumentStatus.FAILED]
)
def test_a_failure_reported_after_the_document_settled_changes_nothing(db, status):
    document = DocumentFactory(status=status, error="first reason" if status == "failed" else "")
    page = PageFactory(document=document)

    pipeline_failure_record(
        task_name="hdr.page_recognize", object_id=page.pk, reason="internal error: broker down"
    )

    document.refresh_from_db()
    assert document.status == status
    assert document.error == ("first reason" if status == "failed" else "")


def test_a_failure_of_a_document_in_progress_is_recorded(db):
    document = DocumentFactory(status=DocumentStatus.PROCESSING)

    assert document_fail(document_id=document.pk, reason="page 1 is blank") is True

    document.refresh_from_db()
    assert (document.status, document.error) == (DocumentStatus.FAILED, "page 1 is blank")
    assert document.finished_at is not None


def test_reaper_requeues_stuck_documents_and_fails_them_after_three_attempts(
    db, django_capture_on_commit_callbacks
):
    old = timezone.now() - timedelta(hours=2)
    retry = DocumentFactory(status=DocumentStatus.PROCESSING, processing_started_at=old, attempts=1)
    give_up = DocumentFactory(
        status=DocumentStatus.PROCESSING, processing_started_at=old, attempts=3
    )
    fresh = DocumentFactory(
        status=DocumentStatus.PROCESSING, processing_started_at=timezone.now(), attempts=1
    )

    with django_capture_on_commit_callbacks() as callbacks:
        result = documents_reap_stuck(older_than=timedelta(minutes=30))

    assert result == {"requeued": 1, "failed": 1}
    assert len(callbacks) == 1
    statuses = {d.pk: (d.status, d.error) for d in Document.objects.all()}
    assert statuses[retry.pk] == (DocumentStatus.QUEUED, "")
    assert statuses[give_up.pk][0] == DocumentStatus.FAILED
    assert "after 3 attempts" in statuses[give_up.pk][1]
    assert statuses[fresh.pk] == (DocumentStatus.PROCESSING, "")


def test_reaper_sends_documents_whose_ingest_message_was_lost_again_once(
    db, django_capture_on_commit_callbacks
):
    lost = DocumentFactory(status=DocumentStatus.QUEUED)
    waiting = DocumentFactory(status=DocumentStatus.QUEUED)
    Document.objects.filter(pk=lost.pk).update(updated_at=timezone.now() - timedelta(hours=2))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = documents_reap_stuck(older_than=timedelta(minutes=30))
        second = documents_reap_stuck(older_than=timedelta(minutes=30))

    assert first == {"requeued": 1, "failed": 0}
    assert second == {"requeued": 0, "failed": 0}  # not again until it is stale again
    assert len(callbacks) == 1
    assert Document.objects.get(pk=waiting.pk).status == DocumentStatus.QUEUED


def test_ingest_command_stores_files_and_reports_refusals(db, tmp_path, capsys):
    UserFactory(username="ops")
    (tmp_path / "scans").mkdir()
    (tmp_path / "scans" / "a.png").write_bytes(png_bytes())
    (tmp_path / "scans" / "b.pdf").write_bytes(b"not a pdf at all")
    (tmp_path / "scans" / "north").mkdir()
    (tmp_path / "scans" / "north" / "a.png").write_bytes(png_bytes())

    with pytest.raises(CommandError, match="1 of 3 files were refused"):
        call_command("ingest", str(tmp_path / "scans"), "--user", "ops")

    names = sorted(Document.objects.values_list("original_name", flat=True))
    assert names == ["a.png", "north/a.png"]
    assert "b.pdf: refused: b.pdf: unsupported file type" in capsys.readouterr().err


def test_seed_demo_queues_synthetic_scans_once(db, capsys):
    from recognition.services.users import demo_users_ensure

    demo_users_ensure()

    call_command("seed_demo", "--count", "2", "--cheques", "1")
    call_command("seed_demo", "--count", "2", "--cheques", "1")

    documents = Document.objects.filter(owner__username="clerk")
    assert sorted(documents.values_list("original_name", flat=True)) == [
        "demo-cheque-1.png",
        "demo-form-1.png",
        "demo-form-2.png",
    ]
    assert all(d.file_type == "png" and d.status == DocumentStatus.QUEUED for d in documents)
    # Cheques are read with the built-in cheque template, which is created once.
    cheque = documents.get(original_name="demo-cheque-1.png")
    assert cheque.template.name == "cheque" and cheque.template.is_live
    assert [f.name for f in cheque.template.fields.order_by("pk")] == ["date", "amount", "account"]
    assert "0 demo scans queued for clerk (3 already there)" in capsys.readouterr().out
