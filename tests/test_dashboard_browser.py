"""The dashboard in headless Chromium (Debian's `chromium` and `chromium-driver`, driven by Selenium),
against gunicorn serving the sourced fixtures. `make test` deselects these; `.ci/run` installs the
browser and runs them (`make test-browser`). A screenshot of each run is saved under docs/."""

import json
import urllib.request

import pytest

from tests.browsers import Keys, WebDriverWait
from tests.live import ROOT, environment, gunicorn, manage

pytestmark = pytest.mark.browser

DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    work = tmp_path_factory.mktemp("dashboard")
    env = environment(work, STATIC_ROOT=str(work / "static"), ANON_THROTTLE_RATE="off")
    manage(env, "migrate", "-v0", timeout=300)
    manage(env, "load_sourced_fixtures", timeout=300)
    manage(env, "collectstatic", "--noinput", "-v0", timeout=300)
    with gunicorn(env, workers=2) as base:
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
      marks: [...document.querySelectorAll('#map .mark')].map((mark) => Number(mark.dataset.id)).sort((a, b) => a - b),
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
