"""The documents and batches API: uploads are checked by content, stored once, and read back."""

from __future__ import annotations

import io
import zipfile
from contextlib import contextmanager, nullcontext
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models.signals import pre_save
from django.utils import timezone
from rest_framework.pagination import PageNumberPagination
from rest_framework.test import APIClient

from recognition.models import Batch, Document, DocumentStatus
from recognition.services.documents import Upload, _display_name, document_create
from tests.factories import DocumentFactory, FieldFactory, PageFactory, UserFactory, png_bytes

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def clerk(db):
    return UserFactory(roles=["clerk"])


@pytest.fixture
def api(clerk):
    client = APIClient()
    client.force_authenticate(clerk)
    return client


def _upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def _zip(members: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_upload_is_accepted_with_202_and_queued_for_ingest(
    api, clerk, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api.post("/api/v1/documents/", {"file": _upload("form.png", png_bytes())})

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert body["url"].endswith(f"/api/v1/documents/{body['id']}/")
    document = Document.objects.get(pk=body["id"])
    assert document.owner == clerk and document.file_type == "png"
    assert document.file.read() == png_bytes()
    assert len(callbacks) == 1  # the ingest task is sent once the row is committed


def test_type_is_decided_by_content_not_by_extension(api):
    response = api.post("/api/v1/documents/", {"file": _upload("really-a-pdf.png", PDF_BYTES)})

    assert response.status_code == 202
    assert Document.objects.get().file_type == "pdf"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.txt", b"hello, not a scan", "unsupported file type"),
        ("empty.png", b"", "empty"),
    ],
)
def test_bad_files_are_refused_with_a_message_and_nothing_stored(api, name, data, message):
    response = api.post("/api/v1/documents/", {"file": _upload(name, data)})

    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    assert not Document.objects.exists()


def test_too_large_files_are_refused(api, settings):
    settings.HDR_UPLOAD_MAX_BYTES = 100

    response = api.post("/api/v1/documents/", {"file": _upload("big.png", png_bytes())})

    assert response.status_code == 400
    assert "more than the limit of 100" in response.json()["error"]["message"]
    assert not Document.objects.exists()


def test_missing_file_is_a_400_naming_the_field(api):
    response = api.post("/api/v1/documents/", {})

    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("file:")


def test_idempotency_key_makes_a_retry_return_the_same_document(api):
    first = api.post(
        "/api/v1/documents/", {"file": _upload("a.png", png_bytes())}, HTTP_IDEMPOTENCY_KEY="k-1"
    )
    retry = api.post(
        "/api/v1/documents/", {"file": _upload("a.png", png_bytes())}, HTTP_IDEMPOTENCY_KEY="k-1"
    )
    other = api.post(
        "/api/v1/documents/", {"file": _upload("a.png", png_bytes())}, HTTP_IDEMPOTENCY_KEY="k-2"
    )

    assert first.status_code == retry.status_code == 202
    assert retry.json()["id"] == first.json()["id"]
    assert retry["Idempotent-Replayed"] == "true"
    assert other.json()["id"] != first.json()["id"]
    assert Document.objects.count() == 2


@pytest.fixture(
    params=[
        pytest.param("alone", marks=pytest.mark.django_db(transaction=True)),
        pytest.param("in_a_transaction", marks=pytest.mark.django_db),
    ]
)
def caller(request):
    """How the upload is stored: on its own (autocommit, as the API stores it) or inside a
    caller's transaction (as a batch stores its documents), whose commit runs the callbacks."""
    if request.param == "alone":
        return request.param, nullcontext
    capture = request.getfixturevalue("django_capture_on_commit_callbacks")

    @contextmanager
    def in_a_transaction():
        with capture(execute=True), transaction.atomic():
            yield

    return request.param, in_a_transaction


def _stored_files(settings) -> set[str]:
    return {str(p) for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}


def test_an_upload_commits_its_row_then_sends_one_ingest_message(caller, broker):
    mode, transaction_around = caller
    owner = UserFactory(roles=["clerk"])

    with transaction_around():
        document, created = document_create(owner=owner, upload=Upload("a.png", png_bytes()))
        # Alone, the row is committed and the message sent; in a transaction, both wait for it.
        assert len(broker.sent) == (1 if mode == "alone" else 0)

    assert created
    assert Document.objects.filter(pk=document.pk).exists()
    assert broker.sent == [("hdr.document_ingest", [str(document.pk)])]
    # Fire and forget: the pipeline's state is in the database, nobody waits for a result.
    assert broker.options == [{"ignore_result": True}]


