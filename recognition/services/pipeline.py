"""The processing steps behind the Celery tasks: ingest, segment, recognize, route.

Every step takes ids, is safe to run twice (it rewrites the same rows and files), and hands the
next step over with `transaction.on_commit`, so a task never sees rows that are not committed.
"""

from __future__ import annotations

import io
import logging
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connections, router, transaction
from django.utils import timezone

from forms_ocr import segment_page
from forms_ocr.errors import UnreadableFileError
from forms_ocr.reading import pages_read, png_is_grey8
from forms_ocr.template import RegistrationError
from recognition.models import (
    SETTLED_STATUSES,
    Document,
    DocumentStatus,
    Field,
    FieldKind,
    FieldStatus,
    Page,
    TemplateField,
)
from recognition.reading import (
    FieldReading,
    comb_fields_read,
    string_read_by_components,
    strings_read,
)
from recognition.services.batches import batch_complete_if_settled
from recognition.services.documents import document_fail
from recognition.services.images import grey_image_load, png_bytes
from recognition.services.routing import (
    candidates_for,
    characters_for_value,
    field_route,
    field_threshold,
    threshold_for,
)
from recognition.services.tasks import task_send_on_commit
from recognition.services.templates import template_fields_match, template_page_segment
from recognition.validation import repair, sum_check

logger = logging.getLogger(__name__)


def document_ingest(*, document_id) -> list[int]:
    """Read the document's pages, store them as PNG, and segment them: a one-page document
    here, with the page just read (a segment task would only decode it again), the pages of a
    longer one each in a segment task of its own, queued.

    Returns the ids of the pages read (none when the document is settled or unreadable).
    """
    with transaction.atomic():
        document = Document.objects.select_for_update().filter(pk=document_id).first()
        if document is None or document.status in SETTLED_STATUSES:
            return []
        document.status = DocumentStatus.PROCESSING
        document.attempts += 1
        document.processing_started_at = timezone.now()
        document.save(update_fields=["status", "attempts", "processing_started_at", "updated_at"])

    with document.file.open("rb") as handle:
        data = handle.read()
    try:
        pages = pages_read(
            data,
            max_pages=settings.HDR_UPLOAD_MAX_PAGES,
            max_pixels=settings.HDR_UPLOAD_MAX_PIXELS,
        )
    except UnreadableFileError as exc:
        document_fail(document_id=document.pk, reason=exc.reason)
        return []

    # A grey 8-bit PNG is its own page: the page is the uploaded file itself, neither encoded
    # nor written again (pages never change or delete their image).
    as_uploaded = len(pages) == 1 and png_is_grey8(data)
    page_ids = []
    with transaction.atomic():
        for read in pages:
            if as_uploaded:
                image = document.file.name
            else:
                # Stored under the page's name (replacing an earlier run's) before the row exists.
                unsaved = Page(document=document, index=read.index)
                unsaved.image.save("page.png", ContentFile(png_bytes(read.image)), save=False)
                image = unsaved.image.name
            # One statement per page: the image's name is known before the row is written.
            page, _ = Page.objects.update_or_create(
                document=document,
                index=read.index,
                defaults={
                    "width": read.width,
                    "height": read.height,
                    "dpi": read.dpi,
                    "image": image,
                },
            )
            page_ids.append(page.pk)
        # A re-run after a crash may have fewer pages only if the file changed; it cannot, but
        # stale rows from a different reading must never survive.
        document.pages.exclude(pk__in=page_ids).delete()
        Document.objects.filter(pk=document.pk).update(page_count=len(page_ids))
        if len(page_ids) > 1:
            for page_id in page_ids:
                task_send_on_commit("hdr.page_segment", page_id)
    if len(page_ids) == 1:
        page_segment(page_id=page_ids[0], image=pages[0].image)
    return page_ids


def page_image_load(page: Page) -> np.ndarray:
    """The page as read: (H, W) uint8 grey."""
    return grey_image_load(page.image, what=f"page {page.pk}")


