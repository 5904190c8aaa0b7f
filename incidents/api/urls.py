"""Routes of /api/v1/."""

import re

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from incidents.api.views import (
    ActorViewSet,
    ApiRootView,
    CountryListView,
    GeocodeView,
    IncidentFeedView,
    IncidentViewSet,
    ReleaseFileView,
    ReleaseViewSet,
    RemovalListView,
    SerialTraceView,
    SourceViewSet,
    StatsView,
    TransferViewSet,
)
from incidents.releases import FILES, VERSION_PATTERN

router = SimpleRouter()
router.register("incidents", IncidentViewSet, basename="incident")
router.register("sources", SourceViewSet, basename="source")
router.register("actors", ActorViewSet, basename="actor")
router.register("releases", ReleaseViewSet, basename="release")
router.register("transfers", TransferViewSet, basename="transfer")

urlpatterns = [
    path("", ApiRootView.as_view(), name="api-root"),
    path("countries/", CountryListView.as_view(), name="country-list"),
    path("geocode/", GeocodeView.as_view(), name="geocode"),
    path("stats/", StatsView.as_view(), name="stats"),
    path("weapons/trace/", SerialTraceView.as_view(), name="weapon-trace"),
    # Before the router's routes: `incidents/<id>/` would otherwise take "deleted" for an id.
    path("incidents/deleted/", RemovalListView.as_view(), name="incident-deleted"),
    path("incidents/feed.atom", IncidentFeedView.as_view(), name="incident-feed"),
    re_path(
        rf"^releases/(?P<version>{VERSION_PATTERN})/(?P<name>{'|'.join(re.escape(name) for name in FILES)})$",
        ReleaseFileView.as_view(),
        name="release-file",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    *router.urls,
]
