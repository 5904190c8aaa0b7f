"""Reads of the domain. Visibility is decided here, once, for every endpoint and format."""

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from incidents.choices import Status
from incidents.models import Actor, Citation, Incident


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
