"""End to end through the API and a real worker process (PostgreSQL and Redis in CI)."""

from __future__ import annotations

import csv
import io
import json
import time
import zipfile
from pathlib import Path

import cv2
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from forms_ocr.synth import digits_from_npz, synth_page
from recognition.services.users import demo_users_ensure
from tests.e2e.conftest import sign_in
from tests.support.processes import wait_until
from tests.support.webhooks import Receiver, signature_expected

pytestmark = pytest.mark.slow

DIGITS = Path(__file__).resolve().parent.parent / "ml" / "fixtures" / "mnist_test_300.npz"
SETTLED = {"done", "needs_review", "failed"}


def _form_png(seed: int) -> bytes:
    page = synth_page(
        "form", digits_from_npz(DIGITS), seed=seed, degradations=("rotation", "noise")
    )
    return cv2.imencode(".png", page.image)[1].tobytes()


def _wait_settled(api: APIClient, document_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = api.get(f"/api/v1/documents/{document_id}/").json()
        if body["status"] in SETTLED:
            return body
        time.sleep(0.5)
    pytest.fail(f"document {document_id} did not settle: {body['status']}")


@pytest.fixture
def clerk_api(transactional_db):
    demo_users_ensure()
    api = APIClient()
    token = api.post(
        "/api/v1/auth/token/", {"username": "clerk", "password": "hdr-clerk-demo"}
    ).json()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token['token']}")
    return api


def test_upload_poll_read_and_export(live_worker, clerk_api):
    accepted = clerk_api.post(
        "/api/v1/documents/",
        {"file": SimpleUploadedFile("form.png", _form_png(21))},
        HTTP_IDEMPOTENCY_KEY="e2e-1",
    )
    assert accepted.status_code == 202

    body = _wait_settled(clerk_api, accepted.json()["id"])

    assert body["status"] in ("done", "needs_review"), body["error"]
    fields = body["pages"][0]["fields"]
    assert len([f for f in fields if f["kind"] == "digits"]) >= 5
    read = [f for f in fields if f["value"]]
    assert read and all(f["status"] in ("accepted", "needs_review") for f in read)
    assert all(len(f["characters"]) == len(f["value"]) for f in read)
    export = clerk_api.get(f"/api/v1/documents/{body['id']}/export?format=csv")
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert len(rows) == len(fields)
    assert {r["value"] for r in rows} >= {f["value"] for f in read}

    # Read and exported: the integration deletes it, and its files go with it.
    media = Path(settings.MEDIA_ROOT)
    stored = [p for p in media.rglob("*") if p.is_file() and body["id"] in str(p)]
    assert stored  # the original and the page's files, written by the worker
    assert clerk_api.delete(f"/api/v1/documents/{body['id']}/").status_code == 204
    assert clerk_api.get(f"/api/v1/documents/{body['id']}/").status_code == 404
    assert not any(p.exists() for p in stored)


def test_an_unreadable_scan_ends_failed_with_its_reason(live_worker, clerk_api):
    accepted = clerk_api.post(
        "/api/v1/documents/", {"file": SimpleUploadedFile("broken.pdf", b"%PDF-1.4 broken body")}
    )

    body = _wait_settled(clerk_api, accepted.json()["id"])

    assert body["status"] == "failed"
    assert "damaged" in body["error"]


def _png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width x height pixels: a decompression bomb."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width + 1) * 16)  # a few rows; the rest never arrives
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_fails_with_its_reason_and_the_worker_goes_on(live_worker, clerk_api):
    bomb = clerk_api.post(
        "/api/v1/documents/",
        {"file": SimpleUploadedFile("bomb.png", _png_declaring(60_000, 60_000))},
    )
    assert bomb.status_code == 202

    failed = _wait_settled(clerk_api, bomb.json()["id"])
    after = clerk_api.post(
        "/api/v1/documents/", {"file": SimpleUploadedFile("form.png", _form_png(23))}
    )
    read = _wait_settled(clerk_api, after.json()["id"])

    assert failed["status"] == "failed"
    assert "pixels" in failed["error"], failed["error"]
    assert read["status"] in ("done", "needs_review"), read["error"]


def test_browser_upload_shows_the_read_values(
    live_worker, live_server, phone_page, tmp_path, clerk_api
):
    scan = tmp_path / "form.png"
    scan.write_bytes(_form_png(22))
    sign_in(phone_page, live_server, "clerk", "hdr-clerk-demo")

    phone_page.goto(f"{live_server.url}/upload/")
    phone_page.set_input_files("#file-input", str(scan))
    link = phone_page.locator("#progress a").first
    link.wait_for(timeout=30_000)
    phone_page.locator("#progress .status-done, #progress .status-needs_review").first.wait_for(
        timeout=120_000
    )
    link.click()

    phone_page.wait_for_selector("table.fields tbody tr.field")
    values = phone_page.locator("table.fields td.value").all_inner_texts()
    assert any(v.strip().isdigit() for v in values)
    assert phone_page.locator("svg rect.box").count() >= 5


def test_a_batch_with_a_zip_is_read_and_its_signed_webhook_reaches_the_receiver(
    live_worker, clerk_api, settings
):
    settings.HDR_WEBHOOK_ALLOW_PRIVATE = True  # the receiver listens on loopback
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("scans/a.png", _form_png(31))
        zipped.writestr("scans/b.png", _form_png(32))
    receiver = Receiver()
    try:
        accepted = clerk_api.post(
            "/api/v1/batches/",
            {
                "files": [
                    SimpleUploadedFile("c.png", _form_png(33)),
                    SimpleUploadedFile("scans.zip", archive.getvalue()),
                ],
                "callback_url": receiver.url,
            },
            format="multipart",
        )
        assert accepted.status_code == 202, accepted.content
        batch_id = accepted.json()["id"]
        headers, body = wait_until(lambda: receiver.event("batch.completed"), timeout=180)
    finally:
        receiver.close()

    assert headers["X-Hdr-Signature"] == signature_expected(
        settings.HDR_WEBHOOK_SECRET, headers, body
    )
    payload = json.loads(body)
    assert payload["batch"] == batch_id
    assert sorted(d["original_name"] for d in payload["documents"]) == [
        "c.png",
        "scans.zip:scans/a.png",
        "scans.zip:scans/b.png",
    ]
    assert {d["status"] for d in payload["documents"]} <= {"done", "needs_review"}
    progress = clerk_api.get(f"/api/v1/batches/{batch_id}/").json()["progress"]
    assert progress["complete"] is True and progress["total"] == 3
    export = clerk_api.get(f"/api/v1/batches/{batch_id}/export?format=csv")
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert len({r["document_id"] for r in rows}) == 3
