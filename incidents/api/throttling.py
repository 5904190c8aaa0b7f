"""Throttling (API.md "HTTP behaviour"): per client, counted in the default cache, which every worker
shares (a file cache on one machine by default, Redis in production; never the SQLite database).

The rates are read from the settings on each request rather than once at import (as DRF's classes do),
so a deployment's environment and the tests' settings both take effect. A rate of `off` turns a throttle off
(benchmarks measure the service, not the throttle)."""

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class CountedThrottle:
    """A client's requests counted with the cache's `incr` in a window that opens with its first request:
    atomic on Redis (INCR) and on the default disk cache (one SQLite transaction), so concurrent workers never
    both take a client's last request. (DRF's own classes read a list and write it back: a race. Django's file
    and local-memory caches emulate `incr` the same way, so there the count is best-effort.)"""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = self.timer()
        self.cache.add(f"{key}:opened", self.now, timeout=self.duration)
        self.cache.add(key, 0, timeout=self.duration)
        try:
            count = self.cache.incr(key)
        except ValueError:  # the window closed between the two calls
            self.cache.set(key, count := 1, timeout=self.duration)
        if count == 1:
            # Django's Redis `incr` checks the key, then INCRs: a key expiring in between comes back without
            # an expiry, which would throttle this client for good. The window's first request sets it.
            self.cache.touch(key, self.duration)
        self.opened = self.cache.get(f"{key}:opened", self.now)
        return count <= self.num_requests

    def wait(self):
        return max(1.0, self.opened + self.duration - self.now)


class AnonymousThrottle(CountedThrottle, AnonRateThrottle):
    """Clients without credentials, by address (behind `NUM_PROXIES` proxies, from X-Forwarded-For)."""

    def get_rate(self) -> str | None:
        return _rate(settings.ANON_THROTTLE_RATE)


class AuthenticatedThrottle(CountedThrottle, UserRateThrottle):
    """Clients with credentials, by user. (DRF's class would also count anonymous clients at this rate.)"""

    def get_rate(self) -> str | None:
        return _rate(settings.USER_THROTTLE_RATE)

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)


class CountedTokenAuthentication(TokenAuthentication):
    """Token auth whose failures count against the anonymous rate: guessing tokens costs what any anonymous
    request costs, and past the rate answers 429 like them (API.md "HTTP behaviour")."""

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            # The request is anonymous while it is counted (asking `request.user` now would authenticate again).
            request._user, request._auth = AnonymousUser(), None
            throttle = AnonymousThrottle()
            if not throttle.allow_request(request, None):
                raise Throttled(throttle.wait()) from None
            raise


def _rate(value: str) -> str | None:
    return None if value.strip().lower() in ("", "off") else value
