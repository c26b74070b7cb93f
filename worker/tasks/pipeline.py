"""The document pipeline: ingest -> segment (per page) -> recognize (per page) -> route.

Tasks are thin: they take ids, call one service, and leave the next hop to the service (queued on
commit). Transient faults (database or broker restarting, a webhook receiver down) are retried with
exponential backoff; anything else is recorded on the document as its failure reason.
"""

from __future__ import annotations

import logging

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError

from recognition.inference import recognizers_active
from recognition.services import pipeline
from recognition.services.batches import WebhookDeliveryError, batch_webhook_deliver

logger = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


class PipelineTask(Task):
    """Records the failure on the document once a task has given up.

    Results are not stored: every step writes what it did to the database, and nothing reads a
    task result. Storing them cost two result-backend writes per task (started, then done).
    """

    ignore_result = True
    autoretry_for = TRANSIENT
    retry_backoff = 2
    retry_backoff_max = 300
    retry_jitter = True
    max_retries = 6

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        reason = (
            "processing took too long and was stopped"
            if isinstance(exc, SoftTimeLimitExceeded)
            else f"internal error in {self.name}: {type(exc).__name__}: {exc}"
        )
        try:
            pipeline.pipeline_failure_record(task_name=self.name, object_id=args[0], reason=reason)
        except Exception:  # the database itself may be what failed; the reaper catches up
            logger.exception("could not record the failure of %s %s", self.name, args)


@shared_task(name="hdr.document_ingest", base=PipelineTask)
def document_ingest(document_id: str) -> int:
    return len(pipeline.document_ingest(document_id=document_id))


@shared_task(name="hdr.page_segment", base=PipelineTask)
def page_segment(page_id: str) -> int:
    return pipeline.page_segment(page_id=int(page_id))


@shared_task(name="hdr.page_recognize", base=PipelineTask)
def page_recognize(page_id: str) -> str | None:
    recognizers = recognizers_active()
    return pipeline.page_recognize(page_id=int(page_id), recognizers=recognizers)


@shared_task(
    name="hdr.batch_webhook_deliver",
    ignore_result=True,
    autoretry_for=(WebhookDeliveryError, *TRANSIENT),
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def deliver_batch_webhook(batch_id: str, event: str = "batch.completed") -> None:
    batch_webhook_deliver(batch_id=batch_id, event=event)
