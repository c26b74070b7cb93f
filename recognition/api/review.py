"""The review queue over REST: next item, confirm, correct, release, revert, grid, figures."""

from __future__ import annotations

from functools import lru_cache

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from recognition.api.permissions import IsAdmin, IsReviewer
from recognition.errors import NotFoundError
from recognition.models import Field, FieldKind, FieldReview
from recognition.selectors.documents import documents_visible_to
from recognition.selectors.review import review_stats
from recognition.services.images import png_bytes
from recognition.services.pipeline import page_image_load
from recognition.services.review import (
    Effort,
    field_revert,
    field_review,
    grid_items,
    grid_submit,
    review_next,
    review_release,
)
from recognition.services.routing import field_threshold


class FieldReviewSerializer(serializers.ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.username")
    model_version = serializers.CharField(source="model_version.version", default=None)

    class Meta:
        model = FieldReview
        fields = [
            "id", "action", "old_value", "new_value", "old_status", "new_status", "reviewer",
            "created_at", "seconds_spent", "keystrokes", "mode", "model_version", "sampled",
        ]  # fmt: skip


class ReviewItemSerializer(serializers.ModelSerializer):
    """A field as the review screen needs it: the reading, why it is here, where it is."""

    document = serializers.UUIDField(source="page.document_id")
    document_name = serializers.CharField(source="page.document.original_name")
    page = serializers.IntegerField(source="page.index")
    page_width = serializers.IntegerField(source="page.width")
    page_height = serializers.IntegerField(source="page.height")
    threshold = serializers.SerializerMethodField()
    model_version = serializers.CharField(source="model_version.version", default=None)
    crop_url = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()

    class Meta:
        model = Field
        fields = [
            "id", "document", "document_name", "page", "page_width", "page_height", "index",
            "name", "kind", "bbox", "boxes", "value", "machine_value", "confidence", "status",
            "review_reason", "sampled", "characters", "n_best", "threshold", "revision",
            "claimed_until", "model_version", "crop_url", "page_url",
        ]  # fmt: skip

    def get_threshold(self, field: Field) -> float | None:
        return field_threshold(field)

    def get_crop_url(self, field: Field) -> str:
        return reverse("api-field-crop", args=[field.pk])

    def get_page_url(self, field: Field) -> str:
        return reverse("page-image", args=[field.page.document_id, field.page.index])


class EffortSerializer(serializers.Serializer):
    revision = serializers.IntegerField(min_value=0)
    seconds_spent = serializers.FloatField(min_value=0, max_value=86400, required=False)
    keystrokes = serializers.IntegerField(min_value=0, max_value=100000, required=False)
    mode = serializers.ChoiceField(choices=["field", "api"], default="api")

    def effort(self) -> Effort:
        data = self.validated_data
        return Effort(data.get("seconds_spent"), data.get("keystrokes"), data["mode"])


class CorrectionSerializer(EffortSerializer):
    value = serializers.CharField(allow_blank=True, trim_whitespace=True, max_length=64)


def _item(field: Field, request) -> dict:
    field = Field.objects.select_related(
        "page", "page__document", "model_version", "template_field"
    ).get(pk=field.pk)
    return ReviewItemSerializer(field, context={"request": request}).data


class ReviewNextApi(APIView):
    """Claim the next field to review (lowest confidence, then oldest); 204 when the queue is
    empty. `skip` lists fields passed over in this sitting."""

    permission_classes = [IsReviewer]

    @extend_schema(
        parameters=[
            OpenApiParameter("skip", str, description="comma-separated field ids"),
            OpenApiParameter("kind", str, enum=FieldKind.values),
        ],
        responses={200: ReviewItemSerializer, 204: None},
    )
    def get(self, request):
        skip = [s for s in request.query_params.get("skip", "").split(",") if s.strip().isdigit()]
        kind = request.query_params.get("kind")
        field = review_next(
            reviewer=request.user, skip=skip, kind=kind if kind in FieldKind.values else None
        )
        if field is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(_item(field, request))


class FieldDetailApi(APIView):
    """One field with its review history."""

    permission_classes = [IsReviewer]

    @extend_schema(responses=ReviewItemSerializer)
    def get(self, request, field_id: int):
        field = Field.objects.filter(pk=field_id).first()
        if field is None:
            raise NotFoundError("no such field")
        body = _item(field, request)
        body["reviews"] = FieldReviewSerializer(
            field.reviews.select_related("reviewer", "model_version"), many=True
        ).data
        return Response(body)


class FieldConfirmApi(APIView):
    permission_classes = [IsReviewer]

    @extend_schema(request=EffortSerializer, responses=ReviewItemSerializer)
    def post(self, request, field_id: int):
        payload = EffortSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        review = field_review(
            field_id=field_id,
            reviewer=request.user,
            revision=payload.validated_data["revision"],
            value=None,
            effort=payload.effort(),
        )
        return Response(_item(review.field, request))


class FieldCorrectApi(APIView):
    permission_classes = [IsReviewer]

    @extend_schema(request=CorrectionSerializer, responses=ReviewItemSerializer)
    def post(self, request, field_id: int):
        payload = CorrectionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        review = field_review(
            field_id=field_id,
            reviewer=request.user,
            revision=payload.validated_data["revision"],
            value=payload.validated_data["value"],
            effort=payload.effort(),
        )
        return Response(_item(review.field, request))


class FieldReleaseApi(APIView):
    """Give a claimed field back to the queue (skip)."""

    permission_classes = [IsReviewer]

    @extend_schema(request=None, responses={204: None})
    def post(self, request, field_id: int):
        review_release(field_id=field_id, reviewer=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FieldRevertApi(APIView):
    """Undo the field's last review (admins only)."""

    permission_classes = [IsAdmin]

    class RevertSerializer(serializers.Serializer):
        revision = serializers.IntegerField(min_value=0)

    @extend_schema(request=RevertSerializer, responses=ReviewItemSerializer)
    def post(self, request, field_id: int):
        payload = self.RevertSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        review = field_revert(
            field_id=field_id, admin=request.user, revision=payload.validated_data["revision"]
        )
        return Response(_item(review.field, request))


class FieldCropApi(APIView):
    """The field's crop as PNG (or one box of a comb field with `?box=N`), for those who may
    see its document."""

    @extend_schema(parameters=[OpenApiParameter("box", int)], responses={200: OpenApiTypes.BINARY})
    def get(self, request, field_id: int):
        field = (
            Field.objects.select_related("page")
            .filter(pk=field_id, page__document__in=documents_visible_to(request.user))
            .first()
        )
        if field is None:
            raise NotFoundError("no such field")
        box = request.query_params.get("box")
        if box is None:
            if not field.crop:
                raise NotFoundError("the field has no crop")
            with field.crop.open("rb") as handle:
                return HttpResponse(handle.read(), content_type="image/png")
        if not box.isdigit() or int(box) >= len(field.boxes):
            raise NotFoundError("no such box")
        x, y, w, h = (int(v) for v in field.boxes[int(box)]["bbox"])
        image = _page_image(field.page.pk, field.page.image.name)
        pad = max(2, round(0.1 * max(w, h)))
        crop = image[max(0, y - pad) : y + h + pad, max(0, x - pad) : x + w + pad]
        return HttpResponse(png_bytes(crop), content_type="image/png")


@lru_cache(maxsize=8)
def _page_image(page_id: int, image_name: str):
    """A page decoded once for the many box crops a grid screen asks for (a settled page's image
    never changes; the file name is part of the key all the same)."""
    from recognition.models import Page

    return page_image_load(Page.objects.get(pk=page_id))


class GridItemSerializer(serializers.Serializer):
    field = serializers.IntegerField()
    revision = serializers.IntegerField()
    position = serializers.IntegerField()
    digit = serializers.CharField()


class ReviewGridApi(APIView):
    """Grid review: doubtful digits the model read as the same digit (GET), and one save for the
    whole screen (POST)."""

    permission_classes = [IsReviewer]

    class GridSubmitSerializer(serializers.Serializer):
        items = GridItemSerializer(many=True, allow_empty=False)
        seconds_spent = serializers.FloatField(min_value=0, required=False)
        keystrokes = serializers.IntegerField(min_value=0, required=False)

    @extend_schema(
        parameters=[
            OpenApiParameter("digit", str, enum=list("0123456789")),
            OpenApiParameter("limit", int),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request):
        digit = request.query_params.get("digit")
        if digit is not None and (len(digit) != 1 or not digit.isdigit()):
            digit = None
        try:
            limit = max(1, min(200, int(request.query_params.get("limit", 48))))
        except ValueError:
            limit = 48
        items = grid_items(reviewer=request.user, digit=digit, limit=limit)
        return Response(
            {
                "items": [
                    {
                        "field": item.field_id,
                        "revision": item.revision,
                        "position": item.position,
                        "digit": item.digit,
                        "confidence": round(item.confidence, 4),
                        "crop_url": f"{reverse('api-field-crop', args=[item.field_id])}"
                        f"?box={item.box}",
                    }
                    for item in items
                ]
            }
        )

    @extend_schema(request=GridSubmitSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        payload = self.GridSubmitSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        result = grid_submit(
            reviewer=request.user,
            items=data["items"],
            seconds_spent=data.get("seconds_spent"),
            keystrokes=data.get("keystrokes"),
        )
        return Response(result)


class ReviewStatsApi(APIView):
    """Straight-through rate, queue depth and age, reviewer speed, keystrokes per field, and the
    measured error of auto-accepted fields."""

    permission_classes = [IsReviewer]

    @extend_schema(parameters=[OpenApiParameter("since_hours", int)], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        try:
            hours = max(1, min(24 * 90, int(request.query_params.get("since_hours", 24))))
        except ValueError:
            hours = 24
        return Response(review_stats(since_hours=hours))
