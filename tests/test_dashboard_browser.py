"""The dashboard in headless Chromium (Debian's `chromium` and `chromium-driver`, driven by Selenium),
against gunicorn serving the sourced fixtures: every panel, the Leaflet map (clusters, popups, precision),
keyboard access and axe-core's accessibility rules. `make test` deselects these; `.ci/run` installs the
browser and runs them (`make test-browser`). A screenshot of each run is saved under docs/."""

import json
import time
import urllib.request

import pytest

from tests.browsers import By, Keys, WebDriverWait, axe_violations
from tests.live import ROOT, browser_site, fixtures_site

pytestmark = pytest.mark.browser

DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with fixtures_site(tmp_path_factory.mktemp("dashboard"), MAP_TILE_URL="") as base:
        yield base


def api(base: str, path: str) -> dict:
    with urllib.request.urlopen(f"{base}/api/v1/{path}", timeout=60) as response:
        return json.loads(response.read())


def wait_until_drawn(browser) -> None:
    WebDriverWait(browser, 30).until(lambda driver: driver.find_element("tag name", "body").get_attribute("data-ready"))
    assert browser.find_element("tag name", "body").get_attribute("data-ready") == "true", browser.find_element(
        "id", "status"
    ).text


def panels(browser) -> dict:
    """What each panel shows, read from the page."""
    script = """
    const rows = (id) => [...document.querySelectorAll(`#${id} .bar-row`)].map(
        (row) => [row.dataset.key, Number(row.querySelector('.bar-value').textContent)]);
    return {
      marks: window.incidentMap.drawnIds,
      timeline_total: Number(document.getElementById('timeline-panel').dataset.total),
      months: [...document.querySelectorAll('#timeline .bar')].map((bar) => Number(bar.dataset.incidents)),
      countries: rows('country-panel'),
      categories: rows('category-panel'),
      listed: [...document.querySelectorAll('.incident-list > li')].map((item) => Number(item.dataset.id)),
    };
    """
    return browser.execute_script(script)


def test_every_panel_draws_what_the_api_answers_and_a_country_filter_changes_each(site, browser):
    browser.get(f"{site}/dashboard/")
    wait_until_drawn(browser)
    everything = panels(browser)
    features = api(site, "incidents/?format=geojson")["features"]
    months = api(site, "stats/?group_by=month")
    assert everything["marks"] == sorted(feature["id"] for feature in features)
    assert everything["timeline_total"] == months["total"]["incidents"]
    assert sum(everything["months"]) + months["total"].get("imprecise", 0) == months["total"]["incidents"]
    by_country = api(site, "stats/?group_by=country")["results"]
    assert everything["countries"] == [[row["key"], row["incidents"]] for row in by_country]
    listed = api(site, "incidents/?limit=20&fields=id")["results"]
    assert everything["listed"] == [row["id"] for row in listed]
    DOCS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(DOCS / "dashboard.png"))

    browser.find_element("css selector", "#country option[value='SE']").click()
    browser.find_element("css selector", "#filters button[type=submit]").click()
    wait_until_drawn(browser)
    assert "country=SE" in browser.current_url
    sweden = panels(browser)
    se_features = api(site, "incidents/?format=geojson&country=SE")["features"]
    se_months = api(site, "stats/?group_by=month&country=SE")
    se_categories = api(site, "stats/?group_by=weapon_category&country=SE")["results"]
    assert sweden["marks"] == sorted(feature["id"] for feature in se_features)
    assert sweden["timeline_total"] == se_months["total"]["incidents"]
    assert sweden["countries"] == [["SE", se_months["total"]["incidents"]]]
    assert sweden["categories"] == [[row["key"] or "", row["incidents"]] for row in se_categories]
    assert sweden["listed"] == [row["id"] for row in api(site, "incidents/?limit=20&fields=id&country=SE")["results"]]
    for name in ("marks", "timeline_total", "countries", "categories", "listed"):
        assert sweden[name] != everything[name], name

    browser.back()  # the filter lives in the URL: going back restores the unfiltered view
    WebDriverWait(browser, 30).until(lambda driver: "country=SE" not in driver.current_url)
    wait_until_drawn(browser)
    WebDriverWait(browser, 30).until(lambda driver: panels(driver) == everything)
    assert browser.find_element("id", "country").get_attribute("value") == ""


