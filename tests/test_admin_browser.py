"""The admin as an editor uses it, in headless Chromium against gunicorn: log in, add an incident with a
weapon inline, a new source made in the "add another" popup and a place, save; the public API then shows
the incident with the coordinates the service's geocoder found; then the editor moves it on the form's map."""

import pytest

from tests.browsers import ActionChains, By, Select, WebDriverWait
from tests.live import ROOT, browser_site, call

pytestmark = pytest.mark.browser

PASSWORD = "a long editor password"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    editor = ("create_api_user", "editor", "--role", "editor", "--password", PASSWORD)
    with browser_site(tmp_path_factory.mktemp("admin"), editor, MAP_TILE_URL="") as (base, [created]):
        yield Site(base, created.strip().splitlines()[-1])


class Site(str):
    """The server's base URL, with the editor's API token."""

    def __new__(cls, base: str, token: str):
        site = super().__new__(cls, base)
        site.token = token
        return site


def fill(driver, element_id: str, text: str) -> None:
    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(text)


def choose(driver, element_id: str, value: str) -> None:
    Select(driver.find_element(By.ID, element_id)).select_by_value(value)


def test_an_editor_adds_an_incident_with_a_weapon_a_new_source_and_a_place(site, browser):
    browser.get(f"{site}/admin/login/?next=/admin/incidents/incident/add/")
    fill(browser, "id_username", "editor")
    fill(browser, "id_password", PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    WebDriverWait(browser, 30).until(lambda driver: driver.find_elements(By.ID, "id_title"))

    fill(browser, "id_title", "Two hand grenades found in Malmö")
    fill(browser, "id_summary", "Police found two hand grenades.")
    choose(browser, "id_incident_type", "recovery")
    choose(browser, "id_verification", "reported")
    choose(browser, "id_status", "published")
    fill(browser, "id_tag_slugs", "hand-grenades")
    fill(browser, "id_occurred_on", "2023-07-01")
    choose(browser, "id_date_precision", "month")
    choose(browser, "id_country", "SE")
    fill(browser, "id_place", "Malmö")
    choose(browser, "id_weapons-0-category", "grenade")
    fill(browser, "id_weapons-0-quantity", "2")

    # The source does not exist yet: the "+" beside the citation's source opens the source form in a popup.
    main_window = browser.current_window_handle
    browser.find_element(By.ID, "add_id_citations-0-source").click()
    WebDriverWait(browser, 30).until(lambda driver: len(driver.window_handles) == 2)
    browser.switch_to.window(next(handle for handle in browser.window_handles if handle != main_window))
    WebDriverWait(browser, 30).until(lambda driver: driver.find_elements(By.ID, "id_url"))
    fill(browser, "id_url", "https://news.example.org/malmo-grenades")
    fill(browser, "id_publisher", "Example News")
    fill(browser, "id_title", "Grenades found in Malmö")
    fill(browser, "id_language", "en")
    browser.find_element(By.NAME, "_save").click()
    WebDriverWait(browser, 30).until(lambda driver: len(driver.window_handles) == 1)
    browser.switch_to.window(main_window)
    WebDriverWait(browser, 30).until(
        lambda driver: Select(driver.find_element(By.ID, "id_citations-0-source")).all_selected_options
    )

    browser.find_element(By.NAME, "_save").click()
    WebDriverWait(browser, 30).until(lambda driver: "/add/" not in driver.current_url)
    assert browser.find_elements(By.CSS_SELECTOR, ".messagelist .success"), browser.page_source[:2000]

    status, _, page = call("GET", f"{site}/api/v1/incidents/")
    assert status == 200 and page["count"] == 1
    record = page["results"][0]
    assert record["title"] == "Two hand grenades found in Malmö"
    assert record["weapons"][0]["category"] == "grenade" and record["weapons"][0]["quantity"] == 2
    assert [source["url"] for source in record["sources"]] == ["https://news.example.org/malmo-grenades"]
    assert record["geocode"]["provider"] == "gazetteer" and record["geo_precision"] == "locality"
    assert (round(record["latitude"], 2), round(record["longitude"], 2)) == (55.61, 13.0)


def test_dragging_the_admin_maps_pin_saves_manual_coordinates_and_shows_the_country_check(site, browser):
    status, _, incident = call(
        "POST",
        f"{site}/api/v1/incidents/",
        {
            "title": "A rifle found in Malmö",
            "incident_type": "recovery",
            "verification": "reported",
            "occurred_on": "2024-03-01",
            "country": "SE",
            "place": "Malmö",
            "weapons": [{"category": "rifle"}],
        },
        Authorization=f"Token {site.token}",
    )
    assert status == 201, incident
    # Sign in, unless this browser already is.
    browser.get(f"{site}/admin/login/?next=/admin/")
    if browser.find_elements(By.ID, "id_username"):
        fill(browser, "id_username", "editor")
        fill(browser, "id_password", PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    browser.get(f"{site}/admin/incidents/incident/{incident['id']}/change/")
    WebDriverWait(browser, 30).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, "#location-map[data-ready]"))
    pin = browser.find_element(By.CSS_SELECTOR, "#location-map .incident-pin")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", pin)
    pin_at = browser.execute_script("return window.locationMap.getCenter()")  # the map opens on the pin
    assert (round(pin_at["lat"], 2), round(pin_at["lng"], 2)) == (55.61, 13.0)

    # 250 pixels west at zoom 6 is about 5.5 degrees: Jutland, in Denmark, far from every place in Sweden.
    ActionChains(browser).click_and_hold(pin).move_by_offset(-20, 0).move_by_offset(-230, 0).release().perform()
    latitude = browser.find_element(By.ID, "id_latitude").get_attribute("value")
    longitude = browser.find_element(By.ID, "id_longitude").get_attribute("value")
    assert 7 < float(longitude) < 9.5 and abs(float(latitude) - 55.61) < 0.2, (latitude, longitude)
    choose(browser, "id_geo_precision", "exact")
    browser.find_element(By.NAME, "_continue").click()
    WebDriverWait(browser, 30).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, ".messagelist .success"))

    status, _, record = call("GET", f"{site}/api/v1/incidents/{incident['id']}/", Authorization=f"Token {site.token}")
    assert status == 200
    assert (f"{record['latitude']:.6f}", f"{record['longitude']:.6f}") == (latitude, longitude)
    assert record["geo_precision"] == "exact" and record["geocode"]["provider"] == "manual"
    warning = browser.find_element(By.CSS_SELECTOR, ".location-map-warning").text
    browser.execute_script("document.getElementById('location-map').scrollIntoView({block: 'center'})")
    browser.save_screenshot(str(ROOT / "docs" / "admin-map.png"))
    assert "in Sweden" in warning and record["geocode"]["warning"] in warning

    # Clicking the map puts the pin there and fills the fields too (Selenium's offsets are from the centre).
    WebDriverWait(browser, 30).until(lambda driver: driver.find_elements(By.CSS_SELECTOR, "#location-map[data-ready]"))
    box = browser.find_element(By.ID, "location-map")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    ActionChains(browser).move_to_element_with_offset(box, 60, 40).click().perform()
    expected = browser.execute_script(
        "const size = window.locationMap.getSize();"
        "const point = window.locationMap.containerPointToLatLng([size.x / 2 + 60, size.y / 2 + 40]);"
        "return [point.lat, point.lng];"
    )
    fields = ("id_latitude", "id_longitude")
    typed = [float(browser.find_element(By.ID, name).get_attribute("value")) for name in fields]
    assert typed == pytest.approx(expected, abs=0.05)
    assert typed[1] != pytest.approx(float(longitude), abs=0.05)
    # The form's map, like the dashboard's, asks nothing of any other site without MAP_TILE_URL.
    requested = browser.execute_script("return performance.getEntriesByType('resource').map((e) => e.name)")
    assert any("countries.geojson" in url for url in requested)
    assert [url for url in requested if not url.startswith(site + "/")] == []
