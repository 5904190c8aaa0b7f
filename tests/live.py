"""The tracker served by gunicorn on a file database, for tests that need real processes."""

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(work: Path, **overrides: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work}/db.sqlite3",
        "CACHE_URL": f"disk://{work}/cache",
        "SECRET_KEY": "live-test-secret",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        **overrides,
    }


def manage(env: dict, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True, **kwargs
    )


@contextmanager
def gunicorn(env: dict, workers: int = 3, threads: int = 1):
    """Serve the (migrated) database of `env`; yields the base URL. A browser opens several connections at
    once, some of them idle for a while: give its server `threads` (sync workers belong behind nginx)."""
    port = free_port()
    command = [str(BIN / "gunicorn"), "tracker.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    command += ["--threads", str(threads)]
    server = subprocess.Popen([*command, "--log-level", "error"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def browser_site(work: Path, *setup: tuple[str, ...], **settings: str):
    """A migrated database with its static files collected, the `setup` management commands run on it in
    order, served for a browser (2 workers of 4 threads, throttles off) with `settings` added to the
    environment; yields the base URL and what each command printed."""
    env = environment(work, STATIC_ROOT=str(work / "static"), ANON_THROTTLE_RATE="off", **settings)
    manage(env, "migrate", "-v0", timeout=300)
    manage(env, "collectstatic", "--noinput", "-v0", timeout=300)
    printed = [manage(env, *command, timeout=300).stdout for command in setup]
    with gunicorn(env, workers=2, threads=4) as base:
        yield base, printed


@contextmanager
def fixtures_site(work: Path, **settings: str):
    """The sourced fixtures served for a browser (`browser_site`); yields the base URL."""
    with browser_site(work, ("load_sourced_fixtures",), **settings) as (base, _):
        yield base


def call(method: str, url: str, body=None, **headers) -> tuple[int, dict, object]:
    data = None if body is None else json.dumps(body).encode()
    if data is not None:
        headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"null")


@contextmanager
def fresh_database(kind: str, work: Path):
    """A migrated, empty database of `kind` (sqlite, or postgresql on the server the suite runs against),
    with how to count its incidents and check its integrity."""
    work.mkdir()
    if kind == "sqlite":
        env = environment(work)
        path = work / "db.sqlite3"

        def query(sql: str):
            with sqlite3.connect(path, timeout=30) as db:
                return db.execute(sql).fetchall()

        manage(env, "migrate", "-v0", timeout=300)
        yield env, query, lambda: query("PRAGMA integrity_check") == [("ok",)]
        return
    import psycopg

    server = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    name = f"tracker_fault_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    env = environment(work, DATABASE_URL=f"{server}/{name}")

    def query(sql: str):
        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as db:
            return db.execute(sql).fetchall()

    def sound() -> bool:
        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as db:
            db.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
        checked = query(
            "SELECT bt_index_check(c.oid, true) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am am ON am.oid = c.relam WHERE am.amname = 'btree' AND c.relnamespace = 'public'::regnamespace"
        )
        return len(checked) > 10

    try:
        manage(env, "migrate", "-v0", timeout=300)
        yield env, query, sound
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# The suite runs on SQLite, and again on PostgreSQL in CI: tests that make their own databases use both then.
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("DATABASE_URL", "").startswith("postgres") else [])
