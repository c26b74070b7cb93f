"""A worker killed (SIGKILL) in the middle of a page loses nothing: after a restart every document
finishes, with exactly the fields one clean run finds (no duplicates, none missing)."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import cv2
import pytest

from forms_ocr import segment_page
from forms_ocr.synth import digits_from_npz, synth_page
from recognition.models import Document, DocumentStatus, Field, Page
from recognition.services.documents import Upload, document_create
from recognition.services.pipeline import documents_reap_stuck
from tests.factories import UserFactory
from tests.support.faults import (
    assert_each_read_once,
    fault_worker_start,
    settle_all,
    wait_until_working_on_a_page,
)
from tests.support.processes import worker_stop

pytestmark = pytest.mark.slow

DIGITS = Path(__file__).resolve().parent.parent / "ml" / "fixtures" / "mnist_test_300.npz"
SETTLED = (DocumentStatus.DONE, DocumentStatus.NEEDS_REVIEW, DocumentStatus.FAILED)


def test_a_worker_killed_mid_page_loses_nothing_after_a_restart(transactional_db, tmp_path):
    digits = digits_from_npz(DIGITS)
    images = [
        synth_page("form", digits, seed=40 + i, degradations=("rotation",)).image for i in range(3)
    ]
    expected_fields = [len(segment_page(image).fields) for image in images]
    first, first_log = fault_worker_start(tmp_path, "first")
    owner = UserFactory()
    documents = [
        document_create(
            owner=owner, upload=Upload(f"form{i}.png", cv2.imencode(".png", img)[1].tobytes())
        )[0]
        for i, img in enumerate(images)
    ]

    # Kill the worker as soon as it works on a page: its task is unacknowledged.
    wait_until_working_on_a_page(first_log)
    time.sleep(0.2)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()

    second, second_log = fault_worker_start(tmp_path, "second")
    try:
        settle_all(
            second_log,
            reap=lambda: documents_reap_stuck(older_than=timedelta(seconds=8)),
            unsettled=lambda: Document.objects.exclude(status__in=SETTLED).exists(),
            timeout=180,
        )
    finally:
        worker_stop(second)

    assert_each_read_once(documents, expected_fields)
    for document in documents:
        page = Page.objects.get(document=document)
        assert page.recognized_at is not None
        statuses = set(Field.objects.filter(page=page).values_list("status", flat=True))
        assert statuses <= {"accepted", "needs_review"}
