"""Root URLs: the API under /api/v1/, the dashboard, the admin, and the health check."""

from django.contrib import admin
from django.urls import include, path

from incidents.dashboard import dashboard, dashboard_embed
from tracker.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("incidents.api.urls")),
    path("dashboard/", dashboard, name="dashboard"),
    path("dashboard/embed/", dashboard_embed, name="dashboard-embed"),
    path("admin/", admin.site.urls),
]

# Errors under /api/ are JSON like every other API answer.
handler400 = "tracker.views.bad_request"
handler404 = "tracker.views.not_found"
handler500 = "tracker.views.server_error"
