"""Clients by role, and the users behind them."""

import os

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


@pytest.fixture
def editor_user(django_user_model):
    user = django_user_model.objects.create_user("editor", password="editor-password-1", is_staff=True)
    group, created = Group.objects.get_or_create(name=settings.EDITORS_GROUP)
    if created:  # a transactional test (live_server) flushed what the migrations wrote: as migration 0002 does
        group.permissions.add(*Permission.objects.filter(content_type__app_label="incidents"))
    user.groups.add(group)
    return user


@pytest.fixture
def reader_user(django_user_model):
    return django_user_model.objects.create_user("reader", password="reader-password-1")


def _token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def anon_client():
    return APIClient()


@pytest.fixture
def reader_client(reader_user):
    return _token_client(reader_user)


@pytest.fixture
def editor_client(editor_user):
    return _token_client(editor_user)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Tests never leave the machine: a connection to anything but loopback fails loudly."""
    import socket

    real_connect = socket.socket.connect

    def guarded_connect(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in {"localhost", "::1"} or "/" in host):
            raise OSError(f"network access in a test: {address!r}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Tests hash many passwords (users, logins): a fast hasher; the service keeps Django's default."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def private_cache(settings):
    """Each test gets an empty cache of its own (rate limits and throttles start fresh): a local-memory one,
    or with CACHE_URL=redis://… (as .ci/run sets it for the PostgreSQL run) that Redis database, emptied."""
    from django.core.cache import cache

    from tracker.settings import cache_from_url

    url = os.environ.get("CACHE_URL", "")
    local = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    settings.CACHES = {"default": cache_from_url(url) if url.startswith("redis") else local}
    cache.clear()


@pytest.fixture(autouse=True)
def responses_match_the_schema(monkeypatch):
    """Every API answer a test's client receives is validated against the OpenAPI document (openapi-core):
    status codes, content types and bodies, for lists, records, `fields=`, errors and every JSON format."""
    from django.test import Client

    from tests import openapi_check

    real_request = Client.request

    def checked_request(client, **request):
        response = real_request(client, **request)
        wsgi = getattr(response, "wsgi_request", None)
        if wsgi is None or not openapi_check.should_check(wsgi.path, response):
            return response
        if response.streaming:
            body = b"".join(response.streaming_content)
            response.streaming_content = [body]
        else:
            body = response.content
        openapi_check.check(wsgi.method, wsgi.get_full_path(), response, body)
        return response

    monkeypatch.setattr(Client, "request", checked_request)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium driven by Selenium (tests under the `browser` marker; see tests/browsers.py)."""
    from tests.browsers import start_chromium

    driver = start_chromium()
    yield driver
    driver.quit()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After every test that touched the database, every stored record must equal a fresh build, and the
    rollups and the spatial index a fresh computation: a write path that forgot one fails the test that took
    it. Tests that write around the services on purpose, or make the database unreachable, carry the
    `no_records_audit` marker."""
    outcome = yield
    uses_database = {"db", "transactional_db"} & set(item.fixturenames) or item.get_closest_marker("django_db")
    if uses_database and not item.get_closest_marker("no_records_audit"):
        from incidents import geo, records, rollups

        differences = records.audit()
        assert differences == [], f"stored records differ from fresh builds after the test: {differences[:5]}"
        differences = rollups.audit() + geo.spatial_index_audit()
        assert differences == [], f"rollups or spatial index differ from the incidents: {differences[:5]}"
    return outcome
