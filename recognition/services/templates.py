"""Templates: create from a blank reference page, edit (a new version once documents used it),
export and import as JSON, try on a filled sample, and apply to scans in the pipeline."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from django.core.files.base import ContentFile
from django.db import transaction

from forms_ocr.errors import FormsOcrError, UnreadableFileError
from forms_ocr.reading import pages_read
from recognition.errors import ApplicationError, ConflictError
from recognition.models import FieldKind, Template, TemplateField, TemplateKind
from recognition.services.images import grey_image_load, png_bytes
from recognition.validation import RuleError, rule_validate

# Below this overlap a detected field is not the template's field, whatever its kind.
MATCH_MIN_IOU = 0.3
EXPORT_FORMAT = "hdr-template/1"
MAX_TEMPLATE_FIELDS = 200
MAX_REFERENCE_PIXELS = 60_000_000


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = w * h
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def template_fields_match(
    template_fields: Sequence[TemplateField],
    detected: Sequence[tuple[str, Sequence[float]]],
    *,
    page_width: int,
    page_height: int,
) -> dict[int, TemplateField]:
    """Pair detected fields (kind, pixel bbox) with template fields (relative bbox) of the same
    kind, best overlap first, each at most once. Returns {detected index: template field}.

    Used for templates without a reference page, which cannot register scans: it relies on the
    scan having the form's framing, so fields that moved by more than their own size stay unnamed.
    """
    pairs = []
    for i, (kind, bbox) in enumerate(detected):
        x, y, w, h = bbox
        relative = (x / page_width, y / page_height, w / page_width, h / page_height)
        for template_field in template_fields:
            if template_field.kind != kind:
                continue
            overlap = _iou(relative, template_field.bbox)
            if overlap >= MATCH_MIN_IOU:
                pairs.append((overlap, i, template_field))
    matched: dict[int, TemplateField] = {}
    used: set[int] = set()
    for _, i, template_field in sorted(pairs, key=lambda p: -p[0]):
        if i in matched or template_field.pk in used:
            continue
        matched[i] = template_field
        used.add(template_field.pk)
    return matched


# --- field definitions ------------------------------------------------------------------------


def _fractions(value: object, what: str) -> list[float]:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 4
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise ApplicationError(f"{what} must be [x, y, width, height] as fractions of the page")
    x, y, w, h = (float(v) for v in value)
    if w <= 0 or h <= 0 or x < 0 or y < 0 or x + w > 1.0001 or y + h > 1.0001:
        raise ApplicationError(f"{what} must lie on the page (fractions from 0 to 1)")
    return [round(x, 6), round(y, 6), round(w, 6), round(h, 6)]


def template_fields_clean(fields: object) -> list[dict]:
    """Check field definitions (admin input) and return them in the stored shape."""
    if not isinstance(fields, list):
        raise ApplicationError("fields must be a list")
    if len(fields) > MAX_TEMPLATE_FIELDS:
        raise ApplicationError(f"a template has at most {MAX_TEMPLATE_FIELDS} fields")
    cleaned, names = [], set()
    for number, field in enumerate(fields, start=1):
        if not isinstance(field, dict):
            raise ApplicationError(f"field {number} must be an object")
        name = str(field.get("name", "")).strip()
        where = f"field {name or number}"
        if not name or len(name) > 100:
            raise ApplicationError(f"field {number} needs a name of 1 to 100 characters")
        if name in names:
            raise ApplicationError(f"two fields are named {name!r}")
        names.add(name)
        kind = field.get("kind")
        if kind not in FieldKind.values:
            raise ApplicationError(f"{where}: kind must be one of {', '.join(FieldKind.values)}")
        boxes = [_fractions(b, f"{where} box") for b in field.get("boxes") or []]
        box_count = field.get("box_count")
        if kind == FieldKind.DIGITS:
            if box_count is None:
                box_count = len(boxes) or None
            if not isinstance(box_count, int) or isinstance(box_count, bool) or box_count < 1:
                raise ApplicationError(f"{where}: a digits field needs box_count of at least 1")
            if boxes and len(boxes) != box_count:
                raise ApplicationError(f"{where}: {len(boxes)} boxes given, box_count {box_count}")
        else:
            box_count, boxes = None, []
        threshold = field.get("accept_threshold")
        if threshold is not None and (
            not isinstance(threshold, int | float)
            or isinstance(threshold, bool)
            or not 0 <= threshold <= 1
        ):
            raise ApplicationError(f"{where}: accept_threshold must be a number from 0 to 1")
        try:
            rule = rule_validate(field.get("rule"))
        except RuleError as exc:
            raise ApplicationError(f"{where}: {exc}") from exc
        cleaned.append(
            {
                "name": name,
                "kind": kind,
                "bbox": _fractions(field.get("bbox"), f"{where} bbox"),
                "box_count": box_count,
                "boxes": boxes,
                "rule": rule,
                "accept_threshold": threshold,
                "required": bool(field.get("required", False)),
            }
        )
    return cleaned


def template_fields_json(template: Template) -> list[dict]:
    return [
        {
            "name": f.name,
            "kind": f.kind,
            "bbox": f.bbox,
            "box_count": f.box_count,
            "boxes": f.boxes,
            "rule": f.rule,
            "accept_threshold": f.accept_threshold,
            "required": f.required,
        }
        for f in template.fields.order_by("pk")
    ]


# --- reference pages --------------------------------------------------------------------------


def reference_read(data: bytes) -> np.ndarray:
    """The first page of an image or PDF as (H, W) uint8 grey."""
    try:
        pages = pages_read(data, max_pages=1, max_pixels=MAX_REFERENCE_PIXELS)
    except UnreadableFileError as exc:
        raise ApplicationError(f"the reference page cannot be read: {exc.reason}") from exc
    return pages[0].image


def reference_load(template: Template) -> np.ndarray:
    return grey_image_load(template.reference, what=f"template {template} reference page")


def fields_detected(image: np.ndarray) -> list[dict]:
    """The fields automatic mode finds on a blank reference page, in the stored shape."""
    from forms_ocr.template import template_fields_detect

    height, width = image.shape[:2]
    return [_relative_field(spec, width, height) for spec in template_fields_detect(image)]


def _relative_field(spec, width: int, height: int) -> dict:
    def rel(b):
        x, y, w, h = b
        return [
            round(x / width, 6),
            round(y / height, 6),
            round(w / width, 6),
            round(h / height, 6),
        ]

    return {
        "name": spec.name,
        "kind": spec.kind,
        "bbox": rel(spec.bbox),
        "box_count": spec.box_count,
        "boxes": [rel(b) for b in spec.boxes],
        "rule": {},
        "accept_threshold": None,
        "required": False,
    }


def _fields_write(template: Template, fields: list[dict]) -> None:
    template.fields.all().delete()
    TemplateField.objects.bulk_create(TemplateField(template=template, **f) for f in fields)


@transaction.atomic
def template_create(
    *,
    name: str,
    reference_data: bytes,
    kind: str = TemplateKind.FORM,
    description: str = "",
    fields: list | None = None,
    is_live: bool = False,
    created_by=None,
) -> Template:
    """A new template (or the next version of one of that name) from a blank reference page;
    without `fields`, the fields automatic mode finds on the reference."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ApplicationError("a template needs a name of 1 to 100 characters")
    if kind not in TemplateKind.values:
        raise ApplicationError(f"kind must be one of {', '.join(TemplateKind.values)}")
    image = reference_read(reference_data)
    cleaned = fields_detected(image) if fields is None else template_fields_clean(fields)
    previous = Template.objects.select_for_update().filter(name=name, is_current=True).first()
    version = 1
    if previous is not None:
        version = previous.version + 1
        Template.objects.filter(pk=previous.pk).update(is_current=False)
    template = Template(
        name=name,
        version=version,
        kind=kind,
        description=description,
        is_live=is_live,
        reference_width=image.shape[1],
        reference_height=image.shape[0],
        created_by=created_by,
    )
    template.reference.save("reference.png", ContentFile(png_bytes(image)), save=False)
    template.save()
    _fields_write(template, cleaned)
    return template


