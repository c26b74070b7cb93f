from __future__ import annotations

from pathlib import PurePosixPath

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from recognition.api.serializers import DocumentDetailSerializer, DocumentSummarySerializer
from recognition.errors import ApplicationError
from recognition.exports import fields_export
from recognition.models import Batch, Document, DocumentStatus
from recognition.selectors.documents import (
    batch_progress,
    batches_visible_to,
    document_with_results,
    documents_list,
    documents_visible_to,
    fields_for_export,
)
from recognition.services.documents import (
    Upload,
    batch_create,
    batch_delete,
    document_create,
    document_delete,
    template_resolve,
)
from recognition.services.playground import drawing_read


class MeApi(APIView):
    """Who the caller is and which roles they hold: integrations use it to check a token."""

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "username": serializers.CharField(),
                "roles": serializers.ListField(child=serializers.CharField()),
            },
        )
    )
    def get(self, request):
        roles = sorted(request.user.groups.values_list("name", flat=True))
        return Response({"username": request.user.get_username(), "roles": roles})


def _upload_from(file) -> Upload:
    return Upload(name=file.name or "upload", data=file.read())


EXPORT_PARAMETER = OpenApiParameter("format", str, enum=["csv", "json"], default="json")


class DocumentListCreateApi(ListAPIView):
    """List the documents you may see (filters: status, batch), or upload one scan."""

    serializer_class = DocumentSummarySerializer
    parser_classes = [MultiPartParser, FormParser]

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=DocumentStatus.choices, required=False)
        batch = serializers.UUIDField(required=False)

    class DocumentUploadSerializer(serializers.Serializer):
        file = serializers.FileField()
        template = serializers.CharField(
            required=False, allow_blank=True, help_text="template id or name"
        )
        template_fallback = serializers.BooleanField(
            required=False,
            default=False,
            help_text="read scans that do not match the template automatically instead of failing",
        )

    def get_queryset(self):
        filters = self.FilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return documents_list(
            user=self.request.user,
            status=filters.validated_data.get("status"),
            batch_id=filters.validated_data.get("batch"),
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=DocumentStatus.values),
            OpenApiParameter("batch", OpenApiTypes.UUID),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": DocumentUploadSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        responses={202: DocumentSummarySerializer},
    )
    def post(self, request):
        payload = self.DocumentUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "").strip() or None
        if key and len(key) > 255:
            raise ApplicationError("Idempotency-Key is longer than 255 characters")
        document, created = document_create(
            owner=request.user,
            upload=_upload_from(payload.validated_data["file"]),
            idempotency_key=key,
            template=template_resolve(payload.validated_data.get("template")),
            template_fallback=payload.validated_data["template_fallback"],
        )
        body = DocumentSummarySerializer(document, context={"request": request}).data
        response = Response(body, status=status.HTTP_202_ACCEPTED)
        if not created:
            response["Idempotent-Replayed"] = "true"
        return response


