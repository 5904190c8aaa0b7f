from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Arms-diversion incidents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from incidents import history  # noqa: F401  (connects the history signal)
        from incidents.geocoding import check_geocoder_settings

        check_geocoder_settings()  # a networked geocoder its provider would refuse stops the start
