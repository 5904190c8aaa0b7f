"""Headless Chromium (Debian's `chromium` and `chromium-driver`) driven by Selenium, for the tests under the
`browser` marker: `make test` deselects them, `.ci/run` installs the browser and runs them."""

import shutil
from pathlib import Path

import pytest

try:  # the `browser` extra; `make test` collects these modules without it (and deselects their tests)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:
    webdriver = ActionChains = Service = By = Keys = Select = WebDriverWait = None

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
# Chromium's own background traffic (updates, sync, field trials) would try to leave this closed machine.
ARGUMENTS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def start_chromium():
    """A headless Chromium for one test module (the `browser` fixture of conftest.py)."""
    if webdriver is None:
        pytest.fail("Selenium is missing: pip install -e '.[browser]' (make test-browser does)")
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail("headless Chromium is missing: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ARGUMENTS:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_window_size(1280, 1600)
    return driver


# The dashboard's map under load (tests/test_map_browser.py and bench/dashboard.py): how long the page takes
# to draw everything, and each pan or zoom until the map has drawn the new view. Returned, never asserted.
MOVES = (
    "map.zoomIn(1, {animate: false})",
    "map.panBy([300, 0], {animate: false})",
    "map.zoomIn(1, {animate: false})",
    "map.panBy([0, -200], {animate: false})",
    "map.zoomIn(2, {animate: false})",
    "map.panBy([-250, 150], {animate: false})",
    "map.zoomOut(2, {animate: false})",
    "map.panBy([200, 200], {animate: false})",
    "map.zoomOut(1, {animate: false})",
    "map.zoomOut(1, {animate: false})",
)


def wait_for_dashboard(driver, timeout: int = 120) -> float:
    """Wait until every panel is drawn; answers the milliseconds from navigation to that moment."""
    WebDriverWait(driver, timeout).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
    state = driver.find_element(By.TAG_NAME, "body").get_attribute("data-ready")
    assert state == "true", driver.find_element(By.ID, "status").text
    return driver.execute_script("return window.dashboardReadyAt")


def redraw_ms(driver, move: str, timeout: int = 120) -> dict:
    """Make one move on the map (JavaScript on `map`) and wait until the map has drawn the new view; answers
    how long that took (the map's wait for the move to settle included), what is drawn, and whether the
    move needed new data (a view inside the box already drawn does not)."""
    driver.set_script_timeout(timeout)
    return driver.execute_async_script(
        "const [move, done] = arguments; const incidentMap = window.incidentMap; const map = incidentMap.map;"
        "const before = Number(map.getContainer().dataset.drawSequence || 0); const started = performance.now();"
        "const drawn = () => !incidentMap.settling && (incidentMap.mode === 'all'"
        "  || (incidentMap.mode === 'view' && incidentMap.covered(incidentMap.cellSize())));"
        "const check = () => drawn()"
        "  ? done({ms: performance.now() - started, drawn: incidentMap.drawnAs || 'incidents', zoom: map.getZoom(),"
        "          fetched: Number(map.getContainer().dataset.drawSequence || 0) > before})"
        "  : setTimeout(check, 5);"
        "eval(move); check();",
        move,
    )


AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"


def axe_violations(driver) -> list[dict]:
    """What axe-core (vendored for the tests, never served) finds wrong with the page as it is now."""
    driver.execute_script(AXE.read_text())
    driver.set_script_timeout(60)
    return driver.execute_async_script(
        "const done = arguments[0];"
        "axe.run(document).then((result) => done(result.violations.map((v) => "
        "({id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5)}))));"
    )
