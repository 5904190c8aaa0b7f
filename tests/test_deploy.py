"""Production settings (API.md "Configuration"): Django's deployment check passes with them on, /healthz
stays reachable over plain HTTP, and the browsable API can be turned off."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "tracker.example.org",
    "SECURE_SSL_REDIRECT": "1",
    "SESSION_COOKIE_SECURE": "1",
    "CSRF_COOKIE_SECURE": "1",
    "SECURE_HSTS_SECONDS": "31536000",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key not in PRODUCTION}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_deployment_check_passes_with_the_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_deployment_check_fails_when_a_production_setting_is_off():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **{**PRODUCTION, "CSRF_COOKIE_SECURE": "0"})
    assert result.returncode != 0
    assert "security.W016" in result.stderr


def test_replicas_are_refused_beside_sqlite_and_named_beside_postgresql():
    sqlite = manage("check", DATABASE_URL="sqlite:///unused.sqlite3", DATABASE_REPLICA_URLS="postgres://h/db")
    assert sqlite.returncode != 0
    assert "DATABASE_REPLICA_URLS needs a PostgreSQL DATABASE_URL" in sqlite.stderr
    code = "from django.conf import settings as s; print(sorted(s.DATABASES), s.DATABASE_ROUTERS)"
    postgresql = manage(
        "shell",
        "-c",
        code,
        DATABASE_URL="postgres://u@primary:5432/tracker",
        DATABASE_REPLICA_URLS="postgres://u@replica-a:5432/tracker, postgres://u@replica-b:5432/tracker",
    )
    last_line = postgresql.stdout.strip().splitlines()[-1]
    assert last_line == "['default', 'replica1', 'replica2'] ['tracker.replicas.ReplicaRouter']"


def test_browsable_api_can_be_turned_off():
    code = (
        "from rest_framework.settings import api_settings as s; print([r.format for r in s.DEFAULT_RENDERER_CLASSES])"
    )
    script = f"import django; django.setup(); {code}"
    for value, expected in (("1", "['json', 'api']"), ("0", "['json']")):
        result = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "tracker.settings", "BROWSABLE_API": value},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.stdout.strip() == expected, result.stderr


@pytest.mark.django_db
def test_https_is_enforced_except_for_healthz(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    redirected = client.get("/api/v1/")
    assert redirected.status_code == 301
    assert redirected["Location"] == "https://testserver/api/v1/"
    assert client.get("/api/v1/", secure=True).status_code == 200


@pytest.mark.django_db
def test_a_server_error_answers_json_without_a_traceback(client, monkeypatch):
    from incidents.api import views

    def broken(*args, **kwargs):
        raise RuntimeError("secret detail of the failure")

    monkeypatch.setattr(views, "country_summaries", broken)
    client.raise_request_exception = False
    response = client.get("/api/v1/countries/")
    assert response.status_code == 500
    assert response.json() == {"detail": "Server error."}
    assert b"secret detail" not in response.content
