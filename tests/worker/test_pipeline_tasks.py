"""The pipeline's Celery tasks: the pool each runs in, when its message is acknowledged, how a
transient fault is retried, and how a task that gives up fails its document with the reason."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from recognition.models import DocumentStatus
from tests.factories import DocumentFactory
from worker.tasks import pipeline as tasks


@pytest.mark.parametrize(
    "name, queue",
    [
        ("hdr.document_ingest", "cpu"),
        ("hdr.page_segment", "cpu"),
        ("hdr.page_recognize", "gpu"),
        ("hdr.batch_webhook_deliver", "cpu"),
    ],
)
def test_each_step_runs_in_its_pool_and_is_acknowledged_only_once_it_finished(name, queue):
    from worker.celery import app

    task = app.tasks[name]

    assert app.amqp.router.route({}, name)["queue"].name == queue
    # Acknowledged after the work, and given back when its worker dies mid-task: another worker
    # then takes the message instead of it being lost.
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True


def test_a_transient_database_fault_is_retried_until_the_step_succeeds(db, monkeypatch):
    calls = []

    def flaky(*, document_id):
        calls.append(document_id)
        if len(calls) < 3:
            raise OperationalError("server closed the connection unexpectedly")
        return [7]

    monkeypatch.setattr(tasks.pipeline, "document_ingest", flaky)

    result = tasks.document_ingest.apply(args=["d-1"])

    assert result.successful()
    assert result.get() == 1
    assert calls == ["d-1"] * 3


def _ingest_raising(monkeypatch, error: Exception) -> list:
    """Make the ingest step raise `error` every time; returns the list of calls it gets."""
    calls = []

    def failing(*, document_id):
        calls.append(document_id)
        raise error

    monkeypatch.setattr(tasks.pipeline, "document_ingest", failing)
    return calls


def test_a_fault_that_does_not_pass_fails_the_document_with_the_reason(db, monkeypatch):
    document = DocumentFactory(status=DocumentStatus.PROCESSING)
    calls = _ingest_raising(monkeypatch, ValueError("a page with no size"))

    result = tasks.document_ingest.apply(args=[str(document.pk)])

    assert result.failed()
    assert len(calls) == 1  # not a transient fault: not retried
    document.refresh_from_db()
    assert document.status == DocumentStatus.FAILED
    assert document.error == (
        "internal error in hdr.document_ingest: ValueError: a page with no size"
    )


def test_a_transient_fault_that_outlasts_every_retry_fails_the_document(db, monkeypatch):
    document = DocumentFactory(status=DocumentStatus.PROCESSING)
    calls = _ingest_raising(monkeypatch, OperationalError("the database system is shutting down"))

    result = tasks.document_ingest.apply(args=[str(document.pk)])

    assert result.failed()
    assert len(calls) == 1 + tasks.PipelineTask.max_retries
    document.refresh_from_db()
    assert document.status == DocumentStatus.FAILED
    assert "OperationalError: the database system is shutting down" in document.error
