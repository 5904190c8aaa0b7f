"""Throttling (API.md "HTTP behaviour"): per client, counted in the default cache, which every worker
shares (a file cache on one machine by default, Redis in production; never the SQLite database).

The rates are read from the settings on each request rather than once at import (as DRF's classes do),
so a deployment's environment and the tests' settings both take effect."""

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class AnonymousThrottle(AnonRateThrottle):
    """Clients without credentials, by address (behind `NUM_PROXIES` proxies, from X-Forwarded-For)."""

    def get_rate(self) -> str:
        return settings.ANON_THROTTLE_RATE


class AuthenticatedThrottle(UserRateThrottle):
    """Clients with credentials, by user."""

    def get_rate(self) -> str:
        return settings.USER_THROTTLE_RATE
