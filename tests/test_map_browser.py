"""The dashboard's map where the fixtures do not take it: a site with a tile service (MAP_TILE_URL), and a
synthetic database of 200,000 incidents, where the map draws grid cells and fetches incidents only for the
visible area once few enough are in it. Timings are recorded (printed and in the test's properties), never
asserted; bench/dashboard.py writes them to bench/RESULTS.md at 200k and 1M."""

import http.server
import json
import sys
import threading
import time
import urllib.parse
import urllib.request

import pytest

from tests.browsers import MOVES, By, Keys, WebDriverWait, axe_violations, redraw_ms, wait_for_dashboard
from tests.live import ROOT, environment, fixtures_site, gunicorn, manage

pytestmark = pytest.mark.browser

SYNTHETIC_INCIDENTS = 200_000
POINTS_MAX = 2000  # map.js: at most this many incidents are drawn one by one


def api(base: str, path: str) -> dict:
    with urllib.request.urlopen(f"{base}/api/v1/{path}", timeout=120) as response:
        return json.loads(response.read())


class TileHandler(http.server.BaseHTTPRequestHandler):
    """A tile service on another origin: one grey PNG for every tile, and a list of what was asked."""

    asked: list[str] = []
    tile = (ROOT / "incidents" / "static" / "vendor" / "leaflet" / "images" / "layers.png").read_bytes()

    def do_GET(self):
        TileHandler.asked.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.tile)))
        self.end_headers()
        self.wfile.write(self.tile)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def tile_service():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), TileHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_with_a_tile_service_the_map_draws_its_tiles_and_their_attribution(tile_service, tmp_path, browser):
    tiles = {
        "MAP_TILE_URL": f"{tile_service}/tiles/{{z}}/{{x}}/{{y}}.png",
        "MAP_TILE_ATTRIBUTION": "Tiles: a test service",
    }
    with fixtures_site(tmp_path, **tiles) as site:
        browser.get(f"{site}/dashboard/")
        wait_for_dashboard(browser)
        WebDriverWait(browser, 30).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, "#map img.leaflet-tile"))
        requested = browser.execute_script("return performance.getEntriesByType('resource').map((e) => e.name)")
        attribution = browser.find_element(By.CSS_SELECTOR, "#map .leaflet-control-attribution").text
    # The same recording that finds no request off the site without tiles (test_dashboard_browser.py) sees these.
    tiles = [url for url in requested if url.startswith(tile_service + "/tiles/")]
    assert tiles and all(urllib.parse.urlsplit(url).path in TileHandler.asked for url in tiles)
    assert "Tiles: a test service" in attribution and "Natural Earth" in attribution


def view_drawn(driver) -> bool:
    """Whether the map has drawn its current view (all incidents at once, or the view's cells or incidents)."""
    return driver.execute_script(
        "const m = window.incidentMap;"
        "return !m.settling && (m.mode === 'all' || (m.mode === 'view' && m.covered(m.cellSize())))"
    )


@pytest.fixture(scope="module")
def big_site(tmp_path_factory):
    """gunicorn as deployed (throttles on, the disk cache) over 200,000 synthetic incidents, built once by the
    benchmark's builder and kept under bench/data/ (.ci/run builds it while the suite runs)."""
    sys.path.insert(0, str(ROOT / "bench"))
    import run  # the benchmark's database builder

    database = run.build(SYNTHETIC_INCIDENTS)
    work = tmp_path_factory.mktemp("big")
    copy = work / "db.sqlite3"
    copy.write_bytes(database.read_bytes())
    env = environment(work, STATIC_ROOT=str(work / "static"))
    manage(env, "collectstatic", "--noinput", "-v0", timeout=300)
    with gunicorn(env, workers=2, threads=4) as base:
        yield base


def test_with_200k_incidents_the_map_draws_grid_cells_then_a_small_views_incidents(big_site, browser, record_property):
    browser.get(f"{big_site}/dashboard/")
    ready_ms = wait_for_dashboard(browser)
    WebDriverWait(browser, 60).until(view_drawn)
    view = browser.execute_script(
        "const m = window.incidentMap; return {drawn: m.drawnAs, cell: m.fetched.cell, bbox: m.fetched.bbox,"
        " counts: [...document.querySelectorAll('#map .grid-count span')].map((s) => Number(s.dataset.incidents))};"
    )
    assert view["drawn"] == "cells"
    grid = api(big_site, f"stats/?group_by=grid&cell={view['cell']}&bbox={view['bbox']}")
    assert sorted(view["counts"]) == sorted(row["incidents"] for row in grid["results"])
    assert sum(view["counts"]) > POINTS_MAX
    browser.save_screenshot(str(ROOT / "docs" / "dashboard-200k.png"))
    assert [v for v in axe_violations(browser) if v["impact"] in ("serious", "critical")] == []

    redraws = [redraw_ms(browser, move) for move in MOVES]
    # Zoomed in on one dense spot, few enough incidents are in view: the incidents of that area are drawn.
    closer = redraw_ms(browser, "map.setView(map.getCenter(), 12, {animate: false})")
    assert closer["drawn"] == "incidents"
    bbox = browser.execute_script("return window.incidentMap.fetched.bbox")
    in_view = api(big_site, f"incidents/?format=geojson&fields=id&bbox={bbox}")["features"]
    assert browser.execute_script("return window.incidentMap.drawnIds") == sorted(f["id"] for f in in_view)

    timings = {"ready_ms": round(ready_ms), "redraw_ms": [round(r["ms"]) for r in redraws + [closer]]}
    record_property("map_timings", timings)
    print(f"200k synthetic incidents: {timings}")
    requested = browser.execute_script("return performance.getEntriesByType('resource').map((e) => e.name)")
    assert [url for url in requested if not url.startswith(big_site + "/")] == []