def page_crops_load(page: Page) -> dict[str, np.ndarray]:
    """What segmentation stored for recognition, keyed f<field index> (empty without crops)."""
    if not page.crops:
        return {}
    with page.crops.open("rb") as handle, np.load(io.BytesIO(handle.read())) as stored:
        return {key: stored[key] for key in stored.files}


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    # Uncompressed: normalized crops are small, and compressing them cost more than it saved.
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def field_input(found) -> np.ndarray:
    """What recognition reads of a segmented field: the normalized boxes of a comb field
    (float32 [N,28,28]), the crop of a string field (uint8 grey)."""
    if found.kind == FieldKind.DIGITS:
        if not found.boxes:
            return np.zeros((0, 28, 28), np.float32)
        return np.stack([box.normalized for box in found.boxes])
    return found.crop


def page_segment(*, page_id: int, image: np.ndarray | None = None) -> int:
    """Find the page's fields, store their crops, and queue recognition; returns the field count.

    ``image`` is the page as read when the caller has it, else the stored page is decoded. A
    re-run replaces the page's fields, so running it twice leaves the same rows.
    """
    page = Page.objects.select_related("document", "document__template").filter(pk=page_id).first()
    if page is None or page.document.status in SETTLED_STATUSES:
        return 0
    document = page.document
    if image is None:
        image = page_image_load(page)
    template = document.template
    named: dict = {}
    note = ""
    if template is not None and template.reference:
        try:
            reading = template_page_segment(template, image, index=page.index)
        except RegistrationError as exc:
            if not document.template_fallback:
                document_fail(
                    document_id=document.pk,
                    reason=f"page {page.index + 1} does not match the template {template}: "
                    f"{exc.reason}",
                )
                return 0
            note = f"not read with the template {template} ({exc.reason}); read automatically"
            result = segment_page(image, index=page.index)
        else:
            result = reading.result
            named = {
                i: reading.fields_by_name.get(found.name) for i, found in enumerate(result.fields)
            }
    else:
        result = segment_page(image, index=page.index)
        if template is not None:
            named = template_fields_match(
                list(TemplateField.objects.filter(template=template)),
                [(found.kind, found.bbox) for found in result.fields],
                page_width=page.width,
                page_height=page.height,
            )
    arrays: dict[str, np.ndarray] = {}
    with transaction.atomic():
        page.fields.all().delete()
        fields = []
        for index, found in enumerate(result.fields):
            template_field = named.get(index)
            field = Field(
                page=page,
                index=index,
                kind=found.kind,
                name=template_field.name if template_field else "",
                template_field=template_field,
                bbox=list(found.bbox),
                boxes=[{"bbox": list(box.bbox), "empty": box.empty} for box in found.boxes],
            )
            field.crop.save("crop.png", ContentFile(png_bytes(found.crop)), save=False)
            fields.append(field)
            arrays[f"f{index}"] = field_input(found)
        # One INSERT for the page's fields (a form has about 17), not one each.
        Field.objects.bulk_create(fields)
        page.crops.save("crops.npz", ContentFile(npz_bytes(arrays)), save=False)
        page.skew_deg = result.skew_deg
        page.quality = result.quality.to_json()
        if note:
            page.quality = {**page.quality, "template": note}
        page.segmented_at = timezone.now()
        page.recognized_at = None
        page.save(update_fields=["crops", "skew_deg", "quality", "segmented_at", "recognized_at"])
        task_send_on_commit("hdr.page_recognize", page.pk)
    return len(result.fields)


def fields_read(recognizers, fields: list[tuple[str, np.ndarray, list[bool]]]) -> list:
    """Read fields given as (kind, crop, box emptiness): the boxes of all comb fields in one
    batch with the digit model, string fields in one batch with the string model (digit by
    digit without one).
    Returns (FieldReading, the LoadedModel that read it) per field, in order."""
    digits = recognizers.digits
    if digits is None:
        raise RuntimeError("no digit model is installed")
    strings = recognizers.strings
    string_positions = [i for i, (kind, _, _) in enumerate(fields) if kind == FieldKind.STRING]
    string_readings: dict[int, FieldReading] = {}
    if strings is not None and string_positions:
        crops = [fields[i][1] for i in string_positions]
        string_readings = dict(
            zip(string_positions, strings_read(strings.recognizer, crops), strict=True)
        )
    comb_positions = [i for i, (kind, _, _) in enumerate(fields) if kind == FieldKind.DIGITS]
    comb_readings = dict(
        zip(
            comb_positions,
            comb_fields_read(
                digits.recognizer, [(fields[i][1], fields[i][2]) for i in comb_positions]
            ),
            strict=True,
        )
    )
    readings = []
    for position, (kind, crop, _) in enumerate(fields):
        if kind == FieldKind.DIGITS:
            readings.append((comb_readings[position], digits))
        elif strings is not None:
            readings.append((string_readings[position], strings))
        else:
            # Without a string model, numbers are read digit by digit.
            readings.append((string_read_by_components(digits.recognizer, crop), digits))
    return readings


