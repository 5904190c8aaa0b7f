"""Reads of the domain. Visibility is decided here, once, for every endpoint and format."""

import datetime
import functools

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Case, Exists, F, Max, OuterRef, Q, QuerySet, Value, When
from django.http import QueryDict

from incidents import geo, records, rollups
from incidents.choices import (
    ActorKind,
    RemovalReason,
    Status,
)
from incidents.filters import IncidentFilterSet
from incidents.limits import MAX_ID
from incidents.models import (
    Actor,
    Citation,
    Incident,
    IncidentActor,
    IncidentRemoval,
    Source,
    TransferCitation,
)
from incidents.prepared import Prepared
from incidents.shapes import AUDIENCES, EDITOR, PUBLIC


def is_editor(user) -> bool:
    """Editors are superusers and members of the `editors` group (cached on the user object)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if not hasattr(user, "_is_editor"):
        user._is_editor = user.groups.filter(name=settings.EDITORS_GROUP).exists()
    return user._is_editor


def audience_of(user) -> str:
    """Which records a caller reads: the editors' (every status, full names) or the public's."""
    return EDITOR if is_editor(user) else PUBLIC


def incidents_visible_to(user) -> QuerySet[Incident]:
    """Editors see every incident; everybody else only published ones."""
    return incidents_visible(audience_of(user))


def incidents_visible(audience: str) -> QuerySet[Incident]:
    return Incident.objects.filter(incident_visibility(audience))


def incident_visibility(audience: str, path: str = "") -> Q:
    """The condition of `incidents_visible` on an incident reached by `path` (e.g. `weapon__incident__`)."""
    return Q() if audience == EDITOR else Q(**{f"{path}status": Status.PUBLISHED})


# An incident's version and stored record, if the audience may see it: one query, compiled once.
VISIBLE_RECORD = {
    audience: Prepared(
        f"visible record, {audience}",
        lambda ids, audience=audience: (
            incidents_visible(audience)
            .filter(pk=ids[0])
            .values_list(
                "version",
                "stored_record__version",
                "stored_record__codec",
                f"stored_record__{audience}_json",
                "stored_record__public_json",
            )
        ),
    )
    for audience in AUDIENCES
}


def visible_record(incident_id, audience: str) -> tuple[int, bytes] | None:
    """The version and the record (JSON bytes) of an incident as `audience` reads it; None when there is no
    such incident, or they may not see it. The stored record where it is current, else one built now."""
    try:
        incident_id = int(incident_id)
    except (TypeError, ValueError):
        return None  # not an id at all (the URL's pattern takes any text)
    if abs(incident_id) > MAX_ID:
        return None
    rows = VISIBLE_RECORD[audience].rows([incident_id])
    if not rows:
        return None
    version, stored_version, codec, chosen, public = rows[0]
    if stored_version == version and codec == records.CODEC:
        return version, bytes(chosen if chosen is not None else public)
    return version, records.stored_json([(incident_id, version)], audience)[0]


def incidents_filtered(params, *, audience: str, filterset_class=IncidentFilterSet) -> QuerySet[Incident]:
    """The incidents an audience sees that the query `params` select (API.md "Filters"), for every face: the
    API's list in every format, stats and countries, the export command, feeds and releases. A bad parameter
    raises ValidationError naming it (a 400 through the API, a CommandError in a command)."""
    return Selection(params, audience=audience, filterset_class=filterset_class).incidents


DEFAULT_ORDERING = ("-occurred_on", "-id")
# Filters the rollups answer (their dimensions); the incident type and verification only on incident rows.
ROLLUP_FILTERS = frozenset({"country", "occurred_after", "occurred_before", "incident_type", "verification", "status"})
INCIDENT_ROW_FILTERS = frozenset({"incident_type", "verification"})
# Filters the grid rollup answers (with `status`).
REGION_FILTERS = frozenset({"bbox", "lat", "lon", "radius_km"})
DATE_FILTERS = ("occurred_after", "occurred_before")
UNSELECTIVE = frozenset({"ordering"})  # cleaned with the filters, selects nothing


class Selection:
    """The incidents an audience sees that a query selects (API.md "Filters"), and the cheapest ways to count,
    page and aggregate them: from the rollups when the filters are their dimensions (`incidents.rollups`),
    from the grid rollup for a `bbox` or radius alone, else from the rows."""

    def __init__(self, params, *, audience: str, filterset_class=IncidentFilterSet):
        self.params, self.audience, self.filterset_class = params, audience, filterset_class
        self.filterset = self._filterset(params)
        self.cleaned = {
            name: value for name, value in self.filterset.form.cleaned_data.items() if value not in (None, "", [])
        }
        self.filters = set(self.cleaned) - UNSELECTIVE

    def _filterset(self, params, *, spatial_index: bool = True):
        filterset = self.filterset_class(
            data=params, queryset=incidents_visible(self.audience), editor=self.audience == EDITOR
        )
        filterset.spatial_index = spatial_index
        if not filterset.is_valid():
            raise ValidationError({name: list(errors) for name, errors in filterset.errors.items()})
        return filterset

    @functools.cached_property
    def incidents(self) -> QuerySet[Incident]:
        return self.filterset.qs

    def ordered(self) -> QuerySet[Incident]:
        return self.incidents if "ordering" in self.cleaned else self.incidents.order_by(*DEFAULT_ORDERING)

    def statuses(self) -> tuple[str, ...]:
        visible = Status.values if self.audience == EDITOR else [Status.PUBLISHED]
        wanted = self.cleaned.get("status")
        return tuple(status for status in visible if wanted is None or status in wanted)

    # --- Counting and paging

    def count(self) -> int:
        """How many incidents the query selects, from the rollups where they can tell."""
        split = self.rollup_scope()
        if split is not None:
            scope, edges = split
            return rollups.count(scope) + sum(edge.incidents.count() for edge in edges)
        region = geo.region_of(self.cleaned) if self.filters <= REGION_FILTERS | {"status"} else None
        counted = None if region is None else self.count_in_region(region)
        return counted if counted is not None else self.incidents.count()

    def count_in_region(self, region) -> int | None:
        """The incidents of a `bbox` or radius alone: the grid rollup's cells wholly inside the region, plus
        the incidents of the cells on its border, found by the spatial index and tested exactly."""
        bands = region.inner_cells()
        if bands is None:
            return None
        inside = rollups.inner_test(bands)
        border_ids = {
            pk
            for pk, latitude, longitude in self.in_border(region, bands).values_list("pk", "latitude", "longitude")
            if not inside(*geo.cell_of(geo.micro(longitude), geo.micro(latitude)))
        }
        return rollups.count_in_bands(self.statuses(), bands) + len(border_ids)

    def in_border(self, region, bands: list[tuple[int, int, int, int]]) -> QuerySet[Incident]:
        """The selected incidents of a `bbox` or radius alone that may lie outside the 0.01° cells of `bands`
        (candidates: the caller skips those inside them). Found by the spatial index over the border alone:
        the selection's own queryset would also ask it for the whole region."""
        incidents = incidents_visible(self.audience).filter(status__in=self.statuses())
        return incidents.filter(geo.WithinBoxes(geo.border_boxes(region, bands)), *region.exact())

    def page(self, offset: int, limit: int, count: int) -> list[tuple[int, int]]:
        """The (id, version) pairs of one page. Ordered by id, a page of many matches is found by walking the
        ids and testing each row, which costs (offset + limit) × rows / matches whatever the data's size;
        the database's own choice (an index on the filters, then sorting every match by id) grows with
        the matches."""
        ordering = tuple(self.cleaned.get("ordering") or DEFAULT_ORDERING)
        if ordering in (("id",), ("-id",)) and self._walk_is_cheaper(offset + limit, count):
            incidents = self._filterset(self.params, spatial_index=False).qs
            return walked_page(incidents.values_list("pk", "version")[offset : offset + limit])
        return list(self.ordered().values_list("pk", "version")[offset : offset + limit])

    def _walk_is_cheaper(self, rows_wanted: int, matches: int) -> bool:
        highest = Incident.objects.aggregate(highest=Max("pk"))["highest"] or 0
        return matches * matches > rows_wanted * highest

    # --- What the rollups answer

    def rollup_scope(self, *, incident_rows: bool = True) -> tuple[rollups.Scope, list["Selection"]] | None:
        """The rollups' part of this selection (whole months), and the selections of the days at either end
        of a date range that are not whole months (answered from the rows); None if the filters are not the
        rollups' dimensions (incident type and verification are, on `incident_rows` only)."""
        allowed = ROLLUP_FILTERS if incident_rows else ROLLUP_FILTERS - INCIDENT_ROW_FILTERS
        if not self.filters <= allowed:
            return None
        after, before = self.cleaned.get("occurred_after"), self.cleaned.get("occurred_before")
        periods, edge_ranges = month_split(after, before)
        edges = []
        for start, end in edge_ranges:
            params = QueryDict(mutable=True)
            params.update({name: value for name, value in self.params.items() if name not in DATE_FILTERS})
            params.update({"occurred_after": start.isoformat(), "occurred_before": end.isoformat()})
            edges.append(Selection(params, audience=self.audience, filterset_class=self.filterset_class))

        def chosen(name: str) -> tuple | None:
            return tuple(self.cleaned[name]) if name in self.cleaned else None

        scope = rollups.Scope(
            statuses=self.statuses(),
            countries=chosen("country"),
            periods=periods,
            incident_types=chosen("incident_type"),
            verifications=chosen("verification"),
        )
        return scope, edges


