from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

from recognition.api import learning, review, templates, views

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("auth/token/", obtain_auth_token, name="api-token"),
    path("me/", views.MeApi.as_view(), name="api-me"),
    path("documents/", views.DocumentListCreateApi.as_view(), name="api-documents"),
    path(
        "documents/<uuid:document_id>/",
        views.DocumentDetailApi.as_view(),
        name="api-document-detail",
    ),
    path(
        "documents/<uuid:document_id>/export",
        views.DocumentExportApi.as_view(),
        name="api-document-export",
    ),
    path(
        "documents/<uuid:document_id>/file",
        views.DocumentFileApi.as_view(),
        name="api-document-file",
    ),
    path("playground/read", views.PlaygroundReadApi.as_view(), name="api-playground-read"),
    path("batches/", views.BatchCreateApi.as_view(), name="api-batches"),
    path("batches/<uuid:batch_id>/", views.BatchDetailApi.as_view(), name="api-batch-detail"),
    path("batches/<uuid:batch_id>/export", views.BatchExportApi.as_view(), name="api-batch-export"),
    path("review/next/", review.ReviewNextApi.as_view(), name="api-review-next"),
    path("review/grid/", review.ReviewGridApi.as_view(), name="api-review-grid"),
    path("review/stats/", review.ReviewStatsApi.as_view(), name="api-review-stats"),
    path("fields/<int:field_id>/", review.FieldDetailApi.as_view(), name="api-field-detail"),
    path("fields/<int:field_id>/crop", review.FieldCropApi.as_view(), name="api-field-crop"),
    path(
        "fields/<int:field_id>/confirm/", review.FieldConfirmApi.as_view(), name="api-field-confirm"
    ),
    path(
        "fields/<int:field_id>/correct/", review.FieldCorrectApi.as_view(), name="api-field-correct"
    ),
    path(
        "fields/<int:field_id>/release/", review.FieldReleaseApi.as_view(), name="api-field-release"
    ),
    path("retraining/", learning.RetrainingApi.as_view(), name="api-retraining"),
    path(
        "retraining/<int:job_id>/",
        learning.RetrainingDetailApi.as_view(),
        name="api-retraining-job",
    ),
    path(
        "retraining/<int:job_id>/cancel/",
        learning.RetrainingCancelApi.as_view(),
        name="api-retraining-cancel",
    ),
    path("models/", learning.ModelVersionsApi.as_view(), name="api-models"),
    path(
        "models/<int:version_id>/promote/",
        learning.ModelVersionPromoteApi.as_view(),
        name="api-model-promote",
    ),
    path(
        "models/<int:version_id>/rollback/",
        learning.ModelVersionRollbackApi.as_view(),
        name="api-model-rollback",
    ),
    path(
        "models/<int:version_id>/report/<str:name>",
        learning.ModelVersionReportFileApi.as_view(),
        name="api-model-report",
    ),
    path("learning/", learning.LearningDashboardApi.as_view(), name="api-learning"),
    path("templates/", templates.TemplateListCreateApi.as_view(), name="api-templates"),
    path("templates/detect", templates.TemplateDetectApi.as_view(), name="api-template-detect"),
    path("templates/import", templates.TemplateImportApi.as_view(), name="api-template-import"),
    path(
        "templates/<int:template_id>/",
        templates.TemplateDetailApi.as_view(),
        name="api-template-detail",
    ),
    path(
        "templates/<int:template_id>/reference",
        templates.TemplateReferenceApi.as_view(),
        name="api-template-reference",
    ),
    path(
        "templates/<int:template_id>/export",
        templates.TemplateExportApi.as_view(),
        name="api-template-export",
    ),
    path(
        "templates/<int:template_id>/try",
        templates.TemplateTryApi.as_view(),
        name="api-template-try",
    ),
    path("fields/<int:field_id>/revert/", review.FieldRevertApi.as_view(), name="api-field-revert"),
]
