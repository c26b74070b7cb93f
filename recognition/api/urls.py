from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

from recognition.api import review, views

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
    path("fields/<int:field_id>/revert/", review.FieldRevertApi.as_view(), name="api-field-revert"),
]
