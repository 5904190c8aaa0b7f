"""The dashboard page and its assets, without a browser (tests/test_dashboard_browser.py drives it)."""

import hashlib
import importlib.util
import json

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from tests.live import ROOT

pytestmark = pytest.mark.django_db


def test_the_dashboard_offers_every_filter_and_the_embed_code():
    response = Client().get("/dashboard/")
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    page = response.content.decode()
    for name in ("country", "occurred_after", "occurred_before", "verification", "weapon_category"):
        assert f'name="{name}"' in page and f'<label for="{name}"' in page
    assert 'id="embed-code"' in page
    assert 'data-api="/api/v1/"' in page and 'data-embed-url="/dashboard/embed/"' in page
    assert "Natural Earth" in page


def test_the_embed_page_may_be_framed_and_has_no_page_chrome():
    response = Client().get("/dashboard/embed/?country=SE")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    page = response.content.decode()
    assert "<header>" not in page and 'id="embed-code"' not in page
    assert 'id="filters"' in page and "Natural Earth" in page


def test_each_chart_has_a_data_table_alternative():
    page = Client().get("/dashboard/").content.decode()
    charts = page.split('<figure class="chart')[1:]
    assert len(charts) == 4
    for chart in charts:
        chart = chart.split("</figure>")[0]
        assert "<details><summary>Data table" in chart and "<table>" in chart


def test_the_country_outlines_are_natural_earth_with_iso_codes():
    path = finders.find("dashboard/countries.geojson")
    outlines = json.loads(open(path, encoding="utf-8").read())
    assert outlines["type"] == "FeatureCollection" and "Natural Earth" in outlines["source"]
    codes = {feature["properties"]["code"] for feature in outlines["features"]}
    assert len(outlines["features"]) == 177
    assert {"FI", "SE", "DK", "NL", "UA", "FR", "NO", "GB", "AT", "MD", "US"} <= codes
    for feature in outlines["features"]:
        assert feature["geometry"]["type"] == "MultiPolygon"
        for polygon in feature["geometry"]["coordinates"]:
            for ring in polygon:
                assert len(ring) >= 4 and ring[0] == ring[-1]
                assert all(-180 <= lon <= 180 and -90 <= lat <= 90 for lon, lat in ring)


def test_the_page_script_and_style_are_served_as_static_files():
    assert finders.find("dashboard/dashboard.js") and finders.find("dashboard/dashboard.css")


def test_the_vendored_map_libraries_are_the_pinned_ones_byte_for_byte():
    """The committed files of incidents/static/vendor/ and tests/vendor/ are the ones `make dashboard-assets`
    took from the pinned tarballs (their SHA-256 in VENDORED.json), and only those."""
    spec = importlib.util.spec_from_file_location("vendor_assets", ROOT / "scripts" / "vendor_assets.py")
    vendor_assets = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(vendor_assets)
    record = json.loads((ROOT / "incidents" / "static" / "vendor" / "VENDORED.json").read_text())
    pinned = {name: (version, integrity) for name, version, integrity, *_ in vendor_assets.PACKAGES}
    assert {package["name"]: (package["version"], package["integrity"]) for package in record} == pinned
    recorded = {path: digest for package in record for path, digest in package["files"].items()}
    on_disk = {
        str(path.relative_to(ROOT)): hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in (ROOT / "incidents" / "static" / "vendor", ROOT / "tests" / "vendor")
        for path in folder.rglob("*")
        if path.is_file() and path.name != "VENDORED.json"
    }
    assert on_disk == recorded