@transaction.atomic
def template_update(*, template: Template, changes: dict, user=None) -> Template:
    """Apply `changes` (name, kind, description, is_live, fields). A version that documents
    have used is never changed: the changes become the next version, which is returned."""
    template = Template.objects.select_for_update().get(pk=template.pk)
    if not template.is_current:
        raise ConflictError(
            f"{template} is an old version; edit the current one",
            extra={
                "current": Template.objects.filter(name=template.name, is_current=True)
                .values_list("pk", flat=True)
                .first()
            },
        )
    fields = template_fields_clean(changes["fields"]) if "fields" in changes else None
    kind = changes.get("kind", template.kind)
    if kind not in TemplateKind.values:
        raise ApplicationError(f"kind must be one of {', '.join(TemplateKind.values)}")
    name = str(changes.get("name", template.name)).strip()
    if not name or len(name) > 100:
        raise ApplicationError("a template needs a name of 1 to 100 characters")
    if name != template.name and Template.objects.filter(name=name).exists():
        raise ApplicationError(f"a template named {name!r} exists already")
    if template.documents.exists():
        Template.objects.filter(pk=template.pk).update(is_current=False)
        successor = Template(
            name=name,
            version=template.version + 1 if name == template.name else 1,
            kind=kind,
            description=changes.get("description", template.description),
            is_live=bool(changes.get("is_live", template.is_live)),
            reference_width=template.reference_width,
            reference_height=template.reference_height,
            created_by=user,
        )
        if template.reference:
            with template.reference.open("rb") as handle:
                successor.reference.save("reference.png", ContentFile(handle.read()), save=False)
        successor.save()
        _fields_write(successor, fields if fields is not None else template_fields_json(template))
        return successor
    template.name = name
    template.kind = kind
    template.description = changes.get("description", template.description)
    template.is_live = bool(changes.get("is_live", template.is_live))
    template.save()
    if fields is not None:
        _fields_write(template, fields)
    return template


