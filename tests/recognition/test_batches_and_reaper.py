"""Batch completion fires one signed webhook (retried until received); stuck documents are reaped."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from recognition.models import Batch, Document, DocumentStatus
from recognition.services.batches import (
    WebhookDeliveryError,
    batch_complete_if_settled,
    batch_webhook_deliver,
)
from recognition.services.pipeline import documents_reap_stuck
from tests.factories import DocumentFactory, UserFactory, png_bytes


class Receiver:
    """A local HTTP endpoint that records what it receives and answers with `status`."""

    def __init__(self, status: int = 200):
        self.status = status
        self.requests: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


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
    expected = hmac.new(
        b"s3cret", headers["X-Hdr-Timestamp"].encode() + b"." + body, hashlib.sha256
    )
    assert headers["X-Hdr-Signature"] == f"sha256={expected.hexdigest()}"
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

    with pytest.raises(CommandError, match="1 of 2 files were refused"):
        call_command("ingest", str(tmp_path / "scans"), "--user", "ops")

    assert list(Document.objects.values_list("original_name", flat=True)) == ["a.png"]
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
