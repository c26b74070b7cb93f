"""How ingest stores page images: a grey 8-bit PNG as uploaded, anything else encoded grey."""

from __future__ import annotations

import cv2
import numpy as np

from forms_ocr.reading import png_is_grey8
from recognition.models import Page
from recognition.services import pipeline
from recognition.services.documents import Upload, document_create
from tests.factories import UserFactory


def _page_for(data: bytes, name: str) -> Page:
    document, _ = document_create(owner=UserFactory(), upload=Upload(name, data))
    [page_id] = pipeline.document_ingest(document_id=document.pk)
    return Page.objects.get(pk=page_id)


def _scan() -> np.ndarray:
    rng = np.random.default_rng(0)
    image = np.full((120, 90), 235, np.uint8)
    cv2.putText(image, "42", (10, 80), cv2.FONT_HERSHEY_SIMPLEX, 2, 20, 5)
    return np.clip(image + rng.normal(0, 6, image.shape), 0, 255).astype(np.uint8)


def test_a_grey_png_is_stored_as_uploaded(db):
    data = cv2.imencode(".png", _scan())[1].tobytes()

    page = _page_for(data, "scan.png")

    with page.image.open("rb") as handle:
        assert handle.read() == data
    assert np.array_equal(pipeline.page_image_load(page), _scan())


def test_a_colour_png_is_stored_as_its_grey_page(db):
    colour = cv2.cvtColor(_scan(), cv2.COLOR_GRAY2BGR)
    colour[:10, :10] = (0, 0, 255)
    data = cv2.imencode(".png", colour)[1].tobytes()

    page = _page_for(data, "scan.png")

    with page.image.open("rb") as handle:
        stored = handle.read()
    assert stored != data and png_is_grey8(stored)
    assert pipeline.page_image_load(page).shape == (120, 90)


def test_only_8_bit_grey_pngs_without_transparency_count_as_pages():
    grey = cv2.imencode(".png", _scan())[1].tobytes()
    sixteen = cv2.imencode(".png", _scan().astype(np.uint16) * 257)[1].tobytes()
    with_alpha = cv2.imencode(".png", cv2.cvtColor(_scan(), cv2.COLOR_GRAY2BGRA))[1].tobytes()
    jpeg = cv2.imencode(".jpg", _scan())[1].tobytes()

    assert png_is_grey8(grey)
    assert not png_is_grey8(sixteen)
    assert not png_is_grey8(with_alpha)
    assert not png_is_grey8(jpeg)
    assert not png_is_grey8(grey[:20])
