"""Throttling: anonymous and authenticated rates, counted in the cache the workers share, per client behind
`NUM_PROXIES` proxies; proven against gunicorn with several worker processes."""

import concurrent.futures

import pytest

from tests import live


@pytest.mark.django_db
def test_anonymous_clients_get_429_with_retry_after_beyond_their_rate(anon_client, settings):
    settings.ANON_THROTTLE_RATE = "3/minute"
    codes = [anon_client.get("/api/v1/countries/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = anon_client.get("/api/v1/countries/")
    assert int(refused["Retry-After"]) > 0
    assert "throttled" in refused.json()["detail"]


@pytest.mark.django_db
def test_anonymous_clients_are_held_to_their_own_rate_only(anon_client, settings):
    settings.ANON_THROTTLE_RATE = "5/minute"
    settings.USER_THROTTLE_RATE = "2/minute"  # lower, but not theirs
    assert [anon_client.get("/api/v1/").status_code for _ in range(6)] == [200] * 5 + [429]


@pytest.mark.django_db
def test_a_throttle_can_be_turned_off(anon_client, settings):
    settings.ANON_THROTTLE_RATE = "off"
    assert {anon_client.get("/api/v1/").status_code for _ in range(30)} == {200}


@pytest.mark.django_db
def test_authenticated_clients_have_their_own_rate(reader_client, anon_client, settings):
    settings.ANON_THROTTLE_RATE = "1/minute"
    settings.USER_THROTTLE_RATE = "3/minute"
    assert anon_client.get("/api/v1/").status_code == 200
    assert anon_client.get("/api/v1/").status_code == 429
    assert [reader_client.get("/api/v1/").status_code for _ in range(4)] == [200, 200, 200, 429]


@pytest.fixture(scope="module")
def gunicorn_server(tmp_path_factory):
    """The tracker under gunicorn with three workers, a file database and the default file cache."""
    env = live.environment(
        tmp_path_factory.mktemp("throttled"),
        ANON_THROTTLE_RATE="6/minute",
        USER_THROTTLE_RATE="9/minute",
        NUM_PROXIES="1",
    )
    live.manage(env, "migrate", "-v0", timeout=300)
    token = live.manage(env, "create_api_user", "throttled-reader").stdout.strip().splitlines()[-1]
    with live.gunicorn(env, workers=3) as base:
        yield base, token


def get(url: str, **headers) -> tuple[int, dict, object]:
    return live.call("GET", url, **headers)


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


def test_concurrent_requests_of_one_client_are_counted_exactly_on_the_disk_cache(gunicorn_server):
    """24 requests at once from one client against three workers at 6/minute: exactly 6 pass. The count is one
    atomic `incr` of the shared cache (a read and a write back, as DRF's own throttle does, lets several
    workers take the same last request). tests/test_replicas.py checks the same on Redis."""
    base, _ = gunicorn_server
    client = {"X-Forwarded-For": "198.51.100.99"}
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: get(f"{base}/api/v1/", **client)[0], range(24)))
    assert sorted(codes) == [200] * 6 + [429] * 18
