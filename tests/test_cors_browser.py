"""A dashboard on another origin, in headless Chromium: a page served from a second port fetches a list from
the API, reads its ETag (exposed to scripts) and revalidates with If-None-Match (allowed by the preflight),
getting a 304, as API.md "HTTP behaviour" promises."""

import functools
import http.server
import threading

import pytest

from tests.browsers import WebDriverWait
from tests.live import environment, free_port, gunicorn, manage

pytestmark = pytest.mark.browser

PAGE = """<!doctype html><meta charset="utf-8"><title>Another origin</title>
<script>
(async () => {
  const url = "%(api)s/api/v1/incidents/?country=FI&fields=id,title";
  const first = await fetch(url, {cache: "no-store"});
  const etag = first.headers.get("ETag");
  const body = await first.json();
  const again = await fetch(url, {cache: "no-store", headers: {"If-None-Match": etag}});
  document.body.dataset.result = JSON.stringify(
    {first: first.status, etag: etag, count: body.count, again: again.status});
})().catch((error) => { document.body.dataset.result = JSON.stringify({error: String(error)}); });
</script><body></body>
"""


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    work = tmp_path_factory.mktemp("cors")
    env = environment(work, ANON_THROTTLE_RATE="off")
    manage(env, "migrate", "-v0", timeout=300)
    manage(env, "load_sourced_fixtures", timeout=300)
    with gunicorn(env, workers=2, threads=4) as base:
        yield base


@pytest.fixture(scope="module")
def other_origin(api, tmp_path_factory):
    """A plain static server on another port: the page of a dashboard built elsewhere."""
    folder = tmp_path_factory.mktemp("other-origin")
    (folder / "index.html").write_text(PAGE % {"api": api})
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_page_on_another_origin_revalidates_a_list_with_a_304(browser, api, other_origin):
    import json

    browser.get(f"{other_origin}/index.html")
    WebDriverWait(browser, 30).until(
        lambda driver: driver.find_element("tag name", "body").get_attribute("data-result")
    )
    result = json.loads(browser.find_element("tag name", "body").get_attribute("data-result"))
    assert "error" not in result, result
    assert result["first"] == 200 and result["count"] > 0
    assert result["etag"].startswith('"incidents-')
    assert result["again"] == 304
