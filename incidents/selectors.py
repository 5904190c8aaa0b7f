"""Reads of the domain. Visibility is decided here, once, for every endpoint and format."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Case, CharField, Count, Exists, F, Func, Max, OuterRef, Q, QuerySet, Sum, Value, When
from django_countries import countries
from django_countries.fields import Country

from incidents import records
from incidents.choices import (
    ActorKind,
    DatePrecision,
    IncidentType,
    QuantityPrecision,
    RemovalReason,
    Status,
    Verification,
    WeaponCategory,
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
    WeaponItem,
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
    incidents = Incident.objects.all()
    return incidents if audience == EDITOR else incidents.filter(status=Status.PUBLISHED)


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
    filterset = filterset_class(data=params, queryset=incidents_visible(audience), editor=audience == EDITOR)
    if not filterset.is_valid():
        raise ValidationError({name: list(errors) for name, errors in filterset.errors.items()})
    return filterset.qs


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
    """Editors see every source; everybody else the sources cited by a published incident."""
    sources = Source.objects.all()
    if is_editor(user):
        return sources
    return sources.filter(Exists(Citation.objects.filter(source=OuterRef("pk"), incident__status=Status.PUBLISHED)))


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


# An incident's weapons, and how many of them are approximate or lower-bound counts ("about 35", "60+").
INCIDENT_WEAPONS = {"weapons": Sum("weapons_total"), "weapons_approximate": Sum("weapons_approximate")}
NOT_EXACT = ~Q(quantity_precision=QuantityPrecision.EXACT)


def country_summaries(incidents: QuerySet[Incident]) -> list[dict]:
    """One row per country of the given incidents: how many, how many weapons (and how many of those are
    approximate counts), the latest date."""
    rows = (
        incidents.order_by()
        .values("country")
        .annotate(incidents=Count("id"), latest_occurred_on=Max("occurred_on"), **INCIDENT_WEAPONS)
        .order_by("country")
    )
    return [
        {
            "code": row["country"],
            "name": Country(code=row["country"]).name,
            "incidents": row["incidents"],
            "weapons": row["weapons"] or 0,
            "weapons_approximate": row["weapons_approximate"] or 0,
            "latest_occurred_on": row["latest_occurred_on"],
        }
        for row in rows
    ]


STATS_KEYS = (
    "country",
    "year",
    "month",
    "incident_type",
    "verification",
    "weapon_category",
    "suspected_origin",
    "actor_kind",
)
TIME_KEYS = {"year", "month"}
NULL_LABELS = {"weapon_category": "No weapons", "suspected_origin": "No suspected origin", "actor_kind": "No actors"}


def incident_stats(*, incidents: QuerySet[Incident], group_by: str) -> dict:
    """Aggregates of API.md "Stats": one row per key, with how many incidents and weapons, and how many of
    those weapons are approximate or lower-bound counts (`weapons_approximate`).

    For the multi-valued keys (weapon_category, suspected_origin, actor_kind) an incident counts once under
    each key it has; `weapons` is the quantity under that key (for actor_kind: the weapons of the incidents
    linked to such an actor). Incidents with no value form the `null` row.
    """
    incidents = incidents.order_by()
    total = _weapons_counted(incidents.aggregate(incidents=Count("id"), **INCIDENT_WEAPONS))
    rows = _stats_rows(incidents, group_by, total)
    labels = _stats_labels(group_by)
    results = [
        {
            "key": None if row["key"] is None else str(row["key"]),
            "label": NULL_LABELS.get(group_by, "None")
            if row["key"] is None
            else labels.get(str(row["key"]), str(row["key"])),
            **_weapons_counted(row),
        }
        for row in rows
        if row["incidents"]
    ]
    if group_by in TIME_KEYS:
        results.sort(key=lambda row: row["key"])
    else:
        results.sort(key=lambda row: (-row["incidents"], row["key"] is None, row["key"] or ""))
    return {"group_by": group_by, "total": total, "results": results}


def _weapons_counted(row: dict) -> dict:
    return {
        "incidents": row["incidents"],
        "weapons": row["weapons"] or 0,
        "weapons_approximate": row["weapons_approximate"] or 0,
    }


def _stats_rows(incidents: QuerySet[Incident], group_by: str, total: dict) -> list[dict]:
    def grouped(queryset, key_expression, **weapons):
        # An incident is one row of its own table, but may have several weapons of one category.
        count = Count("id") if queryset.model is Incident else Count("incident_id", distinct=True)
        return list(queryset.annotate(key=key_expression).values("key").annotate(incidents=count, **weapons).order_by())

    def rest(queryset, key=None) -> dict:
        return {"key": key, **queryset.aggregate(incidents=Count("id"), **INCIDENT_WEAPONS)}

    if group_by in ("country", "incident_type", "verification"):
        return grouped(incidents, F(group_by), **INCIDENT_WEAPONS)
    if group_by == "year":
        return grouped(incidents, DatePart("occurred_on", "year"), **INCIDENT_WEAPONS)
    if group_by == "month":
        total["imprecise"] = incidents.filter(date_precision=DatePrecision.YEAR).count()
        precise = incidents.exclude(date_precision=DatePrecision.YEAR)
        return grouped(precise, DatePart("occurred_on", "month"), **INCIDENT_WEAPONS)
    weapons = WeaponItem.objects.filter(incident__in=incidents)
    quantities = {"weapons": Sum("quantity"), "weapons_approximate": Sum("quantity", filter=NOT_EXACT)}
    if group_by == "weapon_category":
        without = incidents.exclude(Exists(WeaponItem.objects.filter(incident=OuterRef("pk"))))
        none = {"key": None, "incidents": without.count(), "weapons": 0, "weapons_approximate": 0}
        return [*grouped(weapons, F("category"), **quantities), none]
    if group_by == "suspected_origin":
        with_origin = weapons.exclude(suspected_origin__isnull=True).exclude(suspected_origin="")
        has_origin = WeaponItem.objects.filter(incident=OuterRef("pk"), suspected_origin__isnull=False)
        without = incidents.exclude(Exists(has_origin.exclude(suspected_origin="")))
        return [*grouped(with_origin, F("suspected_origin"), **quantities), rest(without)]
    if group_by == "actor_kind":
        rows = [
            rest(
                incidents.filter(Exists(IncidentActor.objects.filter(incident=OuterRef("pk"), actor__kind=kind))), kind
            )
            for kind in ActorKind.values
        ]
        return [*rows, rest(incidents.exclude(Exists(IncidentActor.objects.filter(incident=OuterRef("pk")))))]
    raise ValueError(f"unknown group_by {group_by!r}")


class DatePart(Func):
    """A date's year ("2022") or month ("2022-10") as text, in the database's own functions: Django's
    ExtractYear and ExtractMonth call Python once per row on SQLite, which made the stats slow."""

    output_field = CharField()
    FORMATS = {"year": (4, "YYYY"), "month": (7, "YYYY-MM")}

    def __init__(self, expression, part: str):
        self.sqlite_length, self.postgresql_format = self.FORMATS[part]
        super().__init__(expression)

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django stores a date in SQLite as ISO text, "2022-10-30": its head is the part (cheaper than strftime).
        call = Func(*self.source_expressions, Value(1), Value(self.sqlite_length), function="substr")
        return call.as_sql(compiler, connection, **extra_context)

    def as_postgresql(self, compiler, connection, **extra_context):
        call = Func(*self.source_expressions, Value(self.postgresql_format), function="to_char")
        return call.as_sql(compiler, connection, **extra_context)


def _stats_labels(group_by: str) -> dict[str, str]:
    if group_by in ("country", "suspected_origin"):
        return {country.code: country.name for country in countries}
    enums = {
        "incident_type": IncidentType,
        "verification": Verification,
        "weapon_category": WeaponCategory,
        "actor_kind": ActorKind,
    }
    return dict(enums[group_by].choices) if group_by in enums else {}
