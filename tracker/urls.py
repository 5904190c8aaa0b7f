"""Root URLs: the API under /api/v1/, the admin, and the health check."""

from django.contrib import admin
from django.urls import include, path

from incidents.api.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("incidents.api.urls")),
    path("admin/", admin.site.urls),
]

# Errors under /api/ are JSON like every other API answer.
handler400 = "incidents.api.views.bad_request"
handler404 = "incidents.api.views.not_found"
handler500 = "incidents.api.views.server_error"
