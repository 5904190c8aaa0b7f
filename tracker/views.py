"""The project's own views: the health check, and error pages that are JSON under /api/."""

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from tracker.replicas import replica_aliases, replica_states


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
    """Liveness and database reachability, for load balancers; never redirected. With replicas, each one's
    state too, and 200 while reads can be served (the primary down: "degraded", writes answer 503)."""
    primary_ok = _answers(connection)
    body = {"status": "ok" if primary_ok else "error", "database": "ok" if primary_ok else "unreachable"}
    readable = primary_ok
    if replica_aliases():
        # A replica is ok when it serves reads: healthy, or (the primary down) any standby that answers.
        states = [(state, state.ok or (not primary_ok and state.answering)) for state in replica_states()]
        body["replicas"] = [{"alias": s.alias, "ok": ok, "lag_seconds": s.lag_seconds} for s, ok in states]
        readable = primary_ok or any(ok for _, ok in states)
        if readable and not primary_ok:
            body["status"] = "degraded"
    return JsonResponse(body, status=200 if readable else 503)


def _answers(database) -> bool:
    try:
        with database.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        database.close()
        return False
    return True
