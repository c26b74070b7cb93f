from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from recognition.views.health import healthz
from recognition.views.pages import home

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="registration/login.html"),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("recognition.api.urls")),
]