def month_split(
    after: datetime.date | None, before: datetime.date | None
) -> tuple[tuple[int, int] | None, list[tuple[datetime.date, datetime.date]]]:
    """Split the dates [after, before] into whole months (a rollup `period` range; None for no bound at all)
    and the days at either end that do not fill a month."""
    if after is None and before is None:
        return None, []
    first = after if after is None or after.day == 1 else _month_start(after, 1)
    last = None if before is None else _month_start(before, 0 if _is_month_end(before) else -1)
    if first is not None and last is not None and first > last:
        return rollups.NO_PERIODS, [(after, before)]
    edges = []
    if after is not None and after.day != 1:
        edges.append((after, _month_start(after, 1) - datetime.timedelta(days=1)))
    if before is not None and not _is_month_end(before):
        edges.append((_month_start(before, 0), before))
    return rollups.periods_between(first, last), edges


def _month_start(day: datetime.date, months_later: int) -> datetime.date:
    month = day.year * 12 + day.month - 1 + months_later
    return datetime.date(month // 12, month % 12 + 1, 1)


def _is_month_end(day: datetime.date) -> bool:
    return (day + datetime.timedelta(days=1)).day == 1


def walked_page(page: QuerySet) -> list[tuple]:
    """A page ordered by id, read by walking the ids. PostgreSQL's planner, knowing how many rows match,
    chooses that itself; SQLite's, without statistics of ranges, prefers any index on a filter and then
    sorts every match: told `NOT INDEXED`, it walks the table in id order and stops at the page's end."""
    if connection.vendor != "sqlite":
        return list(page)
    sql, params = page.query.get_compiler(using=page.db).as_sql()
    table = f'FROM "{Incident._meta.db_table}"'
    if table not in sql:
        return list(page)
    with connection.cursor() as cursor:
        cursor.execute(sql.replace(table, f"{table} NOT INDEXED", 1), params)
        return cursor.fetchall()


def removals_visible_to(user) -> QuerySet[IncidentRemoval]:
    """The sync feed: incidents that left the caller's view. Editors see deletions and merges; others also
    see incidents that stopped being published (unless they are published again), and never drafts."""
    removals = IncidentRemoval.objects.order_by("removed_at", "id")
    if is_editor(user):
        return removals.exclude(reason=RemovalReason.UNPUBLISHED).annotate(visible_merged_into=F("merged_into"))
    published = Incident.objects.filter(status=Status.PUBLISHED)
    target_visible = Exists(published.filter(pk=OuterRef("merged_into")))
    return (
        removals.filter(was_published=True)
        .exclude(Exists(published.filter(pk=OuterRef("incident_id"))))
        .annotate(visible_merged_into=Case(When(target_visible, then=F("merged_into")), default=None))
    )


def merge_of(incident_id, user) -> IncidentRemoval | None:
    """The merge that removed this id, if the caller could see the merged incident (else None: a 404). Its
    `visible_merged_into` names the incident it now lives in only if the caller may see that one too: the
    id of a draft is not shown to the public, here as in the sync feed."""
    try:
        incident_id = int(incident_id)
    except (TypeError, ValueError):
        return None  # not an id at all (the URL's pattern takes any text)
    if abs(incident_id) > MAX_ID:
        return None
    merges = removals_visible_to(user).filter(incident_id=incident_id, reason=RemovalReason.MERGED)
    return merges.order_by("-removed_at", "-id").first()


def sources_visible_to(user) -> QuerySet[Source]:
    """Editors see every source; everybody else the sources cited by a published incident or a transfer."""
    sources = Source.objects.all()
    if is_editor(user):
        return sources
    cited_by_incident = Exists(Citation.objects.filter(source=OuterRef("pk"), incident__status=Status.PUBLISHED))
    cited_by_transfer = Exists(TransferCitation.objects.filter(source=OuterRef("pk")))  # public once cited
    return sources.filter(cited_by_incident | cited_by_transfer)


def actors_visible_to(user) -> QuerySet[Actor]:
    """Editors see every actor, by name; everybody else the actors linked to a published incident, in
    `actor_order` (individuals after the named actors, by id: their names decide nothing)."""
    actors = Actor.objects.all()
    if is_editor(user):
        return actors.order_by("name", "id")
    hidden = Q(kind=ActorKind.INDIVIDUAL)
    return (
        actors.filter(Exists(IncidentActor.objects.filter(actor=OuterRef("pk"), incident__status=Status.PUBLISHED)))
        .alias(hidden=Case(When(hidden, then=Value(1)), default=Value(0)))
        .alias(shown_name=Case(When(hidden, then=Value("")), default=F("name")))
        .order_by("hidden", "shown_name", "id")
    )
