"""Routes of /api/v1/."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from incidents.api.views import (
    ActorViewSet,
    ApiRootView,
    CountryListView,
    GeocodeView,
    IncidentViewSet,
    RemovalListView,
    SourceViewSet,
    StatsView,
)

router = SimpleRouter()
router.register("incidents", IncidentViewSet, basename="incident")
router.register("sources", SourceViewSet, basename="source")
router.register("actors", ActorViewSet, basename="actor")

urlpatterns = [
    path("", ApiRootView.as_view(), name="api-root"),
    path("countries/", CountryListView.as_view(), name="country-list"),
    path("geocode/", GeocodeView.as_view(), name="geocode"),
    path("stats/", StatsView.as_view(), name="stats"),
    # Before the router's routes: `incidents/<id>/` would otherwise take "deleted" for an id.
    path("incidents/deleted/", RemovalListView.as_view(), name="incident-deleted"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    *router.urls,
]
