"""Throttling: anonymous and authenticated rates, counted in the cache the workers share, per client behind
`NUM_PROXIES` proxies; proven against gunicorn with several worker processes."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.mark.django_db
def test_anonymous_clients_get_429_with_retry_after_beyond_their_rate(anon_client, settings):
    settings.ANON_THROTTLE_RATE = "3/minute"
    codes = [anon_client.get("/api/v1/countries/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = anon_client.get("/api/v1/countries/")
    assert int(refused["Retry-After"]) > 0
    assert "throttled" in refused.json()["detail"]


@pytest.mark.django_db
def test_authenticated_clients_have_their_own_rate(reader_client, anon_client, settings):
    settings.ANON_THROTTLE_RATE = "1/minute"
    settings.USER_THROTTLE_RATE = "3/minute"
    assert anon_client.get("/api/v1/").status_code == 200
    assert anon_client.get("/api/v1/").status_code == 429
    assert [reader_client.get("/api/v1/").status_code for _ in range(4)] == [200, 200, 200, 429]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn_server(tmp_path_factory):
    """The tracker under gunicorn with three workers, a file database and the default file cache."""
    work = tmp_path_factory.mktemp("throttled")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work}/db.sqlite3",
        "CACHE_URL": f"file://{work}/cache",
        "SECRET_KEY": "throttle-test-secret",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "ANON_THROTTLE_RATE": "6/minute",
        "USER_THROTTLE_RATE": "9/minute",
        "NUM_PROXIES": "1",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    made = subprocess.run(
        [*manage, "create_api_user", "throttled-reader"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    token = made.stdout.strip().splitlines()[-1]
    port = free_port()
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "tracker.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "3",
            "--log-level",
            "error",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    yield base, token
    server.terminate()
    server.wait(timeout=30)


def get(url: str, **headers) -> tuple[int, dict, dict]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_workers_share_the_count_and_tell_clients_apart_behind_a_proxy(gunicorn_server):
    base, _ = gunicorn_server
    first = [get(f"{base}/api/v1/", **{"X-Forwarded-For": "198.51.100.7"})[0] for _ in range(7)]
    assert first == [200] * 6 + [429]
    status, headers, body = get(f"{base}/api/v1/", **{"X-Forwarded-For": "198.51.100.7"})
    assert status == 429
    assert int(headers["Retry-After"]) > 0
    assert "throttled" in body["detail"]
    # Another client behind the same proxy has its own count; the proxy appends the address it saw.
    assert get(f"{base}/api/v1/", **{"X-Forwarded-For": "198.51.100.8"})[0] == 200
    assert get(f"{base}/api/v1/", **{"X-Forwarded-For": "10.0.0.1, 198.51.100.7"})[0] == 429


def test_authenticated_clients_are_counted_by_user_under_gunicorn(gunicorn_server):
    base, token = gunicorn_server
    codes = [get(f"{base}/api/v1/", Authorization=f"Token {token}")[0] for _ in range(10)]
    assert codes == [200] * 9 + [429]
