from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

from recognition.api import views

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
]
