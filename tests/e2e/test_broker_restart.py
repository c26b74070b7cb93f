"""Redis restarting mid-run (without its data, the worst case) delays work but loses none: the
upload made while it is down is still accepted, every document finishes once it is back, and a
batch webhook due while it was down is delivered by the sweep."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from datetime import timedelta

import pytest
from django.conf import settings

from recognition.models import Batch, Document, DocumentStatus
from recognition.services.batches import batches_sweep
from recognition.services.documents import Upload, document_create, document_fail
from recognition.services.pipeline import documents_reap_stuck
from tests.factories import DocumentFactory, UserFactory
from tests.support.faults import (
    assert_each_read_once,
    fault_worker_start,
    form_png,
    settle_all,
    wait_until_working_on_a_page,
)
from tests.support.processes import wait_until, worker_stop
from tests.support.webhooks import Receiver

pytestmark = pytest.mark.slow

LOCAL_REDIS = "redis://127.0.0.1:6379/"
SETTLED = (DocumentStatus.DONE, DocumentStatus.NEEDS_REVIEW, DocumentStatus.FAILED)


def _redis(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["redis-cli", "-p", "6379", *args], capture_output=True, text=True)


def _redis_start() -> None:
    subprocess.run(
        ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379",
         "--save", "", "--appendonly", "no"],
        check=True,
    )  # fmt: skip
    for _ in range(50):
        if _redis("ping").stdout.strip() == "PONG":
            return
        time.sleep(0.1)
    pytest.fail("redis did not come back")


@pytest.fixture
def local_redis():
    if not settings.CELERY_BROKER_URL.startswith(LOCAL_REDIS):
        pytest.skip("the broker is not this machine's Redis (CI runs this test)")
    if not (shutil.which("redis-server") and shutil.which("redis-cli")):
        pytest.skip("redis-server is not installed here")
    yield
    if _redis("ping").stdout.strip() != "PONG":
        _redis_start()


def test_redis_restarting_mid_run_loses_no_document(transactional_db, tmp_path, local_redis):
    worker, log = fault_worker_start(tmp_path, "redis")
    owner = UserFactory()
    try:
        documents = [
            document_create(owner=owner, upload=Upload(f"f{i}.png", form_png(60 + i)))[0]
            for i in range(3)
        ]
        wait_until_working_on_a_page(log)

        _redis("shutdown", "nosave")  # queued messages are gone with it
        during, _ = document_create(owner=owner, upload=Upload("during.png", form_png(70)))
        documents.append(during)
        assert Document.objects.get(pk=during.pk).status == DocumentStatus.QUEUED
        time.sleep(1)
        _redis_start()

        settle_all(
            log,
            reap=lambda: documents_reap_stuck(
                older_than=timedelta(seconds=10), queued_older_than=timedelta(seconds=5)
            ),
            unsettled=lambda: Document.objects.exclude(status__in=SETTLED).exists(),
        )
    finally:
        worker_stop(worker)

    assert_each_read_once(documents)


def test_redis_down_when_a_batch_settles_delays_its_webhooks_but_loses_none(
    transactional_db, tmp_path, local_redis, settings
):
    settings.HDR_WEBHOOK_ALLOW_PRIVATE = True  # the receiver listens on loopback
    receiver = Receiver()
    owner = UserFactory()
    batch = Batch.objects.create(owner=owner, callback_url=receiver.url)
    DocumentFactory(owner=owner, batch=batch, status=DocumentStatus.DONE)
    last = DocumentFactory(owner=owner, batch=batch, status=DocumentStatus.PROCESSING)
    worker = None
    try:
        _redis("shutdown", "nosave")
        try:
            # The batch's last document fails while the broker is down: recorded all the same.
            assert document_fail(document_id=last.pk, reason="page 1 is unreadable") is True
        finally:
            _redis_start()
        batch.refresh_from_db()
        assert batch.completed_at is not None and batch.done_at is not None
        assert Document.objects.get(pk=last.pk).status == DocumentStatus.FAILED

        worker, _ = fault_worker_start(tmp_path, "webhooks")
        assert batches_sweep(older_than=timedelta(0)) == {"reached": 0, "resent": 2}
        wait_until(lambda: len(receiver.requests) >= 2, timeout=60)
    finally:
        if worker is not None:
            worker_stop(worker)
        receiver.close()

    events = sorted(json.loads(body)["event"] for _, body in receiver.requests)
    assert events == ["batch.completed", "batch.done"]
    batch.refresh_from_db()
    assert batch.webhook_delivered_at is not None
    assert batch.done_webhook_delivered_at is not None
