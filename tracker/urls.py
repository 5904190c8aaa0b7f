"""Root URLs: the API under /api/v1/, the admin, and the health check."""

from django.contrib import admin
from django.urls import include, path

from incidents.api.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("incidents.api.urls")),
    path("admin/", admin.site.urls),
]
