"""The project's own views: the health check, and error pages that are JSON under /api/."""

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


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
