"""GeoJSON and CSV from the same filters as the list, field selection, and CORS."""

import csv
import datetime
import io
import json
import tracemalloc
import uuid
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse
from rest_framework import status

from incidents.models import Incident
from tests.factories import cite, make_actor, make_incident, make_source

pytestmark = pytest.mark.django_db

LIST_URL = reverse("incident-list")


@pytest.fixture
def mapped():
    """Three published incidents, two with coordinates, and a draft with coordinates."""
    return [
        make_incident(
            published=True,
            title='=HYPERLINK("http://evil.example")',
            country="GB",
            latitude=Decimal("54.9981"),
            longitude=Decimal("-7.30934"),
            geo_precision="locality",
            weapons=[{"category": "grenade", "quantity": 2, "description": "-military grade"}],
            actors=[make_actor(name="New IRA", kind="extremist_group")],
            tags=["hand-grenades"],
            citations=[cite(make_source(publisher="+Derry Journal"))],
        ),
        make_incident(
            published=True,
            title="Malmö grenades",
            country="SE",
            latitude=Decimal("55.60587"),
            longitude=Decimal("13.00073"),
            geo_precision="locality",
            weapons=[{"category": "grenade", "quantity": 50}],
        ),
        make_incident(published=True, title="No coordinates", country="NL"),
        make_incident(title="Draft", country="SE", latitude=Decimal("59.3"), longitude=Decimal("18.0")),
    ]


def streamed_body(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode()


# --- GeoJSON --------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", [{"format": "geojson"}, "accept"])
def test_geojson_is_a_feature_collection_of_the_filtered_incidents_with_coordinates(anon_client, mapped, how):
    if how == "accept":
        response = anon_client.get(LIST_URL, {"weapon_category": "grenade"}, HTTP_ACCEPT="application/geo+json")
    else:
        response = anon_client.get(LIST_URL, {"weapon_category": "grenade", **how})
    assert response.status_code == status.HTTP_200_OK
    assert response["Content-Type"] == "application/geo+json"
    collection = json.loads(streamed_body(response))
    listed = anon_client.get(LIST_URL, {"weapon_category": "grenade", "has_coordinates": "true"}).json()["results"]
    assert collection["type"] == "FeatureCollection"
    assert [feature["id"] for feature in collection["features"]] == [item["id"] for item in listed]
    for feature, item in zip(collection["features"], listed, strict=True):
        assert feature["type"] == "Feature"
        assert feature["geometry"] == {"type": "Point", "coordinates": [item["longitude"], item["latitude"]]}
        assert feature["properties"] == item


def test_geojson_leaves_out_incidents_without_coordinates(anon_client, mapped):
    collection = json.loads(streamed_body(anon_client.get(LIST_URL, {"format": "geojson"})))
    titles = {feature["properties"]["title"] for feature in collection["features"]}
    assert "No coordinates" not in titles and "Draft" not in titles
    assert len(titles) == 2


# --- CSV ------------------------------------------------------------------------------------------


def csv_rows(client, params: dict) -> list[dict]:
    response = client.get(LIST_URL, {"format": "csv", **params})
    assert response.status_code == status.HTTP_200_OK
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(streamed_body(response))))


@pytest.mark.parametrize("params", [{}, {"country": "SE,GB"}, {"has_coordinates": "false"}, {"q": "malmo"}])
def test_csv_has_one_row_per_incident_of_the_list(anon_client, mapped, params):
    rows = csv_rows(anon_client, params)
    listed = anon_client.get(LIST_URL, params).json()
    assert len(rows) == listed["count"]
    assert [int(row["id"]) for row in rows] == [item["id"] for item in listed["results"]]


