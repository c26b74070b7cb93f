"""The pipeline steps turn an uploaded synthetic form into read, routed fields, idempotently."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forms_ocr.synth import digits_from_npz, synth_page
from recognition.inference import recognizers_active
from recognition.models import Document, DocumentStatus, Field, FieldStatus, Page
from recognition.services import pipeline
from recognition.services.documents import Upload, document_create
from recognition.services.model_versions import builtin_default
from tests.factories import FieldFactory, PageFactory, UserFactory
from tests.support.scans import encrypted_pdf_bytes, pdf_bytes, tiff_bytes

DIGITS = Path(__file__).resolve().parent.parent / "ml" / "fixtures" / "mnist_test_300.npz"


def synthetic_form_png(seed: int = 3) -> tuple[bytes, object]:
    page = synth_page("form", digits_from_npz(DIGITS), seed=seed, degradations=())
    return cv2.imencode(".png", page.image)[1].tobytes(), page.truth


def _run_pipeline(document_id) -> None:
    page_ids = pipeline.document_ingest(document_id=document_id)
    # Ingest segments a one-page document itself; the pages of a longer one wait in the queue.
    for page in Page.objects.filter(pk__in=page_ids, segmented_at__isnull=True):
        pipeline.page_segment(page_id=page.pk)
    for page_id in page_ids:
        pipeline.page_recognize(page_id=page_id, recognizers=recognizers_active())


def _queued(monkeypatch) -> list[str]:
    """The names of the tasks the pipeline steps queue from now on (instead of sending them)."""
    names: list[str] = []
    monkeypatch.setattr(pipeline, "task_send_on_commit", lambda name, *ids: names.append(name))
    return names


def test_a_one_page_document_is_segmented_by_ingest_and_only_recognition_is_queued(db, monkeypatch):
    queued = _queued(monkeypatch)
    data, _ = synthetic_form_png()
    document, _ = document_create(owner=UserFactory(), upload=Upload("form.png", data))

    [page_id] = pipeline.document_ingest(document_id=document.pk)

    page = Page.objects.get(pk=page_id)
    assert page.segmented_at is not None
    assert page.fields.filter(kind="digits").exists()
    assert queued == ["hdr.page_recognize"]


def test_a_page_stores_all_its_fields_and_their_crops_in_one_insert(db, monkeypatch):
    _queued(monkeypatch)
    data, _ = synthetic_form_png()
    document, _ = document_create(owner=UserFactory(), upload=Upload("form.png", data))

    with CaptureQueriesContext(connection) as queries:
        [page_id] = pipeline.document_ingest(document_id=document.pk)

    field_table = Field._meta.db_table
    inserts = [q for q in queries if q["sql"].startswith(f'INSERT INTO "{field_table}"')]
    fields = list(Field.objects.filter(page_id=page_id).order_by("index"))
    assert len(fields) > 10 and len(inserts) == 1
    assert [f.index for f in fields] == list(range(len(fields)))
    assert all(f.crop and f.crop.storage.exists(f.crop.name) for f in fields)


def test_the_pages_of_a_longer_document_are_queued_for_segmentation(db, monkeypatch):
    queued = _queued(monkeypatch)
    page = synth_page("form", digits_from_npz(DIGITS), seed=3, degradations=()).image
    ok, tiff = cv2.imencodemulti(".tiff", [page, page])
    assert ok
    document, _ = document_create(owner=UserFactory(), upload=Upload("two.tiff", tiff.tobytes()))

    page_ids = pipeline.document_ingest(document_id=document.pk)

    assert len(page_ids) == 2
    assert not Field.objects.filter(page__document=document).exists()
    assert queued == ["hdr.page_segment", "hdr.page_segment"]


@pytest.mark.slow
def test_a_form_is_segmented_read_and_routed(db):
    data, truth = synthetic_form_png()
    document, _ = document_create(owner=UserFactory(), upload=Upload("form.png", data))

    _run_pipeline(document.pk)

    document.refresh_from_db()
    assert document.status in (DocumentStatus.DONE, DocumentStatus.NEEDS_REVIEW)
    assert document.page_count == 1 and document.finished_at is not None
    fields = list(Field.objects.filter(page__document=document).order_by("index"))
    truth_combs = [f for f in truth.fields if f.kind == "digits"]
    combs = [f for f in fields if f.kind == "digits"]
    assert len(combs) >= 0.8 * len(truth_combs)
    assert all(f.status in (FieldStatus.ACCEPTED, FieldStatus.NEEDS_REVIEW) for f in fields)
    default = builtin_default("digits")[1]["version"]
    assert all(f.model_version.version == default for f in combs)
    # Fields accepted without review were read right: compare with the truth at the same place.
    by_place = {tuple(f.bbox): f.value.replace(" ", "") for f in truth_combs}
    accepted = [f for f in combs if f.status == FieldStatus.ACCEPTED]
    right = 0
    for field in accepted:
        nearest = min(by_place, key=lambda b: abs(b[0] - field.bbox[0]) + abs(b[1] - field.bbox[1]))
        right += by_place[nearest] == field.value
    assert right >= 0.8 * len(accepted)


@pytest.mark.slow
def test_running_every_step_twice_leaves_the_same_rows(db):
    data, _ = synthetic_form_png(seed=4)
    document, _ = document_create(owner=UserFactory(), upload=Upload("form.png", data))
    page_ids = pipeline.document_ingest(document_id=document.pk)
    pipeline.page_segment(page_id=page_ids[0])
    first = list(Field.objects.order_by("index").values_list("index", "kind", "bbox"))

    assert pipeline.document_ingest(document_id=document.pk) == page_ids
    pipeline.page_segment(page_id=page_ids[0])
    pipeline.page_recognize(page_id=page_ids[0], recognizers=recognizers_active())
    pipeline.page_recognize(page_id=page_ids[0], recognizers=recognizers_active())

    assert list(Field.objects.order_by("index").values_list("index", "kind", "bbox")) == first
    assert Document.objects.get().pages.count() == 1


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"%PDF-1.4 this is not really a pdf", "damaged"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "damaged"),
        (encrypted_pdf_bytes(), "the pdf is password-protected"),
        (pdf_bytes(3), "the pdf has 3 pages; at most 2 are allowed"),
        (tiff_bytes(3), "the tiff file has 3 pages; at most 2 are allowed"),
    ],
)
def test_unreadable_files_fail_with_the_reason(db, settings, data, reason):
    settings.HDR_UPLOAD_MAX_PAGES = 2
    document, _ = document_create(owner=UserFactory(), upload=Upload("bad", data))

    assert pipeline.document_ingest(document_id=document.pk) == []

    document.refresh_from_db()
    assert document.status == DocumentStatus.FAILED
    assert reason in document.error.lower()


def test_an_empty_page_is_done_with_no_fields(db):
    blank = cv2.imencode(".png", np.full((1100, 850), 250, np.uint8))[1].tobytes()
    document, _ = document_create(owner=UserFactory(), upload=Upload("blank.png", blank))

    _run_pipeline(document.pk)

    document.refresh_from_db()
    assert document.status == DocumentStatus.DONE
    assert not Field.objects.exists()


@pytest.mark.slow
def test_string_fields_are_read_by_the_active_string_model(db, tmp_path):
    """With a string model active, string fields are read by it and routed on its threshold."""
    import json

    from ml.models import create_model
    from ml.strings.export import string_onnx_export
    from recognition.models import FieldKind, ModelKind, ModelVersion
    from recognition.services.model_versions import model_version_activate

    onnx_path = tmp_path / "strings-test.onnx"
    string_onnx_export(create_model("string_crnn").eval(), onnx_path)
    onnx_path.with_suffix(".json").write_text(
        json.dumps({"version": "strings-test", "accept_threshold": 0.5})
    )
    version = ModelVersion.objects.create(
        kind=ModelKind.STRINGS,
        version="strings-test",
        onnx_path=str(onnx_path),
        accept_threshold=0.5,
    )
    model_version_activate(model_version=version)
    data, _ = synthetic_form_png(seed=6)
    document, _ = document_create(owner=UserFactory(), upload=Upload("form.png", data))

    _run_pipeline(document.pk)

    strings = Field.objects.filter(page__document=document, kind=FieldKind.STRING)
    assert strings.exists()
    for field in strings:
        assert field.model_version == version
        assert len(field.characters) == len(field.value)
        assert field.status in (FieldStatus.ACCEPTED, FieldStatus.NEEDS_REVIEW)


@pytest.mark.slow
def test_a_document_with_a_template_gets_its_names_rules_and_thresholds(db):
    """Fields found where the template has them take its names; a field whose rule the reading
    breaks goes to review with the reason; a threshold override of 0 accepts any reading."""
    from forms_ocr import segment_page
    from recognition.models import Template, TemplateField

    data, _ = synthetic_form_png(seed=7)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    found = segment_page(image, index=0).fields
    combs = [f for f in found if f.kind == "digits"]
    assert len(combs) >= 2
    height, width = image.shape
    template = Template.objects.create(name="synthetic form")

    def relative(bbox):
        x, y, w, h = bbox
        return [x / width, y / height, w / width, h / height]

    TemplateField.objects.create(
        template=template, name="strict", kind="digits", bbox=relative(combs[0].bbox),
        rule={"length": 40},  # no comb on the form has 40 boxes
    )  # fmt: skip
    TemplateField.objects.create(
        template=template, name="lenient", kind="digits", bbox=relative(combs[1].bbox),
        accept_threshold=0.0,
    )  # fmt: skip
    document, _ = document_create(
        owner=UserFactory(), upload=Upload("form.png", data), template=template
    )

    _run_pipeline(document.pk)

    fields = {f.name: f for f in Field.objects.filter(page__document=document).exclude(name="")}
    assert set(fields) == {"strict", "lenient"}
    assert fields["strict"].status == FieldStatus.NEEDS_REVIEW
    assert "the reading has " in fields["strict"].review_reason
    assert "expected 40" in fields["strict"].review_reason
    # A threshold of 0 accepts any reading whose boxes all hold digits (none is "not a digit").
    assert fields["lenient"].status == FieldStatus.ACCEPTED
    assert fields["strict"].machine_value == fields["strict"].value
    document.refresh_from_db()
    assert document.status == DocumentStatus.NEEDS_REVIEW


def test_string_marks_are_scored_by_the_digit_model_only_when_configured(db, settings):
    from recognition import inference
    from recognition.models import ModelVersion
    from recognition.services.model_versions import model_version_activate

    recognizers_active()  # registers the committed models
    model_version_activate(model_version=ModelVersion.objects.get(version="digits-cnn-v4"))
    settings.HDR_STRING_REJECT = False
    inference._loaded.clear()
    plain = recognizers_active()
    settings.HDR_STRING_REJECT = True
    scored = recognizers_active()  # a reject class and a measured string rule: strings get it

    assert plain.strings.recognizer.digit_recognizer is None
    assert scored.strings.recognizer.digit_recognizer is scored.digits.recognizer
    assert scored.strings.recognizer.reject_threshold == pytest.approx(
        scored.digits.recognizer.card["string_reject"]["field_threshold"]
    )
    inference._loaded.clear()


def test_a_digit_model_without_a_measured_string_rule_leaves_string_marks_alone(db, settings):
    from recognition import inference
    from recognition.models import ModelVersion
    from recognition.services.model_versions import model_version_activate

    settings.HDR_STRING_REJECT = True
    recognizers_active()  # registers the committed models
    # v3 has a reject class, but no rule was measured with it for string fields.
    model_version_activate(model_version=ModelVersion.objects.get(version="digits-cnn-v3"))
    inference._loaded.clear()

    active = recognizers_active()

    assert active.digits.recognizer.has_reject_class
    assert active.strings.recognizer.digit_recognizer is None
    inference._loaded.clear()


def test_fields_write_stores_the_reading_columns_in_one_statement_and_leaves_the_rest(db):
    """Recognition writes a page's readings with one statement; the values read back as
    `save()` would have stored them, `updated_at` moves on, a column it was not asked to write
    keeps what another process put there meanwhile, and a field deleted meanwhile is skipped."""
    page = PageFactory()
    fields = [FieldFactory(page=page, index=i) for i in range(3)]
    before = Field.objects.get(pk=fields[0].pk).updated_at
    reviewer = UserFactory()
    Field.objects.filter(pk=fields[0].pk).update(claimed_by=reviewer)  # a claim taken meanwhile
    Field.objects.filter(pk=fields[2].pk).delete()
    for i, field in enumerate(fields):
        field.value = field.machine_value = f"70{i}"
        field.characters = [{"char": "7", "confidence": 0.5, "alternatives": [["1", 0.25]]}]
        field.n_best = [[f"70{i}", 0.5], ["100", 0.25]]
        field.confidence = 0.125
        field.status = FieldStatus.NEEDS_REVIEW
        field.review_reason = "low confidence"
        field.sampled = True

    with CaptureQueriesContext(connection) as queries:
        pipeline.fields_write(fields, pipeline.READING_COLUMNS)

    assert len(queries) == 1
    stored = {f.pk: f for f in Field.objects.filter(page=page)}
    assert set(stored) == {fields[0].pk, fields[1].pk}
    for i, field in enumerate(fields[:2]):
        row = stored[field.pk]
        assert (row.value, row.machine_value, row.confidence) == (f"70{i}", f"70{i}", 0.125)
        assert row.characters == field.characters and row.n_best == field.n_best
        assert (row.status, row.review_reason, row.sampled) == (
            FieldStatus.NEEDS_REVIEW,
            "low confidence",
            True,
        )
        assert row.updated_at > before
    assert stored[fields[0].pk].claimed_by == reviewer
