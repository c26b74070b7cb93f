"""Housekeeping and diagnostics tasks."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from recognition.services.batches import batches_sweep
from recognition.services.maintenance import documents_expire, sessions_clear_expired
from recognition.services.pipeline import documents_reap_stuck
from recognition.services.retraining import retraining_reap_stuck


@shared_task(name="hdr.ping")
def ping() -> dict:
    """Round trip through the broker and a worker: proves the queues are served."""
    return {"pong": True, "hostname": socket.gethostname(), "pid": os.getpid()}


@shared_task(name="hdr.device_info")
def device_info() -> dict:
    """Which inference providers this worker has (runs on the gpu queue, so a gpu node answers)."""
    import onnxruntime

    return {
        "hostname": socket.gethostname(),
        "onnxruntime_providers": onnxruntime.get_available_providers(),
    }


# The periodic tasks below store no result: nobody reads one, and each run would leave a key in
# the result backend for a day. The worker's log has what each returns ("succeeded in ...").


@shared_task(name="hdr.sessions_clear_expired", ignore_result=True)
def clear_expired_sessions() -> None:
    sessions_clear_expired()


@shared_task(name="hdr.documents_reap_stuck", ignore_result=True)
def reap_stuck_documents() -> dict:
    return documents_reap_stuck(older_than=timedelta(seconds=settings.HDR_STUCK_AFTER_S))


@shared_task(name="hdr.retraining_reap_stuck", ignore_result=True)
def reap_stuck_retraining() -> dict:
    return retraining_reap_stuck(stale_after=timedelta(seconds=settings.HDR_RETRAIN_STALE_S))


@shared_task(name="hdr.batches_sweep", ignore_result=True)
def sweep_batches() -> dict:
    return batches_sweep(older_than=timedelta(seconds=settings.HDR_STUCK_AFTER_S))


@shared_task(name="hdr.documents_expire", ignore_result=True)
def expire_documents() -> dict:
    """Retention: delete final documents older than HDR_RETENTION_DAYS (0: keep them all)."""
    if settings.HDR_RETENTION_DAYS <= 0:
        return {"documents": 0, "batches": 0}
    return documents_expire(older_than=timedelta(days=settings.HDR_RETENTION_DAYS))
