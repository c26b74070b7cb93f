"""'Try it': read a filled sample scan with a template before the template goes live."""

from __future__ import annotations

from forms_ocr.template import RegistrationError
from recognition.errors import ApplicationError
from recognition.inference import recognizers_active
from recognition.models import Template
from recognition.services.pipeline import field_input, fields_read, route_for
from recognition.services.templates import reference_read, template_page_segment


def template_try(*, template: Template, data: bytes) -> dict:
    """Segment and read the first page of `data` with `template`, as the pipeline would, and
    return what it reads field by field; nothing is stored."""
    image = reference_read(data)
    try:
        reading = template_page_segment(template, image, index=0)
    except RegistrationError as exc:
        raise ApplicationError(f"the sample does not match the template: {exc.reason}") from exc
    found = list(reading.result.fields)
    readings = fields_read(
        recognizers_active(),
        [(f.kind, field_input(f), [b.empty for b in f.boxes]) for f in found],
    )
    fields = []
    for index, (segment, (field_reading, model)) in enumerate(zip(found, readings, strict=True)):
        template_field = reading.fields_by_name.get(segment.name)
        route = route_for(
            segment.kind, field_reading, model, template_field, f"try:{index}", sample_rate=0.0
        )
        fields.append(
            {
                "name": segment.name,
                "kind": segment.kind,
                "bbox": list(segment.bbox),
                "value": route.value,
                "confidence": route.confidence,
                "status": route.status,
                "review_reason": route.reason,
                "characters": route.characters,
                "model_version": model.version.version,
            }
        )
    return {"width": int(image.shape[1]), "height": int(image.shape[0]), "fields": fields}