def test_every_control_is_reachable_with_the_tab_key(site, browser):
    browser.get(f"{site}/dashboard/")
    wait_until_drawn(browser)
    controls = browser.execute_script(
        "return [...document.querySelectorAll('select, input, button:not([hidden]), summary, #reset')]"
        ".map((node) => node.id || node.textContent.trim())"
    )
    reached = set()
    body = browser.find_element("tag name", "body")
    body.click()
    for _ in range(600):
        browser.switch_to.active_element.send_keys(Keys.TAB)
        active = browser.switch_to.active_element
        reached.add(active.get_attribute("id") or active.text.strip())
        if set(controls) <= reached:
            break
    assert set(controls) - reached == set()
    assert len(controls) >= 12  # five filters, apply, reset, four data tables, copy


def test_each_chart_has_a_data_table(site, browser):
    browser.get(f"{site}/dashboard/")
    wait_until_drawn(browser)
    counts = browser.execute_script(
        "return [...document.querySelectorAll('figure.chart')].map((chart) => "
        "[chart.dataset.chart, chart.querySelectorAll('table tbody tr').length])"
    )
    assert [name for name, _ in counts] == ["map", "timeline", "country", "weapon_category"]
    assert all(rows > 0 for _, rows in counts), counts


@pytest.mark.parametrize("page", ["/dashboard/", "/dashboard/embed/"])
def test_no_horizontal_scroll_at_phone_width(site, browser, page):
    browser.set_window_size(375, 812)
    try:
        browser.get(f"{site}{page}")
        wait_until_drawn(browser)
        widths = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], widths
        if page == "/dashboard/":
            browser.save_screenshot(str(DOCS / "dashboard-phone.png"))
    finally:
        browser.set_window_size(1280, 1600)


def test_the_embed_page_draws_the_view_in_its_url(site, browser):
    browser.get(f"{site}/dashboard/embed/?country=FI")
    wait_until_drawn(browser)
    shown = panels(browser)
    assert shown["countries"] == [["FI", api(site, "stats/?group_by=country&country=FI")["total"]["incidents"]]]
    assert browser.find_element("id", "country").get_attribute("value") == "FI"


def test_a_translated_excerpt_is_marked_as_such_and_a_quote_is_a_quote(site, browser):
    browser.get(f"{site}/dashboard/?country=FI")
    wait_until_drawn(browser)
    excerpts = browser.execute_script(
        "return [...document.querySelectorAll('.incident-list .excerpt')].map((node) => "
        "[node.classList.contains('translated'), node.textContent.trim(), node.querySelector('q') !== null])"
    )
    assert [True, "inaccurate (translated from Finnish)", False] in excerpts
    assert [False, "have also been found in Sweden, Denmark and the Netherlands", True] in excerpts


# --- The map ---------------------------------------------------------------------------------------------

MAP_STATE = """
const map = window.incidentMap;
const areas = [...document.querySelectorAll('#map path.incident-area')];
return {
  zoom: map.map.getZoom(),
  bounds: [map.map.getBounds().getSouth(), map.map.getBounds().getWest(), map.map.getBounds().getNorth(),
           map.map.getBounds().getEast()],
  clusters: [...document.querySelectorAll('#map .marker-cluster span')].map((span) => Number(span.textContent)),
  pins: [...document.querySelectorAll('#map .incident-pin')].map((pin) => Number(pin.dataset.id)),
  rings: areas.filter((area) => area.dataset.id).map((area) => Number(area.dataset.id)),
  countries: Object.fromEntries(areas.filter((area) => area.dataset.country)
    .map((area) => [area.dataset.country, Number(area.dataset.incidents)])),
};
"""


