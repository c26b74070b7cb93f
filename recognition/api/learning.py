"""Continuous learning over REST (admins): retraining jobs, model versions, promotion, rollback,
and the dashboard's figures."""

from __future__ import annotations

from pathlib import Path

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from recognition.api.permissions import IsAdmin
from recognition.errors import NotFoundError
from recognition.models import ModelKind, ModelVersion, RetrainingJob, TrainingSample
from recognition.selectors.learning import (
    confidence_drift,
    production_accuracy,
    versions_side_by_side,
)
from recognition.services.model_versions import model_versions_builtin_ensure
from recognition.services.retraining import (
    model_version_promote,
    model_version_rollback,
    retraining_cancel,
    retraining_request,
)


class JobSerializer(serializers.ModelSerializer):
    base_version = serializers.CharField(source="base_version.version", default=None)
    candidate = serializers.CharField(source="candidate.version", default=None)
    candidate_id = serializers.IntegerField(source="candidate.pk", default=None)
    requested_by = serializers.CharField(source="requested_by.username", default=None)

    class Meta:
        model = RetrainingJob
        fields = [
            "id", "kind", "status", "trigger", "requested_by", "base_version", "candidate",
            "candidate_id", "config", "progress", "gate", "error", "cancel_requested",
            "created_at", "started_at", "finished_at",
        ]  # fmt: skip


class RetrainingApi(APIView):
    """GET: the latest jobs. POST {"kind": "digits"}: start a job now (409 when one runs)."""

    permission_classes = [IsAdmin]

    class RequestSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=ModelKind.choices, default=ModelKind.DIGITS)

    @extend_schema(responses=JobSerializer(many=True))
    def get(self, request):
        jobs = RetrainingJob.objects.select_related(
            "base_version", "candidate", "requested_by"
        ).order_by("-created_at")[:50]
        return Response(JobSerializer(jobs, many=True).data)

    @extend_schema(request=RequestSerializer, responses={202: JobSerializer})
    def post(self, request):
        payload = self.RequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        job = retraining_request(kind=payload.validated_data["kind"], user=request.user)
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


def _job(job_id: int) -> RetrainingJob:
    job = RetrainingJob.objects.filter(pk=job_id).first()
    if job is None:
        raise NotFoundError("no such job")
    return job


class RetrainingDetailApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(responses=JobSerializer)
    def get(self, request, job_id: int):
        return Response(JobSerializer(_job(job_id)).data)


class RetrainingCancelApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses=JobSerializer)
    def post(self, request, job_id: int):
        return Response(JobSerializer(retraining_cancel(job_id=_job(job_id).pk)).data)


def _version(version_id: int) -> ModelVersion:
    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is None:
        raise NotFoundError("no such model version")
    return version


class ModelVersionsApi(APIView):
    """Model versions with their metrics side by side (`?kind=digits|strings`)."""

    permission_classes = [IsAdmin]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        kind = request.query_params.get("kind", ModelKind.DIGITS)
        if kind not in ModelKind.values:
            kind = ModelKind.DIGITS
        model_versions_builtin_ensure()
        return Response(versions_side_by_side(kind))


class ModelVersionPromoteApi(APIView):
    """Make a candidate that passed its gate the active version."""

    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, version_id: int):
        version = model_version_promote(version=_version(version_id))
        return Response({"version": version.version, "is_active": version.is_active})


class ModelVersionRollbackApi(APIView):
    """Make an earlier version active again."""

    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request, version_id: int):
        version = model_version_rollback(version=_version(version_id))
        return Response({"version": version.version, "is_active": version.is_active})


class ModelVersionReportFileApi(APIView):
    """A candidate's report file (confusion matrix, error-reject curve) from its training run."""

    permission_classes = [IsAdmin]

    @extend_schema(responses={200: OpenApiTypes.BINARY})
    def get(self, request, version_id: int, name: str):
        version = _version(version_id)
        report = (version.card or {}).get("report", {})
        if name not in report.get("files", []):
            raise NotFoundError("no such report file")
        path = Path(version.onnx_path).parent / report["folder"] / name
        if not path.is_file():
            raise NotFoundError("the report file is missing")
        content_type = "image/png" if name.endswith(".png") else "application/json"
        return FileResponse(path.open("rb"), content_type=content_type)


class LearningDashboardApi(APIView):
    """Samples, production accuracy from reviews per day, and the confidence drift check."""

    permission_classes = [IsAdmin]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        samples = {
            kind: {
                "train": TrainingSample.objects.filter(kind=kind, is_holdout=False).count(),
                "holdout": TrainingSample.objects.filter(kind=kind, is_holdout=True).count(),
            }
            for kind in ModelKind.values
        }
        return Response(
            {
                "samples": samples,
                "production_accuracy": production_accuracy(),
                "drift": confidence_drift(),
            }
        )
