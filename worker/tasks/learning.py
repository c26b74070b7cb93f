"""Continuous learning: the retraining job (gpu queue) and its schedule (beat)."""

from __future__ import annotations

from celery import shared_task

from recognition.services.retraining import retraining_due, retraining_run


@shared_task(name="hdr.retrain", acks_late=True, soft_time_limit=4 * 3600, time_limit=4 * 3600 + 60)
def retrain(job_id: int) -> str | None:
    job = retraining_run(job_id=int(job_id))
    return job.status if job else None


@shared_task(name="hdr.retrain_due", ignore_result=True)
def retrain_due() -> list[int]:
    """Start a retraining job for each model with enough new reviewed samples."""
    return [job.pk for job in retraining_due()]
