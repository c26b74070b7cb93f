"""The Django admin: templates (field rules and thresholds), model versions, the review audit."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from recognition.models import (
    DocumentDeletion,
    FieldReview,
    LearningSettings,
    ModelVersion,
    RetrainingJob,
    Template,
    TemplateField,
    TrainingSample,
)
from recognition.validation import RuleError, rule_validate


class TemplateFieldForm(forms.ModelForm):
    class Meta:
        model = TemplateField
        fields = ["name", "kind", "box_count", "bbox", "rule", "accept_threshold", "required"]

    def clean_rule(self):
        try:
            return rule_validate(self.cleaned_data.get("rule"))
        except RuleError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_bbox(self):
        bbox = self.cleaned_data.get("bbox")
        if (
            not isinstance(bbox, list)
            or len(bbox) != 4
            or not all(isinstance(v, int | float) and 0 <= v <= 1 for v in bbox)
        ):
            raise forms.ValidationError(
                "bbox must be [x, y, width, height] as fractions of the page (0 to 1)"
            )
        return bbox


class TemplateFieldInline(admin.TabularInline):
    model = TemplateField
    form = TemplateFieldForm
    extra = 0


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "updated_at"]
    inlines = [TemplateFieldInline]


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["kind", "version", "is_active", "accept_threshold", "activated_at"]
    list_filter = ["kind", "is_active"]
    readonly_fields = ["kind", "version", "onnx_path", "card", "temperature", "is_active"]


class AuditAdmin(admin.ModelAdmin):
    """An audit trail: read in the admin, never added, changed or deleted there."""

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(FieldReview)
class FieldReviewAdmin(AuditAdmin):
    list_display = ["created_at", "reviewer", "action", "old_value", "new_value", "mode"]
    list_filter = ["action", "mode", "sampled"]


@admin.register(DocumentDeletion)
class DocumentDeletionAdmin(AuditAdmin):
    list_display = ["deleted_at", "original_name", "owner", "deleted_by", "reason", "status"]
    list_filter = ["reason", "status"]
    search_fields = ["document_id", "original_name", "sha256", "owner", "deleted_by"]


@admin.register(LearningSettings)
class LearningSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "min_new_samples", "holdout_percent", "auto_promote", "epochs"]

    def has_add_permission(self, request) -> bool:
        return not LearningSettings.objects.exists()


@admin.register(TrainingSample)
class TrainingSampleAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "label", "is_holdout", "corrected"]
    list_filter = ["kind", "is_holdout", "corrected"]
    readonly_fields = [f.name for f in TrainingSample._meta.fields]


@admin.register(RetrainingJob)
class RetrainingJobAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "status", "trigger", "candidate"]
    list_filter = ["kind", "status"]
    readonly_fields = [f.name for f in RetrainingJob._meta.fields]