def test_with_200k_incidents_show_all_frames_every_cell_and_a_cell_zooms_in_from_the_keyboard(big_site, browser):
    browser.get(f"{big_site}/dashboard/")
    wait_for_dashboard(browser)
    cells = [row["key"].split(",") for row in api(big_site, "stats/?group_by=grid&cell=2")["results"]]
    browser.find_element(By.CSS_SELECTOR, "#map button.show-all").click()
    WebDriverWait(browser, 60).until(
        lambda driver: driver.execute_script(
            "const view = window.incidentMap.map.getBounds();"
            "return arguments[0].every(([west, south]) => view.contains([[+south, +west], [+south + 2, +west + 2]]))",
            cells,
        )
    )  # every 2° cell with incidents lies in the view
    WebDriverWait(browser, 60).until(view_drawn)
    zoom = browser.execute_script("return window.incidentMap.map.getZoom()")
    count = browser.find_element(By.CSS_SELECTOR, "#map .grid-count")
    browser.execute_script("arguments[0].focus()", count)
    count.send_keys(Keys.SPACE)
    WebDriverWait(browser, 30).until(
        lambda driver: driver.execute_script("return window.incidentMap.map.getZoom()") > zoom
    )


def drawn_matches_the_api(browser, base: str, query: str) -> None:
    """What the map has drawn for its current view is exactly what the API answers for `query`."""
    fetched = browser.execute_script(
        "const m = window.incidentMap; return m.mode === 'view' ? m.fetched : {drawnAs: 'incidents', bbox: null}"
    )
    if fetched["drawnAs"] == "cells":
        counts = browser.execute_script(
            "return [...document.querySelectorAll('#map .grid-count span')].map((s) => Number(s.dataset.incidents))"
        )
        grid = api(base, f"stats/?group_by=grid&cell={fetched['cell']}&bbox={fetched['bbox']}&{query}")
        assert sorted(counts) == sorted(row["incidents"] for row in grid["results"])
    else:
        box = f"&bbox={fetched['bbox']}" if fetched["bbox"] else ""
        features = api(base, f"incidents/?format=geojson&fields=id{box}&{query}")["features"]
        assert browser.execute_script("return window.incidentMap.drawnIds") == sorted(f["id"] for f in features)


@pytest.mark.parametrize("pause", [0, 0.2, 0.5])
def test_filters_applied_while_the_map_redraws_draw_the_new_filters(big_site, browser, pause):
    """A pan's redraw under way (after `pause` seconds) when new filters come: the map ends with theirs."""
    browser.get(f"{big_site}/dashboard/")
    wait_for_dashboard(browser)
    browser.execute_script("window.incidentMap.map.panBy([250, 120], {animate: false})")
    time.sleep(pause)  # where in the pan's redraw the filters land (not a wait for anything)
    browser.find_element(By.CSS_SELECTOR, "#country option[value='FI']").click()
    browser.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()
    WebDriverWait(browser, 60).until(lambda driver: "country=FI" in driver.current_url)
    wait_for_dashboard(browser)
    WebDriverWait(browser, 60).until(view_drawn)
    grid = api(big_site, "stats/?group_by=grid&cell=2&country=FI")
    located = grid["total"]["incidents"] - grid["total"]["unlocated"]
    assert browser.find_element(By.CSS_SELECTOR, "#map-panel .caption").text.startswith(
        f"{located} incidents with coordinates"
    )
    drawn_matches_the_api(browser, big_site, "country=FI")


def test_a_lower_export_cap_keeps_the_map_to_grid_cells_and_the_page_working(tmp_path, browser):
    """The map never asks for more incidents at once than an anonymous export may hold."""
    with fixtures_site(tmp_path, EXPORT_ANON_MAX_ROWS="3") as site:
        browser.get(f"{site}/dashboard/")
        wait_for_dashboard(browser)
        assert browser.execute_script("return window.incidentMap.mode") == "view"
        assert browser.find_element(By.ID, "map").get_attribute("data-drawn") == "cells"
        shown = redraw_ms(browser, "map.setView([60.17, 24.94], 14, {animate: false})")  # Helsinki, close up
        assert shown["drawn"] == "incidents"
        assert 0 < len(browser.execute_script("return window.incidentMap.drawnIds")) <= 3
