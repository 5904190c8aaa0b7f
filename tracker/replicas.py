"""Reads from PostgreSQL streaming replicas (API.md "Scale"), with read-your-writes.

`DATABASE_REPLICA_URLS` names replicas of the primary `DATABASE_URL`; they become the aliases `replica1`,
`replica2`, … Each request decides once, before the view runs, where its reads go (so one answer, its
ETag and its data version all come from one database): writes, the admin, and every request of a client in
the READ_YOUR_WRITES_SECONDS after its own write go to the primary; other reads to a healthy replica. A
replica is healthy when it answers and its replay lags at most REPLICA_MAX_LAG_SECONDS; each process checks
that at most every REPLICA_CHECK_SECONDS, not per request. A replica that fails during a read is marked
down and the read is answered again from the primary; with the primary down, public reads still answer
from replicas (writes answer 503, as any unreachable database does).
"""

import contextvars
import hashlib
import math
import random
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, OperationalError, connections

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PREFIX = "replica"

# Where this request's reads go: a replica's alias, or None for the primary.
_reads_from: contextvars.ContextVar[str | None] = contextvars.ContextVar("reads_from", default=None)


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith(PREFIX)]


class ReplicaRouter:
    """Reads where the request chose (the primary outside requests: commands, the services' own reads);
    writes and migrations on the primary only."""

    def db_for_read(self, model, **hints):
        return _reads_from.get()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, copied

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


# --- Health --------------------------------------------------------------------------------------

# The replay lag: none while the replica has replayed all it received (an idle primary, or a stopped one);
# else the age of the last transaction replayed.
LAG_SQL = (
    "SELECT CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0 "
    "ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END"
)


@dataclass
class ReplicaState:
    alias: str
    ok: bool = False
    lag_seconds: float | None = None
    checked_at: float = -math.inf


_states: dict[str, ReplicaState] = {}
_checking = threading.Lock()


def probe(alias: str) -> ReplicaState:
    """Ask a replica how far behind it is (in this thread's connection to it)."""
    state = ReplicaState(alias, checked_at=time.monotonic())
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(LAG_SQL)
            (lag,) = cursor.fetchone()
    except DatabaseError:
        connections[alias].close()
        return state
    state.lag_seconds = None if lag is None else round(float(lag), 3)
    state.ok = state.lag_seconds is not None and state.lag_seconds <= settings.REPLICA_MAX_LAG_SECONDS
    return state


def replica_states() -> list[ReplicaState]:
    """Every replica's state, probed again where the last probe is older than REPLICA_CHECK_SECONDS (by one
    thread at a time; the others use the last known state meanwhile)."""
    now = time.monotonic()
    stale = [
        a
        for a in replica_aliases()
        if now - _states.get(a, ReplicaState(a)).checked_at > settings.REPLICA_CHECK_SECONDS
    ]
    if stale and _checking.acquire(blocking=False):
        try:
            for alias in stale:
                _states[alias] = probe(alias)
        finally:
            _checking.release()
    return [_states.get(alias, ReplicaState(alias)) for alias in replica_aliases()]


def mark_down(alias: str) -> None:
    _states[alias] = ReplicaState(alias, checked_at=time.monotonic())


def chosen_replica() -> str | None:
    usable = [state.alias for state in replica_states() if state.ok]
    return random.choice(usable) if usable else None


# --- Per request ---------------------------------------------------------------------------------


def client_key(request) -> str | None:
    """Who the client is, as far as its own writes are concerned: its token or its session."""
    credential = request.META.get("HTTP_AUTHORIZATION") or request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    return hashlib.sha256(credential.encode()).hexdigest()[:32] if credential else None


def _pin_key(client: str) -> str:
    return f"read-your-writes:{client}"


def reads_on_primary(request, client: str | None) -> bool:
    if request.method not in SAFE_METHODS or request.path.startswith("/admin/"):
        return True
    return client is not None and cache.get(_pin_key(client)) is not None


class ReplicaReadMiddleware:
    """Chooses where a request's reads go; listed after `DatabaseUnavailableMiddleware`, so that a replica
    failing under a read is seen here (`process_exception`) before that answers 503."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.enabled = bool(replica_aliases())

    def __call__(self, request):
        if not self.enabled:
            return self.get_response(request)
        client = client_key(request)
        replica = None if reads_on_primary(request, client) else chosen_replica()
        token = _reads_from.set(replica)
        try:
            response = self.get_response(request)
            if replica is not None and getattr(request, "replica_failed", False):
                mark_down(replica)
                _reads_from.set(None)
                response = self.get_response(request)  # a read: answered again, from the primary
        finally:
            _reads_from.reset(token)
        if request.method not in SAFE_METHODS and client is not None:
            cache.set(_pin_key(client), 1, timeout=settings.READ_YOUR_WRITES_SECONDS)
        response["X-Served-By"] = replica or DEFAULT_DB_ALIAS
        return response

    def process_exception(self, request, exception):
        if _reads_from.get() is not None and isinstance(exception, OperationalError):
            request.replica_failed = True
