"""Past one machine (API.md "Scale"): gunicorn on a PostgreSQL primary with a real streaming replica and Redis,
started by .ci/run (marker `services`; `make test` deselects it). The servers are stopped and started under
the running service: reads move to the replica, an editor reads its own writes, a stopped replica fails no
request, a stopped primary leaves reads answering and writes 503 until it is back.

.ci/run names the parts in the environment: TRACKER_PG_BIN, TRACKER_PG_PRIMARY_DATA and _PORT,
TRACKER_PG_REPLICA_DATA and _PORT, TRACKER_REDIS_URL."""

import concurrent.futures
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import psycopg
import pytest

from tests import live

pytestmark = pytest.mark.services

NEEDED = ("TRACKER_PG_BIN", "TRACKER_PG_PRIMARY_DATA", "TRACKER_PG_PRIMARY_PORT", "TRACKER_PG_REPLICA_DATA")
NEEDED += ("TRACKER_PG_REPLICA_PORT", "TRACKER_REDIS_URL")


def need(name: str) -> str:
    if not os.environ.get(name):
        pytest.fail(f"{name} is not set: these tests run in .ci/run, which starts the servers they need")
    return os.environ[name]


class Server:
    """One PostgreSQL server of the cluster, stopped and started as its owner."""

    def __init__(self, role: str):
        self.data = need(f"TRACKER_PG_{role}_DATA")
        self.port = int(need(f"TRACKER_PG_{role}_PORT"))
        self.pg_ctl = os.path.join(need("TRACKER_PG_BIN"), "pg_ctl")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def control(self, action: str) -> None:
        command = [self.pg_ctl, "-D", self.data, "-w", "-m", "fast", "-l", f"{self.data}/../{self.port}.log", action]
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True)

    def query(self, database: str, sql: str, *params):
        with psycopg.connect(self.url(database), autocommit=True, connect_timeout=5) as connection:
            cursor = connection.execute(sql, params or None)
            return cursor.fetchall() if cursor.description else []


def request(method: str, url: str, body=None, token: str | None = None) -> tuple[int, dict, object]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Token {token}"
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, headers, method=method), timeout=30) as reply:
            return reply.status, dict(reply.headers), json.loads(reply.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"null")


def raw(url: str) -> tuple[int, dict, bytes]:
    with urllib.request.urlopen(url, timeout=30) as reply:
        return reply.status, dict(reply.headers), reply.read()


