from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from recognition.views import documents, learning, playground, review, templates
from recognition.views.health import healthz
from recognition.views.pages import home

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", home, name="home"),
    path("upload/", documents.upload_page, name="upload"),
    path("documents/", documents.documents_page, name="documents"),
    path("documents/<uuid:document_id>/", documents.document_page, name="document"),
    path(
        "documents/<uuid:document_id>/delete/",
        documents.document_delete_page,
        name="document-delete",
    ),
    path(
        "documents/<uuid:document_id>/pages/<int:index>.png",
        documents.page_image,
        name="page-image",
    ),
    path("playground/", playground.playground_page, name="playground"),
    path("review/", review.review_page, name="review"),
    path("review/grid/", review.grid_page, name="review-grid"),
    path("review/figures/", review.stats_page, name="review-stats"),
    path("learning/", learning.learning_page, name="learning"),
    path("templates/", templates.templates_page, name="templates"),
    path("templates/new/", templates.template_new_page, name="template-new"),
    path("templates/<int:template_id>/", templates.template_edit_page, name="template-edit"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="registration/login.html"),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("recognition.api.urls")),
]
