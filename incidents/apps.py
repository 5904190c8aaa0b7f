from corsheaders.signals import check_request_enabled
from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Arms-diversion incidents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from incidents import history  # noqa: F401  (connects the history signal)
        from incidents.geocoding import check_geocoder_settings

        check_geocoder_settings()  # a networked geocoder its provider would refuse stops the start
        check_request_enabled.connect(cors_for_safe_api_reads)


def cors_for_safe_api_reads(sender, request, **kwargs) -> bool:
    """CORS for reads of the API only: GET, HEAD and the preflight OPTIONS."""
    return request.path.startswith("/api/") and request.method in ("GET", "HEAD", "OPTIONS")
