"""Output shapes of the API (inputs are parsed by small serializers next to each view)."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from recognition.models import Document, Field, Page


class CharacterSerializer(serializers.Serializer):
    char = serializers.CharField()
    confidence = serializers.FloatField()
    alternatives = serializers.ListField(child=serializers.ListField())


class FieldSerializer(serializers.ModelSerializer):
    characters = CharacterSerializer(many=True)
    model_version = serializers.SerializerMethodField()

    class Meta:
        model = Field
        fields = [
            "id", "index", "name", "kind", "bbox", "boxes", "value", "confidence", "status",
            "characters", "model_version", "review_reason", "revision",
        ]  # fmt: skip

    def get_model_version(self, field: Field) -> str | None:
        return field.model_version.version if field.model_version else None


class PageSerializer(serializers.ModelSerializer):
    fields = FieldSerializer(many=True)

    class Meta:
        model = Page
        fields = ["index", "width", "height", "skew_deg", "quality", "fields"]


class DocumentSummarySerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id", "status", "error", "url", "original_name", "file_type", "size", "sha256",
            "page_count", "batch", "template", "created_at", "finished_at",
        ]  # fmt: skip

    def get_url(self, document: Document) -> str:
        path = reverse("api-document-detail", args=[document.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class DocumentDetailSerializer(DocumentSummarySerializer):
    pages = PageSerializer(many=True)

    class Meta(DocumentSummarySerializer.Meta):
        fields = [*DocumentSummarySerializer.Meta.fields, "pages"]
