"""A worker process keeps its database connection from one task to the next, as the web keeps
one from one request to the next, and drops it when it is obsolete or broken."""

from __future__ import annotations

import time
import uuid

import pytest
from celery.fixups.django import DjangoWorkerFixup
from celery.signals import task_postrun, task_prerun
from django.db import connection

from tests.support.processes import wait_until
from worker.celery import app
from worker.tasks.maintenance import ping, reap_stuck_documents


@pytest.fixture
def worker_fixup():
    """Celery's own Django fix-up, installed as a worker installs it, with these settings."""
    fixup = DjangoWorkerFixup(app)
    fixup.install()
    yield fixup
    task_prerun.disconnect(fixup.on_task_prerun)
    task_postrun.disconnect(fixup.on_task_postrun)


def _task_run() -> None:
    """The signals a worker sends around one task."""
    task = ping
    task_id = str(uuid.uuid4())
    task_prerun.send(sender=task, task_id=task_id, task=task, args=(), kwargs={})
    connection.ensure_connection()
    task_postrun.send(sender=task, task_id=task_id, task=task, args=(), kwargs={}, retval=None)


def test_a_healthy_connection_serves_the_next_task(transactional_db, worker_fixup):
    connection.ensure_connection()
    opened = connection.connection

    for _ in range(3):
        _task_run()

    assert connection.connection is opened


def test_a_connection_past_its_age_is_replaced_at_the_next_task(transactional_db, worker_fixup):
    connection.ensure_connection()
    opened = connection.connection
    connection.close_at = time.monotonic() - 1

    _task_run()

    assert connection.connection is not None and connection.connection is not opened


def test_a_task_run_eagerly_leaves_its_callers_transaction_alone(transactional_db):
    """Eagerly, a task runs inside its caller: an open transaction there must survive it."""
    from django.db import transaction

    with transaction.atomic():
        opened = connection.connection
        ping.apply()
        assert connection.connection is opened
        assert not connection.needs_rollback


def test_the_worker_process_serves_its_tasks_on_one_postgres_connection(
    live_worker, transactional_db
):
    """Through a real worker: three tasks that query the database, one server process for all."""
    if connection.vendor != "postgresql":
        pytest.skip("counts PostgreSQL server processes (CI runs it)")

    def others() -> set[int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return {pid for (pid,) in cursor.fetchall()}

    served_by = []
    for _ in range(3):
        reap_stuck_documents.apply_async(ignore_result=False).get(timeout=60)
        wait_until(lambda: len(others()) == 1, timeout=10)
        served_by.append(others())

    assert served_by[0] == served_by[1] == served_by[2]
