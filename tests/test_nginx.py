"""deploy/nginx.conf as docs/deploy.md tells to use it: nginx (Debian's, installed by .ci/run; marker
`services`) in front of gunicorn, over HTTPS with a throwaway certificate. Requests through it reach the
tracker with the proxy headers the settings expect, anonymous GETs are cached and credentials never are."""

import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from tests import live

pytestmark = pytest.mark.services

CONFIG = live.ROOT / "deploy" / "nginx.conf"


def rendered(work, *, http: int, https: int, upstream: int) -> str:
    """The repository's file with the values its comments mark CHANGE, inside a minimal main config."""
    server = CONFIG.read_text()
    for old, new in [
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};"),
        ("listen 80;", f"listen 127.0.0.1:{http};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;"),
        ("/etc/ssl/tracker/fullchain.pem", str(work / "cert.pem")),
        ("/etc/ssl/tracker/privkey.pem", str(work / "key.pem")),
        ("/var/cache/nginx/tracker", str(work / "cache")),
    ]:
        assert old in server, old
        server = server.replace(old, new)
    temp = work / "temp"
    return (
        f"pid {work}/nginx.pid; error_log {work}/error.log; user root root; events {{}}\n"
        f"http {{ access_log off; client_body_temp_path {temp}/body; proxy_temp_path {temp}/proxy;\n"
        f"fastcgi_temp_path {temp}/f; uwsgi_temp_path {temp}/u; scgi_temp_path {temp}/s;\n{server}\n}}\n"
    )


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    if shutil.which("nginx") is None:
        pytest.fail("nginx is not installed: .ci/run installs it (Debian's package)")
    work = tmp_path_factory.mktemp("nginx")
    (work / "temp").mkdir()
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
        + ["-keyout", str(work / "key.pem"), "-out", str(work / "cert.pem")],
        check=True,
        capture_output=True,
    )
    env = live.environment(
        work,
        NUM_PROXIES="1",
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
        SECURE_SSL_REDIRECT="1",
        ANON_THROTTLE_RATE="5/minute",
    )
    live.manage(env, "migrate", "--noinput")
    live.manage(env, "load_sourced_fixtures")
    token = live.manage(env, "create_api_user", "proxied", "--role", "reader").stdout.splitlines()[-1]
    with live.gunicorn(env, workers=2) as upstream:
        ports = {"http": live.free_port(), "https": live.free_port(), "upstream": int(upstream.rsplit(":", 1)[1])}
        conf = work / "nginx.conf"
        conf.write_text(rendered(work, **ports))
        checked = subprocess.run(["nginx", "-t", "-c", str(conf)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        server = subprocess.Popen(["nginx", "-c", str(conf), "-g", "daemon off;"])
        try:
            for _ in range(100):  # until nginx listens
                with socket.socket() as probe:
                    if probe.connect_ex(("127.0.0.1", ports["https"])) == 0:
                        break
                time.sleep(0.1)
            yield ports, token
        finally:
            server.terminate()
            server.wait(10)


def fetch(url: str, **headers) -> tuple[int, dict, bytes]:
    context = ssl._create_unverified_context()  # the throwaway certificate

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=30) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_https_reaches_the_tracker_which_knows_it_is_behind_https(proxied):
    ports, _ = proxied
    base = f"https://127.0.0.1:{ports['https']}"
    status, headers, body = fetch(f"{base}/api/v1/")
    assert status == 200
    assert f'"incidents":"{base}/api/v1/incidents/"'.encode() in body  # links built from the forwarded scheme
    status, headers, _ = fetch(f"http://127.0.0.1:{ports['http']}/api/v1/")
    assert (status, headers["Location"]) == (301, "https://127.0.0.1/api/v1/")
    status, _, body = fetch(f"http://127.0.0.1:{ports['http']}/healthz")
    assert status == 200 and b'"status": "ok"' in body


def test_anonymous_gets_are_cached_and_credentials_never_are(proxied):
    ports, token = proxied
    url = f"https://127.0.0.1:{ports['https']}/api/v1/countries/?country=SE"
    assert fetch(url)[1]["X-Cache-Status"] == "MISS"
    status, headers, _ = fetch(url)
    assert (status, headers["X-Cache-Status"]) == (200, "HIT")
    status, headers, _ = fetch(url, Authorization=f"Token {token}")
    assert (status, headers["X-Cache-Status"], headers["Cache-Control"]) == (200, "BYPASS", "private, no-cache")


def test_a_forged_forwarded_address_does_not_escape_the_throttle(proxied):
    ports, _ = proxied
    base = f"https://127.0.0.1:{ports['https']}/api/v1/stats/?group_by=year&_="
    codes = [fetch(f"{base}{number}", **{"X-Forwarded-For": f"203.0.113.{number}"})[0] for number in range(8)]
    assert codes.count(429) >= 3  # nginx replaced the header with the real address: one client, 5 a minute
    # A throttled client's 429 is its own: never stored where another client would be served it.
    refused = f"https://127.0.0.1:{ports['https']}/api/v1/countries/?country=FI"
    assert [fetch(refused)[0] for _ in range(2)] == [429, 429]
    assert fetch(refused)[1]["X-Cache-Status"] == "MISS"