@pytest.mark.django_db(transaction=True)
def test_an_upload_aborted_while_its_message_is_sent_keeps_its_row_and_file(broker, monkeypatch):
    # gunicorn aborts a worker past its timeout with SystemExit, wherever the worker is: here,
    # after the row committed. The reaper will send the queued document on; its file must stay.
    def abort(name, args, **options):
        raise SystemExit(1)

    monkeypatch.setattr(broker, "send_task", abort)

    with pytest.raises(SystemExit):
        document_create(owner=UserFactory(roles=["clerk"]), upload=Upload("a.png", png_bytes()))

    document = Document.objects.get()
    assert document.status == DocumentStatus.QUEUED
    assert document.file.storage.exists(document.file.name)


@pytest.mark.django_db(transaction=True)
def test_a_retry_that_races_the_first_upload_gets_the_first_document(broker, settings):
    # The retry's lookup finds nothing, then the first upload's row is committed just before the
    # retry's INSERT: the unique key refuses it, its file is removed and it answers with the
    # first document, sending nothing.
    owner = UserFactory(roles=["clerk"])
    landed = []

    def first_lands(sender, instance, **kwargs):
        pre_save.disconnect(first_lands, sender=Document)  # only before the retry's own INSERT
        landed.append(DocumentFactory(owner=owner, idempotency_key="k-1"))

    files_before = _stored_files(settings)
    pre_save.connect(first_lands, sender=Document)
    try:
        document, created = document_create(
            owner=owner, upload=Upload("a.png", png_bytes()), idempotency_key="k-1"
        )
    finally:
        pre_save.disconnect(first_lands, sender=Document)

    first = landed[0]
    assert (document.pk, created) == (first.pk, False)
    assert Document.objects.count() == 1
    assert broker.sent == []
    assert _stored_files(settings) - files_before == {first.file.path}


def test_detail_shows_pages_fields_and_characters(api, clerk):
    field = FieldFactory(page=PageFactory(document=DocumentFactory(owner=clerk)), name="account")

    response = api.get(f"/api/v1/documents/{field.page.document_id}/")

    assert response.status_code == 200
    page = response.json()["pages"][0]
    assert (page["width"], page["height"]) == (80, 60)
    got = page["fields"][0]
    assert got["name"] == "account" and got["value"] == "42" and got["kind"] == "digits"
    assert got["characters"][0] == {"char": "4", "confidence": 0.99, "alternatives": [["9", 0.01]]}


@pytest.mark.parametrize("filled", [False, True], ids=["fresh", "finished_in_a_batch"])
def test_the_written_summary_matches_what_its_declared_fields_give(clerk, filled):
    from datetime import UTC, datetime

    from rest_framework import serializers
    from rest_framework.test import APIRequestFactory

    from recognition.api.serializers import DocumentDetailSerializer, DocumentSummarySerializer
    from recognition.models import Template

    document = DocumentFactory(owner=clerk, status=DocumentStatus.QUEUED)
    if filled:
        document.batch = Batch.objects.create(owner=clerk)
        document.template = Template.objects.create(name="form")
        document.status, document.error = DocumentStatus.FAILED, "no page could be read"
        document.page_count = 2
        document.finished_at = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
        document.save()
        FieldFactory(page=PageFactory(document=document))
    context = {"request": APIRequestFactory().get("/")}

    for serializer_class in (DocumentSummarySerializer, DocumentDetailSerializer):
        serializer = serializer_class(document, context=context)
        generic = serializers.ModelSerializer.to_representation(serializer, document)
        written = serializer.data
        assert list(written) == serializer_class.Meta.fields
        assert written == generic
        assert written["url"].endswith(f"/api/v1/documents/{document.pk}/")


def test_a_clerk_never_sees_another_clerks_document(api):
    theirs = DocumentFactory(owner=UserFactory(roles=["clerk"]))

    assert api.get(f"/api/v1/documents/{theirs.pk}/").status_code == 404
    assert api.get(f"/api/v1/documents/{theirs.pk}/file").status_code == 404
    assert api.get(f"/api/v1/documents/{theirs.pk}/export?format=csv").status_code == 404
    assert api.get("/api/v1/documents/").json()["count"] == 0


