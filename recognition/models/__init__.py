from recognition.models.documents import (
    FINAL_STATUSES,
    SETTLED_STATUSES,
    Batch,
    DeletionReason,
    Document,
    DocumentDeletion,
    DocumentStatus,
    Field,
    FieldKind,
    FieldStatus,
    Page,
)
from recognition.models.model_versions import ModelKind, ModelVersion
from recognition.models.reviews import FieldReview, ReviewAction
from recognition.models.templates import Template, TemplateField, TemplateKind
from recognition.models.training import JobStatus, LearningSettings, RetrainingJob, TrainingSample

__all__ = [
    "FINAL_STATUSES",
    "SETTLED_STATUSES",
    "Batch",
    "DeletionReason",
    "Document",
    "DocumentDeletion",
    "DocumentStatus",
    "Field",
    "FieldKind",
    "FieldReview",
    "FieldStatus",
    "JobStatus",
    "LearningSettings",
    "ModelKind",
    "ModelVersion",
    "Page",
    "RetrainingJob",
    "ReviewAction",
    "Template",
    "TemplateField",
    "TemplateKind",
    "TrainingSample",
]