def map_state(browser) -> dict:
    return browser.execute_script(MAP_STATE)


def settled(browser, move: str = "") -> dict:
    """Run `move` (JavaScript on `map`, the Leaflet map), then wait until the map, its clusters and their
    animations have settled: the same state read twice, half a second apart."""
    if move:
        browser.execute_script("const map = window.incidentMap.map;" + move)
    states = [None]

    def steady(driver):
        time.sleep(0.5)  # a poll interval: the state is compared with the one read half a second before
        states.append(map_state(driver))
        return states[-1] == states[-2]

    WebDriverWait(browser, 30).until(steady)
    return states[-1]


def located(site: str, query: str = "") -> list[dict]:
    return api(site, f"incidents/?format=geojson&fields=id,country,geo_precision{query}")["features"]


DRAWN_IDS = """
const incidentMap = window.incidentMap;
const clusters = incidentMap.clusters;
const inClusters = [], drawnAlone = [];
for (const layer of clusters.getLayers()) {
  (incidentMap.map.hasLayer(layer) ? drawnAlone : inClusters).push(layer.options.incidentId);
}
return {inClusters, drawnAlone, inCountries: incidentMap.areas.flatMap((area) => area.incidentIds)};
"""


def test_the_clusters_pins_and_areas_account_for_every_feature_once(site, browser):
    browser.get(f"{site}/dashboard/")
    wait_until_drawn(browser)
    features = located(site)
    first = map_state(browser)["zoom"]
    browser.find_element(By.CSS_SELECTOR, "#map button.show-all").click()
    state = settled(browser)
    assert state["zoom"] < first
    # Every feature is drawn exactly once: in a cluster, alone (a pin or a ring), or in its shaded country.
    drawn = browser.execute_script(DRAWN_IDS)
    ids = drawn["inClusters"] + drawn["drawnAlone"] + drawn["inCountries"]
    assert sorted(ids) == sorted(feature["id"] for feature in features)
    # And the page shows it so: the clusters' numbers count their incidents, the rest are there one by one.
    assert state["clusters"] and sum(state["clusters"]) == len(drawn["inClusters"])
    assert sorted(state["pins"] + state["rings"]) == sorted(drawn["drawnAlone"])
    countries = {}
    for feature in features:
        if feature["properties"]["geo_precision"] == "country":
            countries[feature["properties"]["country"]] = countries.get(feature["properties"]["country"], 0) + 1
    assert state["countries"] == countries and sum(countries.values()) == len(drawn["inCountries"])
    assert any(f["properties"]["geo_precision"] == "region" for f in features)


# A cluster of incidents at different points (one of incidents at a single point spreads them out instead).
CLUSTER_AT_SEVERAL_POINTS = """
const clusters = window.incidentMap.clusters;
return clusters.getLayers().map((mark) => clusters.getVisibleParent(mark)).find((shown) => shown
  && shown.getAllChildMarkers
  && new Set(shown.getAllChildMarkers().map((mark) => mark.getLatLng().toString())).size > 1)?.getElement();
"""


def test_clicking_a_cluster_or_pressing_enter_on_it_zooms_in(site, browser):
    browser.get(f"{site}/dashboard/")
    wait_until_drawn(browser)
    before = map_state(browser)
    cluster = browser.execute_script(CLUSTER_AT_SEVERAL_POINTS)
    assert cluster is not None, before
    cluster.click()
    assert settled(browser)["zoom"] > before["zoom"]

    # And from the keyboard: Enter on a focused cluster.
    browser.get(f"{site}/dashboard/")
    wait_until_drawn(browser)
    cluster = browser.execute_script(CLUSTER_AT_SEVERAL_POINTS)
    cluster.send_keys(Keys.ENTER)
    assert settled(browser)["zoom"] > before["zoom"]


