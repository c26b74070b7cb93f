"""The sweep of stored files that no row names: what it takes, what it never takes."""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import timedelta
from pathlib import Path

import cv2
import pytest
from django.core.management import CommandError, call_command

from forms_ocr.synth import SAMPLE_DIGITS, digits_from_npz, synth_page
from recognition.models import Document, Field
from recognition.services import pipeline
from recognition.services.documents import Upload, document_create
from recognition.services.maintenance import media_orphans_sweep
from tests.factories import UserFactory

TWO_DAYS = 2 * 24 * 3600


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _read_document() -> Document:
    """A form scanned, read and segmented: its file, page crops and one crop file per field."""
    image = synth_page("form", digits_from_npz(SAMPLE_DIGITS), seed=3).image
    scan = cv2.imencode(".png", image)[1].tobytes()
    document, _ = document_create(owner=UserFactory(), upload=Upload("form.png", scan))
    pipeline.document_ingest(document_id=document.pk)
    assert Field.objects.filter(page__document=document).count() > 5
    return document


def _write(media: Path, name: str, *, age_s: float = TWO_DAYS) -> str:
    path = media / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * 10)
    then = time.time() - age_s
    os.utime(path, (then, then))
    return name


def _age_everything(media: Path) -> None:
    then = time.time() - TWO_DAYS
    for path in media.rglob("*"):
        os.utime(path, (then, then))


def test_old_files_no_row_names_are_found_and_deleted_and_nothing_else(db, media):
    document = _read_document()
    kept = sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())
    _age_everything(media)
    orphans = {
        _write(media, f"documents/ab/{uuid.uuid4()}.png"),  # a crash before the row
        _write(media, f"crops/{document.pk}/0000-099.png"),  # a field that is gone
        _write(media, f"pages/{document.pk}/.0000-crops.npz.0123abcd.part"),  # a torn replace
        _write(media, "samples/digits/ff/" + "f" * 64 + ".png"),
        _write(media, "templates/gone-v1.png"),
    }
    fresh = _write(media, f"documents/cd/{uuid.uuid4()}.png", age_s=60)  # its row is coming
    model = _write(media, "models/digits/candidate.onnx")  # not a folder the sweep knows

    listed = media_orphans_sweep(older_than=timedelta(hours=1))

    assert set(listed.orphans) == orphans and listed.deleted == 0
    assert listed.orphan_bytes == 10 * len(orphans)
    assert all((media / name).exists() for name in orphans)

    swept = media_orphans_sweep(older_than=timedelta(hours=1), delete=True)

    assert set(swept.orphans) == orphans and swept.deleted == len(orphans)
    assert not any((media / name).exists() for name in orphans)
    assert (media / fresh).exists() and (media / model).exists()
    assert all((media / name).exists() for name in kept)
    page = document.pages.get()
    assert pipeline.page_image_load(page).shape == (page.height, page.width)
    assert all(Path(f.crop.path).exists() for f in Field.objects.filter(page=page))
    assert media_orphans_sweep(older_than=timedelta(hours=1)).orphans == []


def test_a_document_deleted_in_the_admin_leaves_files_the_sweep_takes(db, media):
    document = _read_document()
    names = sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())
    assert any(name.startswith("documents/") for name in names)
    assert any(name.startswith(f"pages/{document.pk}/") for name in names)
    Document.objects.filter(pk=document.pk).delete()
    _age_everything(media)

    report = media_orphans_sweep(older_than=timedelta(hours=1), delete=True)

    assert sorted(report.orphans) == names
    assert not [p for p in media.rglob("*") if p.is_file()]


def test_the_command_lists_by_default_and_deletes_when_asked(db, media, capsys):
    orphan = _write(media, f"documents/ab/{uuid.uuid4()}.pdf")

    call_command("files_sweep")
    listed = capsys.readouterr().out.splitlines()
    assert listed[0] == f"orphan: {orphan}" and (media / orphan).exists()
    assert json.loads(listed[-1]) == {
        "files": 1, "orphans": 1, "orphan_bytes": 10, "deleted": 0
    }  # fmt: skip

    call_command("files_sweep", "--delete")
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["deleted"] == 1
    assert not (media / orphan).exists()

    with pytest.raises(CommandError, match="at least 1"):
        call_command("files_sweep", "--older-than-hours", "0.1")
