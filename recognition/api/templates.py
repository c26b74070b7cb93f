"""Templates over REST: list and read (everyone signed in: uploads choose one), create, edit,
export, import and try (admins)."""

from __future__ import annotations

import json

from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from recognition.api.permissions import IsAdmin
from recognition.errors import ApplicationError, NotFoundError
from recognition.models import Template, TemplateKind
from recognition.roles import user_is_admin
from recognition.services.template_trial import template_try
from recognition.services.templates import (
    fields_detected,
    reference_read,
    template_create,
    template_export,
    template_fields_json,
    template_import,
    template_update,
)


class TemplateSerializer(serializers.ModelSerializer):
    # Not get_fields: that name is the serializer's own.
    fields = serializers.SerializerMethodField(method_name="fields_of")
    reference_url = serializers.SerializerMethodField()
    documents = serializers.SerializerMethodField()

    class Meta:
        model = Template
        fields = [
            "id", "name", "version", "is_current", "is_live", "kind", "description",
            "reference_width", "reference_height", "reference_url", "documents", "fields",
            "created_at", "updated_at",
        ]  # fmt: skip

    def fields_of(self, template: Template) -> list[dict]:
        return template_fields_json(template)

    def get_reference_url(self, template: Template) -> str | None:
        return reverse("api-template-reference", args=[template.pk]) if template.reference else None

    def get_documents(self, template: Template) -> int:
        return template.documents.count()


def _visible(user):
    """Admins see every version and drafts; others the live current versions they can upload
    with."""
    templates = Template.objects.all()
    if not user_is_admin(user):
        templates = templates.filter(is_current=True, is_live=True)
    return templates


def _template(user, template_id: int) -> Template:
    template = _visible(user).filter(pk=template_id).first()
    if template is None:
        raise NotFoundError("no such template")
    return template


def _fields_from(request_data) -> list | None:
    fields = request_data.get("fields")
    if fields in (None, ""):
        return None
    if isinstance(fields, str):
        try:
            fields = json.loads(fields)
        except json.JSONDecodeError as exc:
            raise ApplicationError(f"fields is not valid JSON: {exc.msg}") from exc
    return fields


class TemplateListCreateApi(APIView):
    """GET: templates you may upload with (admins: every version and drafts). POST (admins):
    multipart `name`, `reference` (blank page: image or PDF), optional `kind`, `description`,
    `fields` (JSON; without it, the fields found automatically on the reference)."""

    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_permissions(self):
        return [IsAdmin()] if self.request.method == "POST" else [IsAuthenticated()]

    class CreateSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        reference = serializers.FileField()
        kind = serializers.ChoiceField(choices=TemplateKind.choices, default=TemplateKind.FORM)
        description = serializers.CharField(required=False, allow_blank=True, default="")
        fields = serializers.CharField(required=False, help_text="JSON list of fields")
        is_live = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        parameters=[OpenApiParameter("all", bool, description="admins: old versions too")],
        responses=TemplateSerializer(many=True),
    )
    def get(self, request):
        templates = _visible(request.user)
        if request.query_params.get("all") != "true":
            templates = templates.filter(is_current=True)
        return Response(TemplateSerializer(templates.order_by("name"), many=True).data)

    @extend_schema(
        request={"multipart/form-data": CreateSerializer}, responses={201: TemplateSerializer}
    )
    def post(self, request):
        payload = self.CreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        template = template_create(
            name=data["name"],
            kind=data["kind"],
            description=data["description"],
            reference_data=data["reference"].read(),
            fields=_fields_from(request.data),
            is_live=data["is_live"],
            created_by=request.user,
        )
        return Response(TemplateSerializer(template).data, status=status.HTTP_201_CREATED)


class TemplateDetailApi(APIView):
    """GET a template; PATCH (admins) its name, kind, description, is_live or fields. A version
    documents have used is never changed: the answer is then the new version (another id)."""

    parser_classes = [JSONParser]

    def get_permissions(self):
        return [IsAdmin()] if self.request.method == "PATCH" else [IsAuthenticated()]

    @extend_schema(responses=TemplateSerializer)
    def get(self, request, template_id: int):
        return Response(TemplateSerializer(_template(request.user, template_id)).data)

    @extend_schema(request=OpenApiTypes.OBJECT, responses=TemplateSerializer)
    def patch(self, request, template_id: int):
        if not isinstance(request.data, dict):
            raise ApplicationError("send a JSON object")
        allowed = {"name", "kind", "description", "is_live", "fields"}
        unknown = set(request.data) - allowed
        if unknown:
            raise ApplicationError(f"cannot change {', '.join(sorted(unknown))}")
        template = template_update(
            template=_template(request.user, template_id),
            changes=dict(request.data),
            user=request.user,
        )
        return Response(TemplateSerializer(template).data)


class TemplateReferenceApi(APIView):
    """The blank reference page as PNG."""

    @extend_schema(responses={200: OpenApiTypes.BINARY})
    def get(self, request, template_id: int):
        template = _template(request.user, template_id)
        if not template.reference:
            raise NotFoundError("the template has no reference page")
        with template.reference.open("rb") as handle:
            return HttpResponse(handle.read(), content_type="image/png")


class TemplateExportApi(APIView):
    """The template as one JSON document (reference page included) for another installation."""

    permission_classes = [IsAdmin]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, template_id: int):
        template = _template(request.user, template_id)
        response = JsonResponse(template_export(template))
        response["Content-Disposition"] = (
            f'attachment; filename="template-{template.name_slug()}-v{template.version}.json"'
        )
        return response


class TemplateImportApi(APIView):
    """Create a template from an export (the next version when the name exists)."""

    permission_classes = [IsAdmin]
    parser_classes = [JSONParser]

    @extend_schema(request=OpenApiTypes.OBJECT, responses={201: TemplateSerializer})
    def post(self, request):
        template = template_import(request.data, created_by=request.user)
        return Response(TemplateSerializer(template).data, status=status.HTTP_201_CREATED)


class TemplateDetectApi(APIView):
    """The fields automatic mode finds on a blank page (multipart `reference`), not stored:
    the editor starts from them."""

    permission_classes = [IsAdmin]
    parser_classes = [MultiPartParser, FormParser]

    class DetectSerializer(serializers.Serializer):
        reference = serializers.FileField()

    @extend_schema(request={"multipart/form-data": DetectSerializer}, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        payload = self.DetectSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        image = reference_read(payload.validated_data["reference"].read())
        return Response(
            {
                "width": int(image.shape[1]),
                "height": int(image.shape[0]),
                "fields": fields_detected(image),
            }
        )


class TemplateTryApi(APIView):
    """Read a filled sample (multipart `file`) with the template, field by field; nothing is
    stored."""

    permission_classes = [IsAdmin]
    parser_classes = [MultiPartParser, FormParser]

    class TrySerializer(serializers.Serializer):
        file = serializers.FileField()

    @extend_schema(request={"multipart/form-data": TrySerializer}, responses=OpenApiTypes.OBJECT)
    def post(self, request, template_id: int):
        payload = self.TrySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        template = _template(request.user, template_id)
        return Response(template_try(template=template, data=payload.validated_data["file"].read()))