class DocumentDetailApi(APIView):
    @extend_schema(responses=DocumentDetailSerializer)
    def get(self, request, document_id):
        document = document_with_results(user=request.user, document_id=document_id)
        return Response(DocumentDetailSerializer(document, context={"request": request}).data)

    @extend_schema(responses={204: None})
    def delete(self, request, document_id):
        """Delete the document, its results and its files (its uploader or an admin); 409 while
        it is being read."""
        document_delete(user=request.user, document_id=document_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DocumentExportApi(APIView):
    @extend_schema(parameters=[EXPORT_PARAMETER], responses={200: OpenApiTypes.BINARY})
    def get(self, request, document_id):
        document = documents_visible_to(request.user).get(pk=document_id)
        documents = Document.objects.filter(pk=document.pk)
        return fields_export(
            fields_for_export(documents=documents),
            export_format=request.query_params.get("format", "json"),
            filename=f"document-{document.pk}",
        )


class DocumentFileApi(APIView):
    """The original file as uploaded."""

    @extend_schema(responses={200: OpenApiTypes.BINARY})
    def get(self, request, document_id):
        document = documents_visible_to(request.user).get(pk=document_id)
        # The name without the folders a ZIP member keeps ("scans.zip:north/0001.png").
        filename = PurePosixPath(document.original_name).name
        return FileResponse(document.file.open("rb"), as_attachment=True, filename=filename)


class BatchSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Batch
        fields = [
            "id",
            "callback_url",
            "created_at",
            "completed_at",
            "webhook_delivered_at",
            "progress",
        ]

    def get_progress(self, batch: Batch) -> dict:
        return batch_progress(batch)


class BatchCreateApi(APIView):
    """Upload many files (repeat `files`) or one ZIP; each file becomes a document."""

    parser_classes = [MultiPartParser, FormParser]

    class BatchUploadSerializer(serializers.Serializer):
        files = serializers.ListField(child=serializers.FileField(), allow_empty=False)
        callback_url = serializers.URLField(required=False, allow_blank=True)
        template = serializers.CharField(
            required=False, allow_blank=True, help_text="template id or name"
        )
        template_fallback = serializers.BooleanField(required=False, default=False)
        template_fallback = serializers.BooleanField(
            required=False,
            default=False,
            help_text="read scans that do not match the template automatically instead of failing",
        )

    @extend_schema(
        request={"multipart/form-data": BatchUploadSerializer}, responses={202: BatchSerializer}
    )
    def post(self, request):
        payload = self.BatchUploadSerializer(
            data={**request.data.dict(), "files": request.FILES.getlist("files")}
        )
        payload.is_valid(raise_exception=True)
        batch = batch_create(
            owner=request.user,
            uploads=[_upload_from(f) for f in payload.validated_data["files"]],
            callback_url=payload.validated_data.get("callback_url", ""),
            template=template_resolve(payload.validated_data.get("template")),
            template_fallback=payload.validated_data["template_fallback"],
        )
        return Response(BatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED)


class BatchDetailApi(APIView):
    @extend_schema(responses=BatchSerializer)
    def get(self, request, batch_id):
        return Response(BatchSerializer(batches_visible_to(request.user).get(pk=batch_id)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, batch_id):
        """Delete the batch and every document in it (its uploader or an admin); 409 while any
        of them is being read."""
        batch_delete(user=request.user, batch_id=batch_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BatchExportApi(APIView):
    @extend_schema(parameters=[EXPORT_PARAMETER], responses={200: OpenApiTypes.BINARY})
    def get(self, request, batch_id):
        batch = batches_visible_to(request.user).get(pk=batch_id)
        return fields_export(
            fields_for_export(documents=documents_visible_to(request.user).filter(batch=batch)),
            export_format=request.query_params.get("format", "json"),
            filename=f"batch-{batch.pk}",
        )


class PlaygroundReadApi(APIView):
    """Read a drawing (PNG) as one digit or as a number, with the confidences."""

    parser_classes = [MultiPartParser, FormParser]

    class DrawingSerializer(serializers.Serializer):
        image = serializers.FileField()
        mode = serializers.ChoiceField(choices=["digit", "number"], default="digit")

    @extend_schema(
        request={"multipart/form-data": DrawingSerializer},
        responses=inline_serializer(
            "Reading",
            {
                "value": serializers.CharField(),
                "confidence": serializers.FloatField(allow_null=True),
                "characters": serializers.ListField(child=serializers.DictField()),
                "model_version": serializers.CharField(),
            },
        ),
    )
    def post(self, request):
        payload = self.DrawingSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        reading, version = drawing_read(
            data=payload.validated_data["image"].read(), mode=payload.validated_data["mode"]
        )
        return Response(
            {
                "value": reading.value,
                "confidence": reading.confidence,
                "characters": reading.characters,
                "model_version": version,
            }
        )
