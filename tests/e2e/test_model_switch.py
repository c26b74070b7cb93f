"""A running worker reads with the newly active model version, without a restart, and every
field records the version that read it."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import pytest
import torch

from forms_ocr.synth import SAMPLE_DIGITS, digits_from_npz, synth_page
from ml.export import onnx_export
from ml.models import create_model
from recognition.inference import recognizers_active
from recognition.models import Document, DocumentStatus, Field, ModelVersion
from recognition.services.documents import Upload, document_create
from recognition.services.model_versions import model_version_activate
from tests.factories import UserFactory

pytestmark = pytest.mark.slow

SETTLED = (DocumentStatus.DONE, DocumentStatus.NEEDS_REVIEW, DocumentStatus.FAILED)


def _settle(document: Document, timeout: float = 120) -> Document:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        document.refresh_from_db()
        if document.status in SETTLED:
            return document
        time.sleep(0.5)
    pytest.fail(f"{document} did not settle")


def _form() -> bytes:
    page = synth_page("form", digits_from_npz(SAMPLE_DIGITS), seed=90, degradations=())
    return cv2.imencode(".png", page.image)[1].tobytes()


def test_the_worker_switches_to_the_newly_active_version(
    live_worker, transactional_db, tmp_path: Path
):
    owner = UserFactory()
    first_version = recognizers_active().digits.version
    before = _settle(document_create(owner=owner, upload=Upload("a.png", _form()))[0])

    onnx_path = tmp_path / "switched.onnx"
    onnx_export(create_model("lenet5").eval(), onnx_path, example=torch.rand(2, 1, 28, 28))
    switched = model_version_activate(
        model_version=ModelVersion.objects.create(
            kind="digits", version="switched", onnx_path=str(onnx_path), accept_threshold=0.9
        )
    )
    after = _settle(document_create(owner=owner, upload=Upload("b.png", _form()))[0])

    combs = Field.objects.filter(kind="digits")
    assert before.status != DocumentStatus.FAILED and after.status != DocumentStatus.FAILED
    assert set(combs.filter(page__document=before).values_list("model_version", flat=True)) == {
        first_version.pk
    }
    assert set(combs.filter(page__document=after).values_list("model_version", flat=True)) == {
        switched.pk
    }
    model_version_activate(model_version=first_version)