def test_a_country_level_incident_is_a_shaded_country_and_a_region_a_ring_never_a_pin(site, browser):
    browser.get(f"{site}/dashboard/")
    wait_until_drawn(browser)
    features = located(site)
    for feature in features:
        precision = feature["properties"]["geo_precision"]
        if precision not in ("country", "region"):
            continue
        longitude, latitude = feature["geometry"]["coordinates"]
        # As close as the map goes: nothing is clustered any more, every incident is drawn as itself.
        state = settled(browser, f"map.setView([{latitude}, {longitude}], 18, {{animate: false}});")
        assert feature["id"] not in state["pins"], feature
        if precision == "country":
            country = feature["properties"]["country"]
            in_country = [f for f in features if f["properties"]["country"] == country]
            expected = sum(f["properties"]["geo_precision"] == "country" for f in in_country)
            assert state["countries"].get(country) == expected, feature
        else:
            assert feature["id"] in state["rings"], feature
    assert any(f["properties"]["geo_precision"] == "country" for f in features)


@pytest.mark.parametrize("selector", ["path.precision-region[data-id]", "path.precision-country[data-country]"])
def test_a_ring_or_a_shaded_country_opens_its_popup_from_the_keyboard(site, browser, selector):
    browser.get(f"{site}/dashboard/")
    wait_until_drawn(browser)
    shape = browser.find_element(By.CSS_SELECTOR, f"#map {selector}")
    browser.execute_script("arguments[0].focus()", shape)
    assert browser.switch_to.active_element == shape
    shape.send_keys(Keys.ENTER)
    WebDriverWait(browser, 30).until(
        lambda driver: driver.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content li[data-id]")
    )
    listed = {
        int(item.get_attribute("data-id")) for item in browser.find_elements(By.CSS_SELECTOR, ".popup-incidents > li")
    }
    if shape.get_attribute("data-id"):
        assert listed == {int(shape.get_attribute("data-id"))}
    else:
        assert len(listed) == int(shape.get_attribute("data-incidents"))


def test_the_first_view_is_where_most_incidents_are_not_stretched_by_outliers(site, browser):
    browser.get(f"{site}/dashboard/")
    wait_until_drawn(browser)
    south, west, north, east = map_state(browser)["bounds"]
    features = located(site)
    nordic = [f["geometry"]["coordinates"] for f in features if f["properties"]["country"] in ("SE", "DK", "FI")]
    washington = [f["geometry"]["coordinates"] for f in features if f["properties"]["country"] == "US"]
    assert nordic and washington
    assert all(west <= lon <= east and south <= lat <= north for lon, lat in nordic)
    assert not any(west <= lon <= east for lon, lat in washington)
    # The Nordic incidents span a good part of the frame instead of sitting in a corner of the Atlantic.
    nordic_width = max(lon for lon, _ in nordic) - min(lon for lon, _ in nordic)
    nordic_height = max(lat for _, lat in nordic) - min(lat for _, lat in nordic)
    assert nordic_width / (east - west) > 0.2 and nordic_height / (north - south) > 0.3, (south, west, north, east)
    assert min(lon for lon, _ in nordic) > west + 0.05 * (east - west)  # not squeezed against an edge


