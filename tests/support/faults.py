"""Shared steps of the fault tests: a worker of their own, waiting for it to work on a page,
settling every document while doing what beat's reaper does, and checking each was read once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.processes import subprocess_database_url, worker_env, worker_start

LOG_TAIL_CHARS = 3000


def form_png(seed: int) -> bytes:
    """A generated form (packaged digit sample, no degradations) as PNG bytes."""
    import cv2

    from forms_ocr.synth import SAMPLE_DIGITS, digits_from_npz, synth_page

    page = synth_page("form", digits_from_npz(SAMPLE_DIGITS), seed=seed, degradations=())
    return cv2.imencode(".png", page.image)[1].tobytes()


def fault_worker_start(tmp_path: Path, name: str):
    """A worker process on the test database and broker; returns (process, log path)."""
    from celery import current_app

    env = worker_env(
        subprocess_database_url(),
        # Redis: a message whose worker died is delivered again after 3 s, not an hour.
        HDR_BROKER_VISIBILITY_TIMEOUT_S="3",
    )
    hostname = f"fault-{name}-{uuid.uuid4().hex[:6]}@localhost"
    log = tmp_path / f"{name}.log"
    proc = worker_start(env, hostname=hostname, log_path=log)
    deadline = time.monotonic() + 90
    while not current_app.control.ping(destination=[hostname], timeout=1.0):
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"worker {name} did not come up:\n{log.read_text()[-LOG_TAIL_CHARS:]}")
    return proc, log


def wait_until_working_on_a_page(log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while b"hdr.page_" not in log.read_bytes():
        assert time.monotonic() < deadline, log.read_text()[-LOG_TAIL_CHARS:]
        time.sleep(0.05)


def settle_all(
    log: Path,
    *,
    reap: Callable[[], object],
    unsettled: Callable[[], bool | None],
    timeout: float = 240,
) -> None:
    """Wait until no document is unsettled, calling `reap` every 2 s as beat's reaper would.
    `unsettled` may answer None when it could not tell (the database was down)."""
    deadline = time.monotonic() + timeout
    while unsettled() is not False:
        assert time.monotonic() < deadline, log.read_text()[-LOG_TAIL_CHARS:]
        reap()
        time.sleep(2)


def assert_each_read_once(documents, expected_fields: list[int] | None = None) -> None:
    """Every document finished; its fields are numbered 0..n-1 once each (no duplicates, none
    missing) and, when given, n is what one clean segmentation finds."""
    from recognition.models import DocumentStatus, Field

    for position, document in enumerate(documents):
        document.refresh_from_db()
        assert document.status in (DocumentStatus.DONE, DocumentStatus.NEEDS_REVIEW), document.error
        indexes = sorted(
            Field.objects.filter(page__document=document).values_list("index", flat=True)
        )
        assert indexes, document
        assert indexes == list(range(len(indexes)))
        if expected_fields is not None:
            assert len(indexes) == expected_fields[position]