# --- export and import ------------------------------------------------------------------------


def template_export(template: Template) -> dict:
    reference = b""
    if template.reference:
        with template.reference.open("rb") as handle:
            reference = handle.read()
    return {
        "format": EXPORT_FORMAT,
        "name": template.name,
        "version": template.version,
        "kind": template.kind,
        "description": template.description,
        "reference_png": base64.b64encode(reference).decode("ascii"),
        "reference_sha256": hashlib.sha256(reference).hexdigest(),
        "fields": template_fields_json(template),
    }


def template_import(data: object, *, created_by=None) -> Template:
    """Create a template from an export (as the next version when the name exists here)."""
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise ApplicationError(f"not a template export (format must be {EXPORT_FORMAT!r})")
    try:
        reference = base64.b64decode(data.get("reference_png", ""), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApplicationError("reference_png is not valid base64") from exc
    if not reference:
        raise ApplicationError("the export holds no reference page")
    if (
        data.get("reference_sha256")
        and hashlib.sha256(reference).hexdigest() != data["reference_sha256"]
    ):
        raise ApplicationError("the reference page does not match its checksum")
    return template_create(
        name=str(data.get("name", "")),
        kind=data.get("kind", TemplateKind.FORM),
        description=str(data.get("description", "")),
        reference_data=reference,
        fields=data.get("fields", []),
        created_by=created_by,
    )


# --- applying a template to a scan ------------------------------------------------------------


@lru_cache(maxsize=16)
def _reference_features(template_id: int, created_at, reference_name: str):
    """A template version's reference features, computed once per process. A version's
    reference page never changes; the key holds its creation time and file so that a reused id
    never finds stale features."""
    from forms_ocr.template import reference_features

    return reference_features(reference_load(Template.objects.get(pk=template_id)))


def reference_features_of(template: Template):
    return _reference_features(template.pk, template.created_at, template.reference.name)


def template_specs(template: Template) -> list:
    """The template's fields in the reference page's pixels, for forms_ocr."""
    from forms_ocr.template import TemplateFieldSpec

    width, height = template.reference_width, template.reference_height

    def px(b):
        x, y, w, h = b
        return (round(x * width), round(y * height), round(w * width), round(h * height))

    return [
        TemplateFieldSpec(
            name=f.name,
            kind=f.kind,
            bbox=px(f.bbox),
            box_count=f.box_count,
            boxes=tuple(px(b) for b in f.boxes),
        )
        for f in template.fields.order_by("pk")
    ]


@dataclass(frozen=True)
class TemplateReading:
    """A page segmented with a template: the forms_ocr result and the template fields by name."""

    result: object
    fields_by_name: dict[str, TemplateField]


def template_page_segment(template: Template, image: np.ndarray, *, index: int) -> TemplateReading:
    """Register the scan to the template's reference and cut its fields; raises
    forms_ocr.template.RegistrationError (with `.reason`) when the scan does not match."""
    from forms_ocr.template import segment_page_with_template

    if not template.reference:
        raise FormsOcrError(f"template {template} has no reference page")
    result = segment_page_with_template(
        image,
        reference_features_of(template),
        template_specs(template),
        index=index,
        reference_shape=(template.reference_height, template.reference_width),
    )
    return TemplateReading(result, {f.name: f for f in template.fields.all()})
