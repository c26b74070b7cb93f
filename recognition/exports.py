"""Results as CSV or JSON files, for the API and the web UI."""

from __future__ import annotations

import csv
import io
import json

from django.http import HttpResponse

from recognition.errors import ApplicationError
from recognition.models import Field

EXPORT_FORMATS = ("csv", "json")
CSV_COLUMNS = [
    "document_id", "document_name", "page", "field_index", "field_name", "kind", "value",
    "confidence", "status", "bbox",
]  # fmt: skip


def _row(field: Field) -> dict:
    document = field.page.document
    return {
        "document_id": str(document.pk),
        "document_name": document.original_name,
        "page": field.page.index,
        "field_index": field.index,
        "field_name": field.name,
        "kind": field.kind,
        "value": field.value,
        "confidence": None if field.confidence is None else round(field.confidence, 6),
        "status": field.status,
        "bbox": field.bbox,
    }


def fields_export(fields, *, export_format: str, filename: str) -> HttpResponse:
    """An attachment with one row per field (CSV) or a list of field objects (JSON)."""
    if export_format not in EXPORT_FORMATS:
        raise ApplicationError(f"format must be one of {', '.join(EXPORT_FORMATS)}")
    rows = [_row(field) for field in fields]
    if export_format == "json":
        body = json.dumps({"fields": rows}, indent=2)
        content_type = "application/json"
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "bbox": " ".join(str(v) for v in row["bbox"])})
        body = buffer.getvalue()
        content_type = "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{export_format}"'
    return response
