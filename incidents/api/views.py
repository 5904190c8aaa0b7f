"""Thin views: a queryset from the selectors, a serializer, permissions."""

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from rest_framework import viewsets

from incidents.api.serializers import IncidentSerializer
from incidents.selectors import incidents_visible_to, is_editor, with_record_relations


class EditorAwareMixin:
    """Tells the serializers whether the caller is an editor (for the `individual` privacy rule)."""

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["is_editor"] = is_editor(self.request.user)
        return context


class IncidentViewSet(EditorAwareMixin, viewsets.ReadOnlyModelViewSet):
    """Incidents with their sources, weapons, actors and tags. Non-editors see published incidents only."""

    serializer_class = IncidentSerializer

    def get_queryset(self):
        return with_record_relations(incidents_visible_to(self.request.user)).order_by("-occurred_on", "-id")


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