def wait_until(check, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the cluster did not reach the expected state in time")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A database of its own on the primary, migrated, and replicated."""
    primary, replica = Server("PRIMARY"), Server("REPLICA")
    database = f"tracker_replicas_{uuid.uuid4().hex[:8]}"
    primary.query("postgres", f'CREATE DATABASE "{database}"')
    work = tmp_path_factory.mktemp("replicas")
    env = live.environment(
        work,
        DATABASE_URL=primary.url(database),
        DATABASE_REPLICA_URLS=replica.url(database),
        CACHE_URL=need("TRACKER_REDIS_URL"),
        REPLICA_CHECK_SECONDS="1",
        READ_YOUR_WRITES_SECONDS="3",
        ANON_THROTTLE_RATE="off",
        USER_THROTTLE_RATE="off",
    )
    live.manage(env, "migrate", "--noinput")
    token = live.manage(env, "create_api_user", "replicated-editor", "--role", "editor").stdout.splitlines()[-1]
    wait_until(lambda: replica.query(database, "SELECT count(*) FROM auth_user")[0][0] == 1)
    yield primary, replica, env, token, database
    for server in (primary, replica):  # whatever a failed test left stopped
        if subprocess.run(["runuser", "-u", "postgres", "--", server.pg_ctl, "-D", server.data, "status"]).returncode:
            server.control("start")
    primary.query("postgres", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture(scope="module")
def served(cluster):
    primary, replica, env, token, database = cluster
    with live.gunicorn(env, workers=2) as base:
        yield base, primary, replica, token, database


def incident(title: str) -> dict:
    return {"title": title, "incident_type": "seizure", "occurred_on": "2022-10-30", "country": "FI"}


def test_public_reads_are_answered_by_the_replica(served):
    base, _, replica, _, database = served
    commits = "SELECT xact_commit FROM pg_stat_database WHERE datname = %s"
    before = replica.query("postgres", commits, database)[0][0]
    answers = [request("GET", f"{base}/api/v1/incidents/") for _ in range(20)]
    assert {status for status, _, _ in answers} == {200}
    assert {headers["X-Served-By"] for _, headers, _ in answers} == {"replica1"}
    status, headers, rows = raw(f"{base}/api/v1/incidents/?format=csv")
    assert (status, headers["X-Served-By"], rows.count(b"\n")) == (200, "replica1", 1)  # the header row
    # Seen by the replica itself: its connections to the database, and its count of transactions (which a
    # backend reports when it idles, within seconds).
    clients = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'"
    assert replica.query("postgres", clients, database)[0][0] >= 1
    wait_until(lambda: replica.query("postgres", commits, database)[0][0] >= before + 20, seconds=30)
    status, _, health = request("GET", f"{base}/healthz")
    assert status == 200 and health["status"] == "ok" and health["database"] == "ok"
    (state,) = health["replicas"]
    assert state["alias"] == "replica1" and state["ok"] is True and 0 <= state["lag_seconds"] <= 30


def test_an_editor_reads_its_own_writes_at_once_and_the_replica_again_later(served):
    base, _, _, token, _ = served
    status, headers, created = request("POST", f"{base}/api/v1/incidents/", incident("Written"), token)
    assert status == 201 and headers["X-Served-By"] == "default"
    url = f"{base}/api/v1/incidents/{created['id']}/"
    for number in range(15):
        status, _, _ = request("PATCH", url, {"title": f"Edit {number}"}, token)
        last_write = time.monotonic()
        assert status == 200
        status, headers, read = request("GET", url, token=token)
        assert (status, read["title"], read["version"]) == (200, f"Edit {number}", number + 2)
        assert headers["X-Served-By"] == "default"
    # READ_YOUR_WRITES_SECONDS (3) after its last write, and not before, the editor reads a replica again.
    wait_until(lambda: request("GET", url, token=token)[1]["X-Served-By"] == "replica1", 15)
    assert time.monotonic() - last_write >= 3
    status, headers, read = request("GET", url, token=token)
    assert (status, read["title"]) == (200, "Edit 14")


def test_a_replica_lagging_more_than_allowed_is_skipped_until_it_catches_up(cluster):
    """Replay paused on the replica while the primary writes: past REPLICA_MAX_LAG_SECONDS reads leave it."""
    primary, replica, env, token, database = cluster
    with live.gunicorn({**env, "REPLICA_MAX_LAG_SECONDS": "1"}, workers=1) as base:
        wait_until(lambda: request("GET", f"{base}/api/v1/incidents/")[1]["X-Served-By"] == "replica1")
        replica.query(database, "SELECT pg_wal_replay_pause()")
        try:
            assert request("POST", f"{base}/api/v1/incidents/", incident("Not replayed yet"), token)[0] == 201
            wait_until(lambda: request("GET", f"{base}/api/v1/incidents/")[1]["X-Served-By"] == "default", 20)
            status, _, health = request("GET", f"{base}/healthz")
            assert status == 200 and health["replicas"][0]["ok"] is False
            assert health["replicas"][0]["lag_seconds"] > 1
        finally:
            replica.query(database, "SELECT pg_wal_replay_resume()")
        wait_until(lambda: request("GET", f"{base}/api/v1/incidents/")[1]["X-Served-By"] == "replica1")


def test_a_stopped_replica_fails_no_request(served):
    base, _, replica, _, _ = served
    replica.control("stop")
    try:
        answers = [request("GET", f"{base}/api/v1/incidents/?country=FI") for _ in range(30)]
        assert {status for status, _, _ in answers} == {200}
        assert answers[-1][1]["X-Served-By"] == "default"
        status, _, health = request("GET", f"{base}/healthz")
        assert status == 200 and health["database"] == "ok" and health["replicas"][0]["ok"] is False
    finally:
        replica.control("start")
    wait_until(lambda: request("GET", f"{base}/api/v1/incidents/")[1]["X-Served-By"] == "replica1")


def test_a_stopped_primary_leaves_reads_answering_and_writes_503_until_it_is_back(served):
    base, primary, _, token, _ = served
    primary.control("stop")
    try:
        answers = [request("GET", f"{base}/api/v1/incidents/?fields=id,title") for _ in range(10)]
        assert {status for status, _, _ in answers} == {200}
        assert {headers["X-Served-By"] for _, headers, _ in answers} == {"replica1"}
        assert request("GET", f"{base}/api/v1/stats/?group_by=country")[0] == 200
        status, headers, rows = raw(f"{base}/api/v1/incidents/?format=csv")  # streamed after the view returns
        assert (status, headers["X-Served-By"]) == (200, "replica1") and rows.startswith(b"id,uid,")
        status, headers, body = request("POST", f"{base}/api/v1/incidents/", incident("Refused"), token)
        assert status == 503 and headers["Content-Type"] == "application/json" and "unavailable" in body["detail"]
        status, _, health = request("GET", f"{base}/healthz")
        assert status == 200
        assert (health["status"], health["database"], health["replicas"][0]["ok"]) == ("degraded", "unreachable", True)
    finally:
        primary.control("start")
    wait_until(lambda: request("POST", f"{base}/api/v1/incidents/", incident("Resumed"), token)[0] == 201)
    listed = request("GET", f"{base}/api/v1/incidents/?fields=title", token=token)[2]
    assert "Resumed" in {item["title"] for item in listed["results"]}
    assert "Refused" not in {item["title"] for item in listed["results"]}


def test_throttles_counted_in_redis_are_exact_across_workers(cluster):
    """60 concurrent requests of one client against 3 workers at 20/minute: exactly 20 pass (INCR is atomic)."""
    env = cluster[2]
    redis_url = need("TRACKER_REDIS_URL").rsplit("/", 1)[0] + "/7"  # a database of its own, emptied first
    subprocess.run(["redis-cli", "-u", redis_url, "FLUSHDB"], check=True, capture_output=True)
    with live.gunicorn({**env, "CACHE_URL": redis_url, "ANON_THROTTLE_RATE": "20/minute"}, workers=3) as base:
        with concurrent.futures.ThreadPoolExecutor(12) as pool:
            codes = list(pool.map(lambda _: request("GET", f"{base}/api/v1/")[0], range(60)))
    assert sorted(codes) == [200] * 20 + [429] * 40
