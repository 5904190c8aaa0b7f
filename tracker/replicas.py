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

# Is it a standby, is it streaming from the primary, and how far behind is its replay: nothing while it has
# replayed all it received from a live link; else the age of the last transaction it replayed (a replica cut
# off from its primary cannot know what it misses).
LAG_SQL = (
    "SELECT pg_is_in_recovery(), EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming'), "
    "CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0 "
    "ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END, "
    "EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
)


@dataclass
class ReplicaState:
    alias: str
    answering: bool = False  # a standby that answers: good enough when the primary is down
    ok: bool = False  # streaming, and within REPLICA_MAX_LAG_SECONDS: reads go there
    lag_seconds: float | None = None
    checked_at: float = -math.inf


_states: dict[str, ReplicaState] = {}
_checking = threading.Lock()
_primary_failed_at = -math.inf


def probe(alias: str) -> ReplicaState:
    """Ask a replica how far behind it is (in this thread's connection to it)."""
    state = ReplicaState(alias, checked_at=time.monotonic())
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(LAG_SQL)
            standby, streaming, replay_lag, since_last_replay = cursor.fetchone()
    except DatabaseError:
        connections[alias].close()
        return state
    lag = replay_lag if streaming else since_last_replay
    state.answering = bool(standby)
    state.lag_seconds = None if lag is None else round(float(lag), 3)
    state.ok = state.answering and streaming and lag is not None and lag <= settings.REPLICA_MAX_LAG_SECONDS
    return state


def replica_states() -> list[ReplicaState]:
    """Every replica's state, probed again where the last probe is older than REPLICA_CHECK_SECONDS (by one
    thread at a time; the others use the last known state meanwhile)."""
    now = time.monotonic()
    stale = [
        alias
        for alias in replica_aliases()
        if now - _states.get(alias, ReplicaState(alias)).checked_at > settings.REPLICA_CHECK_SECONDS
    ]
    if stale and _checking.acquire(blocking=False):
        try:
            for alias in stale:
                _states[alias] = probe(alias)
        finally:
            _checking.release()
    return [_states.get(alias, ReplicaState(alias)) for alias in replica_aliases()]


def mark_down(alias: str) -> None:
    global _primary_failed_at
    if alias == DEFAULT_DB_ALIAS:
        _primary_failed_at = time.monotonic()
    else:
        _states[alias] = ReplicaState(alias, checked_at=time.monotonic())


def primary_recently_failed() -> bool:
    return time.monotonic() - _primary_failed_at < settings.REPLICA_CHECK_SECONDS


def chosen_replica(*, primary_down: bool = False) -> str | None:
    """A healthy replica; with the primary down, any standby that answers (stale is better than nothing)."""
    states = replica_states()
    usable = [state.alias for state in states if state.ok or (primary_down and state.answering)]
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


def _reading_on(alias: str | None, chunks):
    """A streamed body (an export) read after the view returned: its reads still go where the view's went."""
    iterator = iter(chunks)
    while True:
        token = _reads_from.set(alias)
        try:
            chunk = next(iterator)
        except StopIteration:
            return
        finally:
            _reads_from.reset(token)
        yield chunk


class ReplicaReadMiddleware:
    """Chooses where a request's reads go; listed after `DatabaseUnavailableMiddleware`, so that a database
    failing under a read is seen here (`process_exception`) before that answers 503, and the read is answered
    again from the other side: a failing replica's from the primary, a failing primary's from a replica."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.enabled = bool(replica_aliases())

    def __call__(self, request):
        if not self.enabled:
            return self.get_response(request)
        client = client_key(request)
        safe = request.method in SAFE_METHODS
        pinned = reads_on_primary(request, client)
        alias = None if pinned else chosen_replica(primary_down=primary_recently_failed())
        response = self._answer(request, alias)
        if safe and getattr(request, "database_failed", False):
            mark_down(alias or DEFAULT_DB_ALIAS)
            # A failing replica's read is answered by the primary; a failing primary's by any standby that
            # answers, unless the client must read its own writes (or is in the admin): that one gets the 503.
            fallback = None if alias or pinned else chosen_replica(primary_down=True)
            if alias or fallback:
                request.database_failed = False
                alias = fallback
                response = self._answer(request, alias)
        user = getattr(request, "user", None)
        if not safe and client and getattr(user, "is_authenticated", False) and response.status_code < 400:
            # Its next reads, for as long as a healthy replica may lag behind, see what it wrote.
            cache.set(_pin_key(client), 1, timeout=settings.READ_YOUR_WRITES_SECONDS)
        response["X-Served-By"] = alias or DEFAULT_DB_ALIAS
        return response

    def _answer(self, request, alias: str | None):
        token = _reads_from.set(alias)
        try:
            response = self.get_response(request)
        finally:
            _reads_from.reset(token)
        if response.streaming:
            response.streaming_content = _reading_on(alias, response.streaming_content)
        return response

    def process_exception(self, request, exception):
        if request.method in SAFE_METHODS and isinstance(exception, OperationalError):
            request.database_failed = True