def test_a_pins_popup_lists_the_incidents_sources_with_stance_and_grade(site, browser):
    browser.get(f"{site}/dashboard/")
    wait_until_drawn(browser)
    pin = browser.find_element(By.CSS_SELECTOR, "#map .incident-pin")
    incident_id = int(pin.get_attribute("data-id"))
    pin.click()
    WebDriverWait(browser, 30).until(
        lambda driver: driver.find_elements(By.CSS_SELECTOR, f".leaflet-popup-content li[data-id='{incident_id}']")
    )
    record = api(site, f"incidents/{incident_id}/")
    popup = browser.find_element(By.CSS_SELECTOR, ".leaflet-popup-content")
    links = [
        (link.get_attribute("href"), link.text) for link in popup.find_elements(By.CSS_SELECTOR, ".sources li > a")
    ]
    expected = [(s["url"], ": ".join(filter(None, [s["publisher"], s["title"]]))) for s in record["sources"]]
    assert links == expected
    text = popup.text
    assert record["title"] in text and record["verification"] in text
    # Laid out for its content once loaded (not for "Loading…"): nothing sticks out sideways.
    assert browser.execute_script("const c = arguments[0]; return c.scrollWidth <= c.clientWidth", popup)
    for source in record["sources"]:
        grade = f"{source['reliability'] or ''}{source['credibility'] or ''}"
        assert f"{source['stance']} · {'grade ' + grade if grade else 'not graded'}" in text
    # The sourced fixtures record no serials, lots or transfers: the trace says so.
    assert api(site, f"incidents/{incident_id}/trace/") == {"candidates": [], "recovered_elsewhere": []}
    WebDriverWait(browser, 30).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, ".popup-trace p"))
    assert "No transfer or other incident linked by serials, lots or markings." in popup.text


def test_the_map_follows_the_filters(site, browser):
    browser.get(f"{site}/dashboard/?country=NL")
    wait_until_drawn(browser)
    assert browser.execute_script("return window.incidentMap.drawnIds") == sorted(
        f["id"] for f in located(site, "&country=NL")
    )
    rows = browser.find_elements(By.CSS_SELECTOR, "#map-panel tbody tr")
    assert len(rows) == len(located(site, "&country=NL"))  # the data table shows what the map shows


def test_a_month_bar_can_be_focused_and_tells_its_numbers(site, browser):
    browser.get(f"{site}/dashboard/")
    wait_until_drawn(browser)
    months = {row["key"]: row for row in api(site, "stats/?group_by=month")["results"]}
    labels = [label.text for label in browser.find_elements(By.CSS_SELECTOR, "#timeline .month-label")]
    assert 2 <= len(labels) <= 11 and any(" 20" in label for label in labels)
    ticks = [tick.text for tick in browser.find_elements(By.CSS_SELECTOR, "#timeline text.axis[text-anchor=end]")]
    assert ticks[0] == "0" and int(ticks[-1]) >= max(row["incidents"] for row in months.values())
    # From the map's data table, Tab reaches the first month with incidents.
    browser.execute_script("document.querySelector('#map-panel summary').focus()")
    for _ in range(20):
        browser.switch_to.active_element.send_keys(Keys.TAB)
        if "bar" in (browser.switch_to.active_element.get_attribute("class") or ""):
            break
    bar = browser.switch_to.active_element
    assert bar.get_attribute("class") == "bar"
    assert bar == browser.find_element(By.CSS_SELECTOR, "#timeline .bar[tabindex='0']")
    month = bar.get_attribute("data-month")
    tooltip = browser.find_element(By.ID, "timeline-tooltip")
    assert tooltip.is_displayed()
    assert tooltip.text.startswith(f"{month}: {months[month]['incidents']} incident")


@pytest.mark.parametrize("page", ["/dashboard/", "/dashboard/embed/"])
def test_axe_finds_no_serious_or_critical_violations(site, browser, page):
    browser.get(f"{site}{page}")
    wait_until_drawn(browser)
    violations = axe_violations(browser)
    serious = [violation for violation in violations if violation["impact"] in ("serious", "critical")]
    assert serious == []


def test_no_request_leaves_the_site_without_a_tile_service(site, browser):
    browser.get(f"{site}/dashboard/")
    wait_until_drawn(browser)
    browser.find_element(By.CSS_SELECTOR, "#map .incident-pin").click()  # a popup fetches too
    WebDriverWait(browser, 30).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content li"))
    requested = browser.execute_script("return performance.getEntriesByType('resource').map((entry) => entry.name)")
    assert any("/api/v1/stats/" in url for url in requested) and any(".js" in url for url in requested)
    assert [url for url in requested if not url.startswith(site + "/")] == []


