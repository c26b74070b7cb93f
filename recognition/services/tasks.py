"""Handing work to the Celery workers from inside a service's transaction."""

from __future__ import annotations

from celery import current_app
from django.db import transaction


def task_send_on_commit(task_name: str, *args) -> None:
    """Send `task_name` with `args` (as strings) once the current transaction commits.

    The rows the task needs are committed before it is sent, so a task never sees rows that are
    not there. A broker that is down does not undo or fail the work that has just committed: the
    failure is logged and the message is lost. What was sent must therefore be found again from
    the database: the reaper sends documents left queued or stuck in processing through the
    pipeline again, and the batch sweep sends undelivered webhooks (the tasks are idempotent).

    Nobody waits for these tasks' results: the database records what each one did. They are
    sent with `ignore_result`, so the sender does not register for a result (on the Redis
    result backend, a SUBSCRIBE and an UNSUBSCRIBE per message, on every upload) and the worker
    stores none."""
    args = [str(arg) for arg in args]
    transaction.on_commit(
        lambda: current_app.send_task(task_name, args=args, ignore_result=True), robust=True
    )
