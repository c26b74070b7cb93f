"""How ingest stores page images: a grey 8-bit PNG is the upload itself, anything else encoded grey."""

from __future__ import annotations

import cv2
import numpy as np
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forms_ocr.reading import png_is_grey8
from recognition.models import Document, DocumentStatus, Page
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


def test_a_grey_png_page_is_the_uploaded_file_not_a_second_copy(db):
    data = cv2.imencode(".png", _scan())[1].tobytes()

    page = _page_for(data, "scan.png")

    assert page.image.name == page.document.file.name
    # The page's folder holds only what segmentation stored for recognition.
    folder = settings.MEDIA_ROOT / "pages" / str(page.document_id)
    assert [p.name for p in folder.iterdir()] == ["0000-crops.npz"]


def test_ingest_writes_a_new_page_row_once_with_its_image(db):
    document, _ = document_create(
        owner=UserFactory(), upload=Upload("scan.png", cv2.imencode(".png", _scan())[1].tobytes())
    )
    with CaptureQueriesContext(connection) as queries:
        pipeline.document_ingest(document_id=document.pk)

    page_writes = [
        q["sql"].split()[0]
        for q in queries.captured_queries
        if q["sql"].startswith(("INSERT", "UPDATE")) and '"recognition_page"' in q["sql"][:40]
    ]
    # The INSERT carries the image; the one UPDATE is segmentation's (skew, quality, times).
    assert page_writes == ["INSERT", "UPDATE"]
    [update] = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("UPDATE") and '"recognition_page"' in q["sql"][:40]
    ]
    # Only what segmentation found: the page's image, size and document are not written again.
    assert not any(f'"{column}"' in update for column in ("image", "width", "document_id"))
    assert all(f'"{column}"' in update for column in ("crops", "skew_deg", "quality"))


def test_a_colour_png_is_stored_as_its_grey_page(db):
    colour = cv2.cvtColor(_scan(), cv2.COLOR_GRAY2BGR)
    colour[:10, :10] = (0, 0, 255)
    data = cv2.imencode(".png", colour)[1].tobytes()

    page = _page_for(data, "scan.png")

    with page.image.open("rb") as handle:
        stored = handle.read()
    assert stored != data and png_is_grey8(stored)
    assert page.image.name == f"pages/{page.document_id}/0000.png"
    assert pipeline.page_image_load(page).shape == (120, 90)


def test_ingest_run_again_replaces_an_encoded_page_under_the_same_name(db):
    colour = cv2.cvtColor(_scan(), cv2.COLOR_GRAY2BGR)
    document, _ = document_create(
        owner=UserFactory(), upload=Upload("scan.png", cv2.imencode(".png", colour)[1].tobytes())
    )
    [first] = pipeline.document_ingest(document_id=document.pk)
    name = Page.objects.get(pk=first).image.name
    Document.objects.filter(pk=document.pk).update(status=DocumentStatus.QUEUED)

    [second] = pipeline.document_ingest(document_id=document.pk)

    assert second == first
    assert Page.objects.get(pk=second).image.name == name
    assert sorted(p.name for p in (settings.MEDIA_ROOT / "pages" / str(document.pk)).iterdir()) == [
        "0000-crops.npz",
        "0000.png",
    ]


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