def test_a_country_too_small_for_the_outlines_is_a_ring_not_a_pin(site, browser):
    """Malta is not among Natural Earth's 1:110m countries: its country-level incidents get a ring."""
    browser.get(f"{site}/dashboard/")
    wait_until_drawn(browser)
    feature = {
        "type": "Feature",
        "id": 999999,
        "geometry": {"type": "Point", "coordinates": [14.51, 35.9]},
        "properties": {
            "title": "A claim about Malta",
            "occurred_on": "2023-01-01",
            "date_precision": "year",
            "geo_precision": "country",
            "country": "MT",
            "country_name": "Malta",
        },
    }
    assert not browser.execute_script("return window.incidentMap.countryShapes.has('MT')")
    browser.execute_script("window.incidentMap.drawIncidents([arguments[0]])", feature)
    state = settled(browser, "map.setView([35.9, 14.51], 18, {animate: false});")
    assert state["pins"] == [] and state["rings"] == [999999]


# Test-built data (the sourced fixtures hold no serials or transfers): a transfer with a declared range, and
# two incidents whose weapons carry a serial inside it.
TRACED = """
import datetime
from decimal import Decimal
from incidents import services
source = services.source_create(user=None, data={"url": "https://example.org/transfer", "publisher": "Example",
    "source_type": "official", "reliability": "A", "published_on": datetime.date(2022, 5, 1)})
services.transfer_create(user=None, data={"supplier": "FI", "recipient": "UA", "year": 2022,
    "weapon_category": "assault_rifle", "serial_ranges": [{"prefix": "AB", "first": 1000, "last": 1999}],
    "citations": [services.CitationData(source=source)]})
for title, country, lat, lon, serial in [("Rifle in Helsinki", "FI", "60.17", "24.94", "AB-001234"),
                                         ("Rifle in Stockholm", "SE", "59.33", "18.07", "ab001234")]:
    services.incident_create(user=None, data={"title": title, "incident_type": "seizure", "country": country,
        "occurred_on": datetime.date(2023, 3, 1), "latitude": Decimal(lat), "longitude": Decimal(lon),
        "status": "published", "citations": [services.CitationData(source=source)],
        "weapons": [{"category": "assault_rifle", "quantity": 1, "serials": [serial]}]})
"""


@pytest.fixture(scope="module")
def traced_site(tmp_path_factory):
    with browser_site(tmp_path_factory.mktemp("traced"), ("shell", "-c", TRACED), MAP_TILE_URL="") as (base, _):
        yield base


def test_a_pins_popup_lists_the_incidents_trace(traced_site, browser):
    [helsinki] = api(traced_site, "incidents/?q=helsinki")["results"]
    [stockholm] = api(traced_site, "incidents/?q=stockholm")["results"]
    browser.get(f"{traced_site}/dashboard/")
    wait_until_drawn(browser)
    browser.find_element(By.CSS_SELECTOR, f"#map .incident-pin[data-id='{helsinki['id']}']").click()
    WebDriverWait(browser, 30).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, ".popup-trace li"))
    popup = browser.find_element(By.CSS_SELECTOR, ".leaflet-popup-content")
    candidates = [item.text for item in popup.find_elements(By.CSS_SELECTOR, ".popup-trace .trace-candidate")]
    recovered = [item.text for item in popup.find_elements(By.CSS_SELECTOR, ".popup-trace .trace-recovered")]
    assert candidates == [
        "Weapon 1: 2022 FI→UA transfer (serial in range, score 0.9) — serial AB001234 lies in "
        "AB001000–AB001999 of the 2022 FI→UA transfer, same category"
    ]
    assert recovered == [f"Serial AB001234 also in: Rifle in Stockholm, SE, {stockholm['occurred_on']} (its weapon 1)"]
