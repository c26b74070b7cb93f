from recognition.models.documents import (
    Batch,
    Document,
    DocumentStatus,
    Field,
    FieldKind,
    FieldStatus,
    Page,
)
from recognition.models.model_versions import ModelKind, ModelVersion

__all__ = [
    "Batch",
    "Document",
    "DocumentStatus",
    "Field",
    "FieldKind",
    "FieldStatus",
    "ModelKind",
    "ModelVersion",
    "Page",
]