def test_csv_by_accept_header(anon_client, mapped):
    response = anon_client.get(LIST_URL, HTTP_ACCEPT="text/csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"


def test_csv_header_is_the_record_and_nested_cells_are_json(anon_client, mapped):
    response = anon_client.get(LIST_URL, {"format": "csv", "country": "GB"})
    text = streamed_body(response)
    header = text.splitlines()[0].split(",")
    assert header == list(anon_client.get(LIST_URL).json()["results"][0])
    [row] = list(csv.DictReader(io.StringIO(text)))
    weapon = {
        "category": "grenade",
        "description": "-military grade",
        "quantity": 2,
        "quantity_precision": "exact",
        "suspected_origin": None,
    }
    assert json.loads(row["weapons"]) == [{**weapon, "markings": "", "serials": []}]
    assert [actor["name"] for actor in json.loads(row["actors"])] == ["New IRA"]
    assert json.loads(row["tags"]) == ["hand-grenades"]
    assert json.loads(row["sources"])[0]["publisher"] == "+Derry Journal"
    assert json.loads(row["geocode"])["provider"] == "manual"


def test_csv_neutralises_formulas_in_text_cells_only(anon_client, mapped):
    [row] = csv_rows(anon_client, {"country": "GB"})
    assert row["title"] == '\'=HYPERLINK("http://evil.example")'
    assert row["longitude"] == "-7.30934"
    assert row["latitude"] == "54.9981"
    assert row["weapons_total"] == "2"


def test_csv_fields_selection(anon_client, mapped):
    text = streamed_body(anon_client.get(LIST_URL, {"format": "csv", "fields": "id,title,country"}))
    assert text.splitlines()[0] == "id,title,country"


def test_csv_and_geojson_are_streamed(anon_client, mapped):
    for export_format in ("csv", "geojson"):
        assert isinstance(anon_client.get(LIST_URL, {"format": export_format}), StreamingHttpResponse)


def bulk_published(count: int) -> None:
    """Many rows quickly, for the memory test only (bypasses the services on purpose)."""
    Incident.objects.bulk_create(
        [
            Incident(
                uid=uuid.uuid4(),
                title=f"Row {number}",
                summary="Synthetic row for a memory test " * 3,
                incident_type="seizure",
                occurred_on=datetime.date(2020, 1, 1) + datetime.timedelta(days=number % 1500),
                country="FI",
                latitude=Decimal("60.1"),
                longitude=Decimal("24.9"),
                geo_precision="locality",
                status="published",
                weapons_total=number % 7,
            )
            for number in range(count)
        ],
        batch_size=2000,
    )


@pytest.mark.no_records_audit  # the rows are bulk-inserted around the services: the export builds their records
def test_a_20000_row_csv_export_stays_under_20_mb(editor_client):
    bulk_published(20_000)
    response = editor_client.get(LIST_URL, {"format": "csv"})
    tracemalloc.start()
    rows = 0
    for chunk in response.streaming_content:
        rows += chunk.count(b"\n")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert rows == 20_001
    assert peak < 20 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_anonymous_exports_are_capped(anon_client, editor_client, settings, mapped):
    settings.EXPORT_ANON_MAX_ROWS = 1
    for export_format in ("csv", "geojson"):
        capped = anon_client.get(LIST_URL, {"format": export_format})
        assert capped.status_code == status.HTTP_400_BAD_REQUEST
        assert capped["Content-Type"] == "application/json"
        assert "Narrow the filters" in capped.json()["detail"][0]
    assert len(csv_rows(anon_client, {"country": "SE"})) == 1
    assert len(csv_rows(editor_client, {})) == 4


@pytest.mark.parametrize("export_format", ["csv", "geojson"])
def test_errors_are_json_in_every_format(anon_client, export_format):
    response = anon_client.get(LIST_URL, {"format": export_format, "country": "XX"})
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response["Content-Type"] == "application/json"
    assert list(response.json()) == ["country"]


@pytest.mark.parametrize("export_format", ["csv", "geojson"])
def test_drafts_are_absent_from_exports_for_non_editors(anon_client, reader_client, mapped, export_format):
    for client in (anon_client, reader_client):
        body = streamed_body(client.get(LIST_URL, {"format": export_format}))
        assert "Draft" not in body


# --- Field selection ------------------------------------------------------------------------------


def test_fields_selects_the_keys_of_list_and_detail(anon_client, mapped):
    listed = anon_client.get(LIST_URL, {"fields": "id,title,country"}).json()["results"]
    assert all(list(item) == ["id", "title", "country"] for item in listed)
    detail = anon_client.get(reverse("incident-detail", args=[mapped[0].pk]), {"fields": "weapons_total,id"}).json()
    assert detail == {"id": mapped[0].pk, "weapons_total": 2}


@pytest.mark.parametrize("fields", ["id,colour", "", "id,,title"])
def test_unknown_fields_answer_400(anon_client, mapped, fields):
    for url in (LIST_URL, reverse("incident-detail", args=[mapped[0].pk])):
        response = anon_client.get(url, {"fields": fields})
        assert response.status_code == status.HTTP_400_BAD_REQUEST
        assert list(response.json()) == ["fields"]


def test_stats_and_countries_do_not_take_fields(anon_client):
    for url, extra in ((reverse("stats"), {"group_by": "country"}), (reverse("country-list"), {})):
        response = anon_client.get(url, {"fields": "id", **extra})
        assert (response.status_code, list(response.json())) == (400, ["fields"])


# --- CORS -----------------------------------------------------------------------------------------


def test_cross_origin_get_is_allowed_without_credentials(anon_client, mapped):
    response = anon_client.get(LIST_URL, HTTP_ORIGIN="https://dashboard.example.org")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response


def test_cross_origin_writes_get_no_cors_headers(editor_client):
    response = editor_client.post(LIST_URL, {}, format="json", HTTP_ORIGIN="https://dashboard.example.org")
    assert "Access-Control-Allow-Origin" not in response
    preflight = editor_client.options(
        LIST_URL, HTTP_ORIGIN="https://dashboard.example.org", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert "POST" not in preflight.get("Access-Control-Allow-Methods", "")


def test_cors_origins_can_be_restricted(anon_client, settings, mapped):
    settings.CORS_ALLOW_ALL_ORIGINS = False
    settings.CORS_ALLOWED_ORIGINS = ["https://dashboard.example.org"]
    allowed = anon_client.get(LIST_URL, HTTP_ORIGIN="https://dashboard.example.org")
    other = anon_client.get(LIST_URL, HTTP_ORIGIN="https://elsewhere.example.org")
    assert allowed["Access-Control-Allow-Origin"] == "https://dashboard.example.org"
    assert "Access-Control-Allow-Origin" not in other


@pytest.mark.parametrize("url", [LIST_URL, reverse("source-list"), reverse("stats")])
def test_an_unknown_format_answers_400_naming_it(anon_client, url):
    response = anon_client.get(url, {"format": "xlsx"})
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert list(response.json()) == ["format"]
