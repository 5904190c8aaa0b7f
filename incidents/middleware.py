"""Cache headers for every GET of the API (API.md "HTTP behaviour"), in one place."""

import logging

from django.conf import settings
from django.db import OperationalError
from django.http import JsonResponse

logger = logging.getLogger(__name__)

VARY = "Accept, Authorization, Cookie, Origin"


class ApiCacheHeadersMiddleware:
    """Anonymous reads may be cached by anyone for a minute; authenticated ones only privately, revalidated;
    errors by nobody.

    Runs outermost, after DRF has authenticated the caller (it sets the user on the request) and after the
    CORS and session middleware have added their own Vary entries."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/") and request.method in ("GET", "HEAD"):
            user = getattr(request, "user", None)
            authenticated = bool(getattr(user, "is_authenticated", False))
            if "Cache-Control" in response:
                pass  # the view knows better (a release's files never change)
            elif response.status_code not in (200, 304):
                # An error is about this client (its 429, its bad query) or this moment (a 503): no shared
                # cache may hand it to anybody else.
                response["Cache-Control"] = "no-store"
            else:
                response["Cache-Control"] = "private, no-cache" if authenticated else "public, max-age=60"
            response["Vary"] = VARY
        return response


class BodySizeLimitMiddleware:
    """A request body over the API's limit answers 413 in JSON before it is read (API.md "HTTP behaviour":
    1 MB, 10 MB for `incidents/import/`). Django itself would answer a body over its own limit with an HTML
    400, and DRF's parsers read the stream without that limit at all."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            limit = settings.MAX_IMPORT_BODY_BYTES if request.path == IMPORT_PATH else settings.MAX_BODY_BYTES
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return too_large(limit)
        # A body sent without a length (chunked) is not read at all by Django's WSGI request.
        return self.get_response(request)


IMPORT_PATH = "/api/v1/incidents/import/"


def too_large(limit: int) -> JsonResponse:
    return JsonResponse({"detail": f"The request body is larger than {limit // (1024 * 1024)} MB."}, status=413)


class DatabaseUnavailableMiddleware:
    """The database unreachable (or locked beyond the busy timeout) answers 503 in JSON under /api/, with
    Retry-After, rather than a 500: the request may well succeed a moment later."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if request.path.startswith("/api/") and isinstance(exception, OperationalError):
            logger.error("Database unavailable for %s: %s", request.path, exception)
            response = JsonResponse({"detail": "The database is unavailable; try again shortly."}, status=503)
            response["Retry-After"] = "5"
            return response
        return None
