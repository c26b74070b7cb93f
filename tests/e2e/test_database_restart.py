"""PostgreSQL restarting mid-run delays work but loses none: tasks that hit the outage retry with
backoff, and every document finishes once the database is back."""

from __future__ import annotations

import shutil
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import InterfaceError, OperationalError, connection

from recognition.models import Document, DocumentStatus, Field
from recognition.services.documents import Upload, document_create
from recognition.services.pipeline import documents_reap_stuck
from tests.e2e.test_broker_restart import _png
from tests.e2e.test_worker_kill import _start
from tests.factories import UserFactory
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


def test_postgres_restarting_mid_run_loses_no_document(transactional_db, tmp_path, local_postgres):
    worker, log = _start(tmp_path, "postgres")
    owner = UserFactory()
    try:
        documents = [
            document_create(owner=owner, upload=Upload(f"p{i}.png", _png(80 + i)))[0]
            for i in range(3)
        ]
        deadline = time.monotonic() + 60
        while b"hdr.page_" not in log.read_bytes():
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.05)

        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", *_cluster(), "restart", "-m", "fast"],
            check=True,
        )
        connection.close()

        deadline = time.monotonic() + 240
        while _unsettled() is not False:
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            try:
                documents_reap_stuck(older_than=timedelta(seconds=20))
            except (OperationalError, InterfaceError):
                connection.close()
            time.sleep(2)
    finally:
        worker_stop(worker)

    for document in documents:
        document.refresh_from_db()
        assert document.status in (DocumentStatus.DONE, DocumentStatus.NEEDS_REVIEW), document.error
        indexes = list(
            Field.objects.filter(page__document=document).values_list("index", flat=True)
        )
        assert indexes and sorted(indexes) == list(range(len(indexes)))
