"""Reads of the domain. Visibility is decided here, once, for every endpoint and format."""

from django.conf import settings
from django.db.models import Count, Exists, Max, OuterRef, Prefetch, QuerySet, Sum
from django_countries.fields import Country

from incidents.choices import Status
from incidents.models import Actor, Citation, Incident, IncidentActor, Source


def is_editor(user) -> bool:
    """Editors are superusers and members of the `editors` group (cached on the user object)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if not hasattr(user, "_is_editor"):
        user._is_editor = user.groups.filter(name=settings.EDITORS_GROUP).exists()
    return user._is_editor


def incidents_visible_to(user) -> QuerySet[Incident]:
    """Editors see every incident; everybody else only published ones."""
    incidents = Incident.objects.all()
    if is_editor(user):
        return incidents
    return incidents.filter(status=Status.PUBLISHED)


def with_record_relations(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    """Fetch everything the full record shows in a fixed number of queries, whatever the page size."""
    return incidents.prefetch_related(
        "weapons",
        Prefetch("citations", queryset=Citation.objects.select_related("source").order_by("id")),
        Prefetch("actors", queryset=Actor.objects.order_by("name", "id")),
        "tags",
    )


def sources_visible_to(user) -> QuerySet[Source]:
    """Editors see every source; everybody else the sources cited by a published incident."""
    sources = Source.objects.all()
    if is_editor(user):
        return sources
    return sources.filter(Exists(Citation.objects.filter(source=OuterRef("pk"), incident__status=Status.PUBLISHED)))


def actors_visible_to(user) -> QuerySet[Actor]:
    """Editors see every actor; everybody else the actors linked to a published incident."""
    actors = Actor.objects.all()
    if is_editor(user):
        return actors
    return actors.filter(Exists(IncidentActor.objects.filter(actor=OuterRef("pk"), incident__status=Status.PUBLISHED)))


def country_summaries(incidents: QuerySet[Incident]) -> list[dict]:
    """One row per country of the given incidents: how many, how many weapons, the latest date."""
    rows = (
        incidents.order_by()
        .values("country")
        .annotate(incidents=Count("id"), weapons=Sum("weapons_total"), latest_occurred_on=Max("occurred_on"))
        .order_by("country")
    )
    return [
        {
            "code": row["country"],
            "name": Country(code=row["country"]).name,
            "incidents": row["incidents"],
            "weapons": row["weapons"] or 0,
            "latest_occurred_on": row["latest_occurred_on"],
        }
        for row in rows
    ]
