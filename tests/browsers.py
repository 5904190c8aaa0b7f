"""Headless Chromium (Debian's `chromium` and `chromium-driver`) driven by Selenium, for the tests under the
`browser` marker: `make test` deselects them, `.ci/run` installs the browser and runs them."""

import shutil

import pytest

try:  # the `browser` extra; `make test` collects these modules without it (and deselects their tests)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:
    webdriver = Service = By = Keys = Select = WebDriverWait = None

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
