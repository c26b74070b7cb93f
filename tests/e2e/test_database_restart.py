"""PostgreSQL restarting mid-run delays work but loses none: tasks that hit the outage retry with
backoff, and every document finishes once the database is back."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import InterfaceError, OperationalError, connection

from recognition.models import Document, DocumentStatus
from recognition.services.documents import Upload, document_create
from recognition.services.pipeline import documents_reap_stuck
from tests.factories import UserFactory
from tests.support.faults import (
    assert_each_read_once,
    fault_worker_start,
    form_png,
    settle_all,
    wait_until_working_on_a_page,
)
from tests.support.processes import worker_stop

pytestmark = pytest.mark.slow

SETTLED = (DocumentStatus.DONE, DocumentStatus.NEEDS_REVIEW, DocumentStatus.FAILED)


def _cluster() -> list[str]:
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir())
    return [versions[0], "main"]


@pytest.fixture
def local_postgres():
    settings_dict = connection.settings_dict
    if connection.vendor != "postgresql" or settings_dict["HOST"] not in ("127.0.0.1", "localhost"):
        pytest.skip("the database is not this machine's PostgreSQL (CI runs this test)")
    if not shutil.which("pg_ctlcluster") or not Path("/etc/postgresql").is_dir():
        pytest.skip("pg_ctlcluster is not available here")
    yield
    connection.close()


def _unsettled() -> bool | None:
    try:
        return Document.objects.exclude(status__in=SETTLED).exists()
    except (OperationalError, InterfaceError):
        connection.close()  # the next query opens a new connection
        return None


def _reap() -> None:
    try:
        documents_reap_stuck(older_than=timedelta(seconds=20))
    except (OperationalError, InterfaceError):
        connection.close()


def test_postgres_restarting_mid_run_loses_no_document(transactional_db, tmp_path, local_postgres):
    worker, log = fault_worker_start(tmp_path, "postgres")
    owner = UserFactory()
    try:
        documents = [
            document_create(owner=owner, upload=Upload(f"p{i}.png", form_png(80 + i)))[0]
            for i in range(3)
        ]
        wait_until_working_on_a_page(log)

        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", *_cluster(), "restart", "-m", "fast"],
            check=True,
        )
        connection.close()

        settle_all(log, reap=_reap, unsettled=_unsettled)
    finally:
        worker_stop(worker)

    assert_each_read_once(documents)