def route_for(
    kind: str,
    reading: FieldReading,
    model,
    template_field,
    sample_key: str,
    sample_rate: float | None = None,
):
    """Route a reading with the template field's threshold, rule and requirement if any;
    quality sampling at HDR_REVIEW_SAMPLE_RATE unless `sample_rate` says otherwise."""
    threshold = threshold_for(model.version, template_field)
    return field_route(
        kind=kind,
        reading=reading,
        threshold=threshold,
        rule=template_field.rule if template_field else None,
        required=template_field.required if template_field else False,
        sample_key=sample_key,
        sample_rate=settings.HDR_REVIEW_SAMPLE_RATE if sample_rate is None else sample_rate,
    )


# What recognition and routing write on a field.
READING_COLUMNS = (
    "machine_value",
    "n_best",
    "value",
    "characters",
    "confidence",
    "status",
    "review_reason",
    "sampled",
    "model_version",
    "updated_at",
)


def fields_write(fields: list[Field], columns: tuple[str, ...]) -> None:
    """Write `columns` of saved `fields` as `save(update_fields=columns)` would (each column's
    `pre_save` included, so an `auto_now` column is set to now), in one `executemany` of a
    single UPDATE statement.

    A form's 17 `save()` calls spent most of their time building each statement in the ORM;
    `bulk_update`'s CASE expressions over the JSON columns cost more to build still (about
    50 ms a form). Here the statement is built once and the values are converted by the model
    fields themselves, as `save()` converts them. A field whose row is gone updates nothing.
    """
    if not fields:
        return
    connection = connections[router.db_for_write(Field)]
    meta = Field._meta
    targets = [meta.get_field(name) for name in columns]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(target.column)} = %s" for target in targets)
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    rows = [
        [
            *(
                target.get_db_prep_save(target.pre_save(field, False), connection)
                for target in targets
            ),
            field.pk,
        ]
        for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def page_recognize(*, page_id: int, recognizers) -> str | None:
    """Read every field of the page in one batch per model, route each field, and settle the
    document when this was its last page. Returns the document's status afterwards."""
    page = Page.objects.select_related("document").filter(pk=page_id).first()
    if page is None or page.document.status in SETTLED_STATUSES or not page.crops:
        return None
    arrays = page_crops_load(page)
    fields = list(page.fields.select_related("template_field").order_by("index"))
    readings = fields_read(
        recognizers,
        [
            (field.kind, arrays[f"f{field.index}"], [b["empty"] for b in field.boxes])
            for field in fields
        ],
    )
    for field, (reading, model) in zip(fields, readings, strict=True):
        route = route_for(
            field.kind,
            reading,
            model,
            field.template_field,
            f"{page.document_id}:{page.index}:{field.index}",
        )
        field.machine_value = reading.value
        field.n_best = reading.n_best
        field.value = route.value
        field.characters = route.characters
        field.confidence = route.confidence
        field.status = route.status
        field.review_reason = route.reason
        field.sampled = route.sampled
        field.model_version = model.version
    with transaction.atomic():
        fields_write(fields, READING_COLUMNS)
        Page.objects.filter(pk=page.pk).update(recognized_at=timezone.now())
    return document_route_if_complete(document_id=page.document_id)


def document_route_if_complete(*, document_id) -> str | None:
    """Once every page is read: `needs_review` if any field needs a person, else `done`."""
    with transaction.atomic():
        document = Document.objects.select_for_update().filter(pk=document_id).first()
        if document is None or document.status in SETTLED_STATUSES:
            return document.status if document else None
        pages = document.pages.all()
        if (
            pages.count() != document.page_count
            or pages.filter(recognized_at__isnull=True).exists()
        ):
            return document.status
        document_sums_check(document)
        review = Field.objects.filter(page__document=document, status=FieldStatus.NEEDS_REVIEW)
        document.status = DocumentStatus.NEEDS_REVIEW if review.exists() else DocumentStatus.DONE
        document.finished_at = timezone.now()
        document.save(update_fields=["status", "finished_at", "updated_at"])
    if document.batch_id:
        batch_complete_if_settled(batch_id=document.batch_id)
    return document.status


def document_sums_check(document: Document) -> int:
    """Cross-field rules (a total that must be the sum of items): a total that does not add up is
    repaired from its candidates when that is sure enough, else sent to review. Returns the
    number of fields sent to review."""
    fields = list(
        Field.objects.filter(page__document=document)
        .exclude(name="")
        .select_related("template_field", "model_version")
    )
    values = {f.name: f.value for f in fields}
    sent = 0
    for field in fields:
        rule = field.template_field.rule if field.template_field else {}
        if not rule.get("sum_of") or field.status != FieldStatus.ACCEPTED:
            continue
        failure = sum_check(rule, field.value, values)
        if failure is None:
            continue
        threshold = field_threshold(field)
        fixed = repair(
            rule,
            candidates_for(field.kind, field.characters, field.n_best),
            check=lambda r, text: sum_check(r, text, values),
        )
        if fixed is not None and threshold is not None and fixed.confidence >= threshold:
            field.value = fixed.value
            field.confidence = round(fixed.confidence, 6)
            field.characters = characters_for_value(fixed.value, fixed.confidence, field.characters)
            field.save(update_fields=["value", "confidence", "characters", "updated_at"])
            values[field.name] = field.value
            continue
        field.status = FieldStatus.NEEDS_REVIEW
        field.sampled = False
        field.review_reason = f"the total {failure}"
        field.save(update_fields=["status", "sampled", "review_reason", "updated_at"])
        sent += 1
    return sent


def documents_reap_stuck(
    *, older_than: timedelta, max_attempts: int = 3, queued_older_than: timedelta | None = None
) -> dict[str, int]:
    """Re-queue documents stuck in processing (a lost task), or fail them after `max_attempts`;
    send documents queued for longer than `queued_older_than` (default twice `older_than`) to
    ingest again: their message was lost (a broker down at upload, or restarted without its
    data). Every step is idempotent, so a document whose message was only slow is safe."""
    cutoff = timezone.now() - older_than
    queued_cutoff = timezone.now() - (queued_older_than or 2 * older_than)
    requeued = failed = 0
    for document_id in Document.objects.filter(
        status=DocumentStatus.QUEUED, updated_at__lt=queued_cutoff
    ).values_list("pk", flat=True):
        with transaction.atomic():
            # Touching updated_at keeps the next sweep from sending it again too soon.
            if Document.objects.filter(
                pk=document_id, status=DocumentStatus.QUEUED, updated_at__lt=queued_cutoff
            ).update(updated_at=timezone.now()):
                task_send_on_commit("hdr.document_ingest", document_id)
                requeued += 1
    stuck = Document.objects.filter(
        status=DocumentStatus.PROCESSING, processing_started_at__lt=cutoff
    ).values_list("pk", "attempts")
    for document_id, attempts in stuck:
        if attempts >= max_attempts:
            document_fail(
                document_id=document_id,
                reason=f"processing did not finish after {attempts} attempts",
            )
            failed += 1
            continue
        with transaction.atomic():
            updated = Document.objects.filter(
                pk=document_id, status=DocumentStatus.PROCESSING, processing_started_at__lt=cutoff
            ).update(status=DocumentStatus.QUEUED, updated_at=timezone.now())
            if updated:
                task_send_on_commit("hdr.document_ingest", document_id)
                requeued += 1
    if requeued or failed:
        logger.warning("reaper: %d documents re-queued, %d failed", requeued, failed)
    return {"requeued": requeued, "failed": failed}


def pipeline_failure_record(*, task_name: str, object_id, reason: str) -> None:
    """A task gave up: fail the document it worked on (found through the page for page tasks)."""
    if task_name == "hdr.document_ingest":
        document_id = object_id
    else:
        document_id = (
            Page.objects.filter(pk=object_id).values_list("document_id", flat=True).first()
        )
    if document_id is not None:
        document_fail(document_id=document_id, reason=reason)