def test_reviewers_see_every_document(db):
    DocumentFactory.create_batch(3)
    api = APIClient()
    api.force_authenticate(UserFactory(roles=["reviewer"]))

    assert api.get("/api/v1/documents/").json()["count"] == 3


def test_list_filters_by_status_and_rejects_unknown_status(api, clerk):
    DocumentFactory(owner=clerk, status=DocumentStatus.FAILED, error="corrupt")
    DocumentFactory(owner=clerk, status=DocumentStatus.DONE)

    failed = api.get("/api/v1/documents/?status=failed").json()
    bad = api.get("/api/v1/documents/?status=lost")

    assert failed["count"] == 1 and failed["results"][0]["error"] == "corrupt"
    assert bad.status_code == 400


def test_list_filters_by_batch_and_its_pages_hold_every_document_once(api, clerk, monkeypatch):
    """The documents of an archive are created in the same instant; the pages of the list still
    neither repeat nor skip one of them."""
    batch = Batch.objects.create(owner=clerk)
    in_batch = {str(DocumentFactory(owner=clerk, batch=batch).pk) for _ in range(7)}
    DocumentFactory(owner=clerk)  # outside the batch
    Document.objects.filter(batch=batch).update(created_at=timezone.now())
    monkeypatch.setattr(PageNumberPagination, "page_size", 3)

    seen, pages, url = [], 0, f"/api/v1/documents/?batch={batch.pk}"
    while url:
        page = api.get(url).json()
        seen += [document["id"] for document in page["results"]]
        pages += 1
        url = page["next"]

    assert sorted(seen) == sorted(in_batch)
    assert page["count"] == 7
    assert pages == 3


@pytest.mark.parametrize("export_format", ["csv", "json"])
def test_export_per_document(api, clerk, export_format):
    document = DocumentFactory(owner=clerk)
    FieldFactory(page=PageFactory(document=document), value="123", name="amount")

    response = api.get(f"/api/v1/documents/{document.pk}/export?format={export_format}")

    assert response.status_code == 200
    assert f'filename="document-{document.pk}.{export_format}"' in response["Content-Disposition"]
    text = response.content.decode()
    if export_format == "csv":
        header, row = text.strip().splitlines()
        assert header.startswith("document_id,document_name,page,field_index,field_name")
        assert ",amount,digits,123," in row
    else:
        assert response.json()["fields"][0]["value"] == "123"


def test_export_refuses_an_unknown_format(api, clerk):
    document = DocumentFactory(owner=clerk)

    response = api.get(f"/api/v1/documents/{document.pk}/export?format=xlsx")

    assert response.status_code == 400
    assert "format must be one of csv, json" in response.json()["error"]["message"]


def test_original_file_is_served_to_its_owner(api, clerk):
    document = DocumentFactory(owner=clerk)

    response = api.get(f"/api/v1/documents/{document.pk}/file")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == png_bytes()


def test_batch_of_files_and_a_zip_becomes_one_document_per_scan(api, settings):
    settings.HDR_WEBHOOK_ALLOW_PRIVATE = True
    archive = _zip({"a.png": png_bytes(), "sub/b.pdf": PDF_BYTES})

    response = api.post(
        "/api/v1/batches/",
        {
            "files": [_upload("c.png", png_bytes()), _upload("scans.zip", archive)],
            "callback_url": "http://127.0.0.1:9/hook",
        },
        format="multipart",
    )

    assert response.status_code == 202
    body = response.json()
    assert body["progress"]["total"] == 3 and body["progress"]["by_status"]["queued"] == 3
    names = sorted(Document.objects.values_list("original_name", flat=True))
    assert names == ["c.png", "scans.zip:a.png", "scans.zip:sub/b.pdf"]
    progress = api.get(f"/api/v1/batches/{body['id']}/").json()["progress"]
    assert progress["complete"] is False


@pytest.mark.parametrize(
    "callback_url",
    [
        "http://127.0.0.1:8000/hook",
        "http://10.1.2.3/hook",
        "http://[::1]/hook",
        "ftp://example.com/x",
    ],
)
def test_callback_urls_to_private_addresses_are_refused(api, callback_url):
    response = api.post(
        "/api/v1/batches/",
        {"files": [_upload("a.png", png_bytes())], "callback_url": callback_url},
        format="multipart",
    )

    assert response.status_code == 400
    assert "callback_url" in response.json()["error"]["message"]
    assert not Batch.objects.exists() and not Document.objects.exists()


