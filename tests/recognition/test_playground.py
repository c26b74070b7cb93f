"""The playground reads drawings with the scan pipeline's normalization and models."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

import ml
from ml.infer import DigitRecognizer
from recognition.models import ModelVersion
from recognition.reading import string_read_by_components
from recognition.services.model_versions import builtin_default
from tests.factories import UserFactory

DIGITS = Path(__file__).resolve().parent.parent / "ml" / "fixtures" / "mnist_test_300.npz"


@pytest.fixture
def api(db):
    client = APIClient()
    client.force_authenticate(UserFactory())
    return client


def _drawing(text: str, width: int) -> SimpleUploadedFile:
    canvas = np.full((120, width), 255, np.uint8)
    cv2.putText(canvas, text, (10, 95), cv2.FONT_HERSHEY_SIMPLEX, 3.2, 0, 10)
    return SimpleUploadedFile("pad.png", cv2.imencode(".png", canvas)[1].tobytes(), "image/png")


def test_a_drawn_digit_is_read_with_its_confidence_and_alternatives(api):
    response = api.post("/api/v1/playground/read", {"image": _drawing("7", 120), "mode": "digit"})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["value"] == "7"
    assert 0 < body["confidence"] <= 1
    assert len(body["characters"][0]["alternatives"]) == 2
    default = builtin_default("digits")[1]["version"]
    assert body["model_version"] == default == "digits-cnn-v4"
    # The default committed model was registered and activated on first use; v1, v2
    # (and v3) are registered for installations that roll back or opt in.
    assert ModelVersion.objects.get(kind="digits", is_active=True).version == default
    assert ModelVersion.objects.filter(kind="digits", version="digits-cnn-v2").exists()


def _handwritten_number(indices: list[int]) -> tuple[SimpleUploadedFile, str]:
    """Real MNIST digits side by side, dark ink on white, as a PNG; and the number they write."""
    with np.load(DIGITS) as data:
        images, labels = data["images"], data["labels"]
    strip = np.concatenate([images[i] for i in indices], axis=1)
    canvas = 255 - np.pad(strip, ((20, 20), (20, 20)))
    png = cv2.imencode(".png", cv2.resize(canvas, None, fx=3, fy=3))[1].tobytes()
    return SimpleUploadedFile("pad.png", png, "image/png"), "".join(str(labels[i]) for i in indices)


def test_a_written_number_is_read_by_the_string_model(api):
    drawing, number = _handwritten_number([0, 1, 2])

    response = api.post("/api/v1/playground/read", {"image": drawing, "mode": "number"})

    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == builtin_default("strings")[1]["version"]
    assert body["value"] == number
    assert [c["char"] for c in body["characters"]] == list(number)


def test_without_a_string_model_numbers_are_read_digit_by_digit():
    recognizer = DigitRecognizer(
        Path(ml.__file__).resolve().parent / "weights" / "digits" / "digits-cnn-v1.onnx"
    )
    canvas = np.full((120, 420), 255, np.uint8)
    cv2.putText(canvas, "3 4 7", (10, 95), cv2.FONT_HERSHEY_SIMPLEX, 3.2, 0, 10)

    reading = string_read_by_components(recognizer, canvas)

    assert reading.value == "347"
    assert [c["char"] for c in reading.characters] == ["3", "4", "7"]


def test_an_empty_pad_reads_nothing(api):
    blank = SimpleUploadedFile(
        "pad.png", cv2.imencode(".png", np.full((50, 50), 255, np.uint8))[1].tobytes()
    )

    response = api.post("/api/v1/playground/read", {"image": blank, "mode": "digit"})

    assert response.status_code == 200
    assert response.json()["value"] == "" and response.json()["confidence"] is None


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            {"image": SimpleUploadedFile("x.png", b"not an image"), "mode": "digit"},
            "not a PNG or JPEG",
        ),
        ({"image": SimpleUploadedFile("x.png", b"x"), "mode": "poem"}, "mode:"),
        ({"mode": "digit"}, "image:"),
    ],
)
def test_bad_drawings_are_refused_with_a_message(api, payload, message):
    response = api.post("/api/v1/playground/read", payload)

    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
