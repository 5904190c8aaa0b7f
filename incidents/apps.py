from corsheaders.signals import check_request_enabled
from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Arms-diversion incidents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from incidents import changesets, rollups  # noqa: F401  (connect the history and record-deletion signals)
        from incidents.geocoding import check_geocoder_settings

        check_geocoder_settings()  # a networked geocoder its provider would refuse stops the start
        check_request_enabled.connect(cors_for_safe_api_reads)


def cors_for_safe_api_reads(sender, request, **kwargs) -> bool:
    """CORS for reads of the API only (GET, HEAD and the preflight OPTIONS), from the allowed origins.

    django-cors-headers lets this signal both enable CORS and admit an origin, so it checks both."""
    from django.conf import settings

    if not (request.path.startswith("/api/") and request.method in ("GET", "HEAD", "OPTIONS")):
        return False
    return settings.CORS_ALLOW_ALL_ORIGINS or request.headers.get("Origin") in settings.CORS_ALLOWED_ORIGINS
