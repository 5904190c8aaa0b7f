"""Cache headers for every GET of the API (API.md "HTTP behaviour"), in one place."""

VARY = "Accept, Authorization, Cookie, Origin"


class ApiCacheHeadersMiddleware:
    """Anonymous reads may be cached by anyone for a minute; authenticated ones only privately, revalidated.

    Runs outermost, after DRF has authenticated the caller (it sets the user on the request) and after the
    CORS and session middleware have added their own Vary entries."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/") and request.method in ("GET", "HEAD"):
            user = getattr(request, "user", None)
            authenticated = bool(getattr(user, "is_authenticated", False))
            response["Cache-Control"] = "private, no-cache" if authenticated else "public, max-age=60"
            response["Vary"] = VARY
        return response
