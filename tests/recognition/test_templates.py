"""Templates: create and edit through the API with the permission rules, versions, export and
import, try it, and scans registered to their template in the pipeline (or refused)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from forms_ocr.synth import SAMPLE_DIGITS, digits_from_npz, synth_page
from recognition.inference import recognizers_active
from recognition.models import Document, DocumentStatus, Field, FieldStatus, Template
from recognition.roles import Role
from recognition.services import pipeline
from recognition.services.documents import Upload, document_create
from recognition.services.templates import template_create, template_export
from tests.factories import DocumentFactory, UserFactory, api_for, png_bytes

FIELDS = [
    {"name": "account", "kind": "digits", "bbox": [0.1, 0.1, 0.5, 0.1], "box_count": 6,
     "rule": {"length": 6, "check_digit": "luhn"}, "accept_threshold": 0.95, "required": True},
    {"name": "amount", "kind": "string", "bbox": [0.1, 0.5, 0.6, 0.1]},
]  # fmt: skip


@pytest.fixture
def admin(db):
    return UserFactory(roles=[Role.ADMIN])


def _png_upload(name="blank.png", data=None):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data or png_bytes(200, 300), content_type="image/png")


def test_an_admin_creates_a_template_with_fields_and_everyone_else_is_refused(admin):
    body = {"name": "account form", "reference": _png_upload(), "fields": json.dumps(FIELDS)}
    clerk, reviewer = UserFactory(roles=[Role.CLERK]), UserFactory(roles=[Role.REVIEWER])

    for user in (clerk, reviewer):
        refused = api_for(user).post("/api/v1/templates/", {**body, "reference": _png_upload()})
        assert refused.status_code == 403
    anonymous = api_for(None).post("/api/v1/templates/", {**body, "reference": _png_upload()})
    assert anonymous.status_code == 401
    created = api_for(admin).post("/api/v1/templates/", body)

    assert created.status_code == 201, created.json()
    template = created.json()
    assert (template["name"], template["version"], template["is_live"]) == (
        "account form",
        1,
        False,
    )
    assert (template["reference_width"], template["reference_height"]) == (300, 200)
    account = template["fields"][0]
    assert account["rule"] == {"length": 6, "check_digit": "luhn"}
    assert account["accept_threshold"] == 0.95 and account["required"] is True
    assert api_for(admin).get(template["reference_url"]).status_code == 200
    # A draft is not offered to clerks, nor accepted on upload.
    assert api_for(clerk).get("/api/v1/templates/").json() == []
    refused = api_for(clerk).post(
        "/api/v1/documents/", {"file": _png_upload("scan.png"), "template": template["id"]}
    )
    assert refused.status_code == 400 and "draft" in refused.json()["error"]["message"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ([{"name": "a", "kind": "digits", "bbox": [0.1, 0.1, 0.2, 0.1]}], "box_count"),
        ([{"name": "a", "kind": "string", "bbox": [0.9, 0.1, 0.2, 0.1]}], "on the page"),
        ([{"name": "a", "kind": "string", "bbox": [0, 0, 0.1, 0.1], "rule": {"x": 1}}], "unknown"),
        ([{"name": "a", "kind": "boxes", "bbox": [0, 0, 0.1, 0.1]}], "kind must be"),
        ([{"name": "a", "kind": "string", "bbox": [0, 0, 0.1, 0.1]}] * 2, "two fields"),
        (
            [{"name": "a", "kind": "string", "bbox": [0, 0, 0.1, 0.1], "accept_threshold": 2}],
            "0 to 1",
        ),
    ],
)
def test_bad_field_definitions_are_refused_with_the_reason_and_nothing_stored(
    admin, fields, message
):
    response = api_for(admin).post(
        "/api/v1/templates/",
        {"name": "bad", "reference": _png_upload(), "fields": json.dumps(fields)},
    )

    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    assert not Template.objects.exists()


def test_editing_a_used_template_makes_a_new_version_and_old_documents_keep_theirs(admin):
    template = template_create(
        name="form", reference_data=png_bytes(200, 300), fields=FIELDS, is_live=True
    )
    client = api_for(admin)

    # Unused: edited in place.
    renamed = client.patch(
        f"/api/v1/templates/{template.pk}/", {"description": "v1 notes"}, format="json"
    )
    assert renamed.json()["id"] == template.pk and renamed.json()["version"] == 1
    document = DocumentFactory(template=template)

    edited = client.patch(
        f"/api/v1/templates/{template.pk}/",
        {"fields": [{**FIELDS[1], "name": "total"}]},
        format="json",
    )

    assert edited.status_code == 200
    new = edited.json()
    assert new["id"] != template.pk and new["version"] == 2 and new["is_current"]
    assert [f["name"] for f in new["fields"]] == ["total"]
    document.refresh_from_db()
    template.refresh_from_db()
    assert document.template_id == template.pk and not template.is_current
    assert [f.name for f in template.fields.all()] == ["account", "amount"]
    stale = client.patch(f"/api/v1/templates/{template.pk}/", {"kind": "cheque"}, format="json")
    assert stale.status_code == 409


def test_a_template_moves_between_installations_as_json(admin):
    template = template_create(name="form", reference_data=png_bytes(200, 300), fields=FIELDS)
    exported = api_for(admin).get(f"/api/v1/templates/{template.pk}/export").json()
    Template.objects.all().delete()

    imported = api_for(admin).post("/api/v1/templates/import", exported, format="json")

    assert imported.status_code == 201
    copy = Template.objects.get(pk=imported.json()["id"])
    assert template_export(copy)["fields"] == exported["fields"]
    assert template_export(copy)["reference_sha256"] == exported["reference_sha256"]
    tampered = {**exported, "reference_sha256": "0" * 64}
    refused = api_for(admin).post("/api/v1/templates/import", tampered, format="json")
    assert refused.status_code == 400 and "checksum" in refused.json()["error"]["message"]


# --- registration: generated forms and cheques ---------------------------------------------


def _page(kind: str, *, hand_seed: int | None, blank: bool = False, seed: int = 11, **kwargs):
    digits = digits_from_npz(SAMPLE_DIGITS)
    return synth_page(
        kind, digits, seed=seed, hand_seed=hand_seed, blank=blank, dpi=150, degradations=(),
        **kwargs,
    )  # fmt: skip


def _png(image: np.ndarray) -> bytes:
    return cv2.imencode(".png", image)[1].tobytes()


def _transformed(image: np.ndarray, *, angle: float, scale: float, shift: tuple[int, int]):
    h, w = image.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
    matrix[:, 2] += shift
    canvas = (int(w * 1.15), int(h * 1.15))
    return cv2.warpAffine(image, matrix, canvas, borderValue=255)


@pytest.fixture
def form_template(db):
    blank = _page("form", hand_seed=1, blank=True)
    template = template_create(
        name="generated form", reference_data=_png(blank.image), is_live=True
    )
    return template, blank


@pytest.mark.slow
def test_a_rotated_shifted_rescaled_scan_is_read_at_the_templates_places(form_template):
    template, _ = form_template
    filled = _page("form", hand_seed=2)
    scan = _transformed(filled.image, angle=7, scale=0.93, shift=(40, 25))
    document, _ = document_create(
        owner=UserFactory(), upload=Upload("scan.png", _png(scan)), template=template
    )

    for page_id in pipeline.document_ingest(document_id=document.pk):
        pipeline.page_segment(page_id=page_id)
        pipeline.page_recognize(page_id=page_id, recognizers=recognizers_active())

    document.refresh_from_db()
    assert document.status in (DocumentStatus.DONE, DocumentStatus.NEEDS_REVIEW), document.error
    fields = list(Field.objects.filter(page__document=document).order_by("index"))
    assert [f.name for f in fields] == [f.name for f in template.fields.order_by("pk")]
    # Every field was cut at its template place, mapped into the scan's frame.
    h, w = filled.image.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), 7, 0.93)
    matrix[:, 2] += (40, 25)
    for field, template_field in zip(fields, template.fields.order_by("pk"), strict=True):
        rx, ry, rw, rh = template_field.bbox
        expected = matrix @ np.array(
            [(rx + rw / 2) * template.reference_width, (ry + rh / 2) * template.reference_height, 1]
        )
        x, y, fw, fh = field.bbox
        assert np.linalg.norm(expected - (x + fw / 2, y + fh / 2)) < 4, field.name
    truth = list(filled.truth.fields)
    accepted = [f for f in fields if f.status == FieldStatus.ACCEPTED and f.kind == "digits"]
    truth_values = {t.value.replace(" ", "") for t in truth if t.kind == "digits"}
    assert all(f.value in truth_values for f in accepted)


@pytest.mark.slow
def test_a_scan_of_another_form_fails_with_the_reason_or_falls_back_when_asked(form_template):
    template, _ = form_template
    other = _page("form", hand_seed=3, seed=999)
    owner = UserFactory()
    strict, _ = document_create(
        owner=owner, upload=Upload("other.png", _png(other.image)), template=template
    )
    lenient, _ = document_create(
        owner=owner,
        upload=Upload("other2.png", _png(other.image)),
        template=template,
        template_fallback=True,
    )

    for document in (strict, lenient):
        for page_id in pipeline.document_ingest(document_id=document.pk):
            pipeline.page_segment(page_id=page_id)
            pipeline.page_recognize(page_id=page_id, recognizers=recognizers_active())

    strict.refresh_from_db()
    lenient.refresh_from_db()
    assert strict.status == DocumentStatus.FAILED
    assert "does not match the template generated form v1" in strict.error
    assert not Field.objects.filter(page__document=strict).exists()
    assert lenient.status in (DocumentStatus.DONE, DocumentStatus.NEEDS_REVIEW)
    assert "read automatically" in lenient.pages.get().quality["template"]
    assert Field.objects.filter(page__document=lenient).exists()


@pytest.mark.slow
def test_try_it_reads_a_filled_sample_field_by_field_and_stores_nothing(form_template, admin):
    template, _ = form_template
    filled = _page("form", hand_seed=4)

    response = api_for(admin).post(
        f"/api/v1/templates/{template.pk}/try", {"file": _png_upload("s.png", _png(filled.image))}
    )

    assert response.status_code == 200, response.json()
    result = response.json()
    assert [f["name"] for f in result["fields"]] == [f.name for f in template.fields.order_by("pk")]
    assert all(f["status"] in ("accepted", "needs_review") for f in result["fields"])
    assert not Document.objects.exists() and not Field.objects.exists()
    other = _page("form", hand_seed=4, seed=998)
    refused = api_for(admin).post(
        f"/api/v1/templates/{template.pk}/try", {"file": _png_upload("o.png", _png(other.image))}
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["message"].startswith("the sample does not match the template")


@pytest.mark.slow
def test_the_built_in_cheque_template_reads_generated_cheques(db):
    from recognition.services.builtin_templates import cheque_page, cheque_template_ensure

    template, created = cheque_template_ensure()
    assert created and cheque_template_ensure() == (template, False)
    page = cheque_page(hand_seed=5, degradations=("rotation", "noise"))
    document, _ = document_create(
        owner=UserFactory(), upload=Upload("cheque.png", _png(page.image)), template=template
    )

    for page_id in pipeline.document_ingest(document_id=document.pk):
        pipeline.page_segment(page_id=page_id)
        pipeline.page_recognize(page_id=page_id, recognizers=recognizers_active())

    document.refresh_from_db()
    assert document.status in (DocumentStatus.DONE, DocumentStatus.NEEDS_REVIEW), document.error
    fields = {f.name: f for f in Field.objects.filter(page__document=document)}
    assert set(fields) == {"date", "amount", "account"}
    truth = {t.kind + str(i): t for i, t in enumerate(page.truth.fields)}
    combs = sorted((t for t in truth.values() if t.kind == "digits"), key=lambda t: t.bbox[1])
    for name, expected in zip(["date", "account"], combs, strict=True):
        x, y, w, h = fields[name].bbox
        tx, ty, tw, th = expected.bbox
        # The template's box is where the generator drew this comb on the scan.
        assert abs((x + w / 2) - (tx + tw / 2)) < 0.1 * tw and abs((y + h / 2) - (ty + th / 2)) < th
        assert len(fields[name].boxes) == len(expected.boxes)
        if fields[name].status == FieldStatus.ACCEPTED:
            assert fields[name].value == expected.value.replace(" ", "")
