"""A worker killed (SIGKILL) in the middle of a page loses nothing: after a restart every document
finishes, with exactly the fields one clean run finds (no duplicates, none missing)."""

from __future__ import annotations

import os
import signal
import time
import uuid
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from celery import current_app
from django.conf import settings

from forms_ocr import segment_page
from forms_ocr.synth import digits_from_npz, synth_page
from recognition.models import Document, DocumentStatus, Field, Page
from recognition.services.documents import Upload, document_create
from recognition.services.pipeline import documents_reap_stuck
from tests.factories import UserFactory
from tests.support.processes import subprocess_database_url, worker_start, worker_stop

pytestmark = pytest.mark.slow

DIGITS = Path(__file__).resolve().parent.parent / "ml" / "fixtures" / "mnist_test_300.npz"
SETTLED = (DocumentStatus.DONE, DocumentStatus.NEEDS_REVIEW, DocumentStatus.FAILED)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="hdrsite.settings_test",
        HDR_VAR_DIR=str(settings.VAR_DIR),
        DATABASE_URL=subprocess_database_url(),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CELERY_RESULT_BACKEND=settings.CELERY_RESULT_BACKEND,
        # Redis: a message whose worker died is delivered again after 3 s, not an hour.
        HDR_BROKER_VISIBILITY_TIMEOUT_S="3",
    )
    return env


def _start(tmp_path: Path, name: str):
    hostname = f"kill-{name}-{uuid.uuid4().hex[:6]}@localhost"
    log = tmp_path / f"{name}.log"
    proc = worker_start(_env(), hostname=hostname, log_path=log)
    deadline = time.monotonic() + 90
    while not current_app.control.ping(destination=[hostname], timeout=1.0):
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"worker {name} did not come up:\n{log.read_text()[-3000:]}")
    return proc, log


def test_a_worker_killed_mid_page_loses_nothing_after_a_restart(transactional_db, tmp_path):
    digits = digits_from_npz(DIGITS)
    images = [
        synth_page("form", digits, seed=40 + i, degradations=("rotation",)).image for i in range(3)
    ]
    expected_fields = [len(segment_page(image).fields) for image in images]
    first, first_log = _start(tmp_path, "first")
    owner = UserFactory()
    documents = [
        document_create(
            owner=owner, upload=Upload(f"form{i}.png", cv2.imencode(".png", img)[1].tobytes())
        )[0]
        for i, img in enumerate(images)
    ]

    # Kill the worker as soon as it works on a page: its task is unacknowledged.
    deadline = time.monotonic() + 60
    while b"hdr.page_" not in first_log.read_bytes():
        assert time.monotonic() < deadline, first_log.read_text()[-3000:]
        time.sleep(0.05)
    time.sleep(0.2)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()

    second, second_log = _start(tmp_path, "second")
    try:
        deadline = time.monotonic() + 180
        while Document.objects.exclude(status__in=SETTLED).exists():
            assert time.monotonic() < deadline, second_log.read_text()[-3000:]
            # What beat's reaper does every minute in production, here every few seconds.
            documents_reap_stuck(older_than=timedelta(seconds=8))
            time.sleep(2)
    finally:
        worker_stop(second)

    for document, image_fields in zip(documents, expected_fields, strict=True):
        document.refresh_from_db()
        assert document.status in (DocumentStatus.DONE, DocumentStatus.NEEDS_REVIEW), document.error
        page = Page.objects.get(document=document)
        assert page.recognized_at is not None
        indexes = list(Field.objects.filter(page=page).values_list("index", flat=True))
        assert sorted(indexes) == list(range(image_fields))  # no duplicates, none missing
        statuses = set(Field.objects.filter(page=page).values_list("status", flat=True))
        assert statuses <= {"accepted", "needs_review"}
    assert np.all([d.pages.count() == 1 for d in documents])