@pytest.mark.parametrize(
    ("members", "compression", "message"),
    [
        (
            {"../../etc/evil.png": png_bytes(), "notes.txt": b"text"},
            zipfile.ZIP_STORED,
            "unsupported file type",
        ),
        ({"inner.zip": _zip({"a.png": png_bytes()})}, zipfile.ZIP_STORED, "nested ZIP"),
        (
            {"bomb.png": b"\x89PNG\r\n\x1a\n" + bytes(5_000_000)},
            zipfile.ZIP_DEFLATED,
            "compression ratio",
        ),
        ({}, zipfile.ZIP_STORED, "holds no files"),
    ],
)
def test_bad_zip_archives_are_refused_and_nothing_is_stored(api, members, compression, message):
    response = api.post(
        "/api/v1/batches/",
        {"files": [_upload("scans.zip", _zip(members, compression))]},
        format="multipart",
    )

    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    assert not Document.objects.exists() and not Batch.objects.exists()


def test_zip_slip_names_are_display_only(api):
    response = api.post(
        "/api/v1/batches/",
        {"files": [_upload("scans.zip", _zip({"../../../tmp/x.png": png_bytes()}))]},
        format="multipart",
    )

    assert response.status_code == 202
    document = Document.objects.get()
    assert document.original_name == "scans.zip:tmp/x.png"
    assert ".." not in document.file.name


def test_zip_members_in_folders_keep_their_folders_apart(api):
    archive = _zip({"north/0001.png": png_bytes(), "south/0001.png": png_bytes()})

    response = api.post(
        "/api/v1/batches/", {"files": [_upload("scans.zip", archive)]}, format="multipart"
    )

    assert response.status_code == 202
    names = sorted(Document.objects.values_list("original_name", flat=True))
    assert names == ["scans.zip:north/0001.png", "scans.zip:south/0001.png"]
    document = Document.objects.get(original_name="scans.zip:north/0001.png")
    download = api.get(f"/api/v1/documents/{document.pk}/file")
    assert 'filename="0001.png"' in download["Content-Disposition"]


def test_files_an_operating_system_adds_to_a_zip_are_skipped_not_refused(api):
    archive = _zip(
        {
            "scans/a.png": png_bytes(),
            "__MACOSX/scans/._a.png": b"\x00\x05\x16\x07AppleDouble",
            "scans/.DS_Store": b"\x00\x00\x00\x01Bud1",
            "scans/Thumbs.db": b"\xd0\xcf\x11\xe0",
            "._b.png": b"\x00\x05\x16\x07",
        }
    )

    response = api.post(
        "/api/v1/batches/", {"files": [_upload("scans.zip", archive)]}, format="multipart"
    )

    assert response.status_code == 202, response.json()
    assert list(Document.objects.values_list("original_name", flat=True)) == [
        "scans.zip:scans/a.png"
    ]


def test_a_zip_of_system_files_only_is_refused_as_empty(api):
    archive = _zip({"__MACOSX/._a.png": b"\x00\x05\x16\x07", ".DS_Store": b"Bud1"})

    response = api.post(
        "/api/v1/batches/", {"files": [_upload("scans.zip", archive)]}, format="multipart"
    )

    assert response.status_code == 400
    assert "holds no files" in response.json()["error"]["message"]
    assert not Document.objects.exists()


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("a.png", "a.png"),
        ("north/0001.png", "north/0001.png"),
        ("../../etc/./x.png", "etc/x.png"),
        ("/abs/x.png", "abs/x.png"),
        ("C:\\Users\\clerk\\x.png", "Users/clerk/x.png"),
        ("bad\nname\x00.png", "badname.png"),
        ("..", "upload"),
        ("d/" * 200 + "end.png", "…" + ("d/" * 200 + "end.png")[-254:]),
    ],
)
def test_display_names_keep_folders_but_never_climb_and_fit_the_column(given, shown):
    assert _display_name(given) == shown
    assert len(_display_name(given)) <= 255


def test_anonymous_callers_are_refused(db):
    response = APIClient().post("/api/v1/documents/", {"file": _upload("a.png", png_bytes())})

    assert response.status_code == 401
    assert not Document.objects.exists()
