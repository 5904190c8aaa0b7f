"""The read endpoints: visibility by role, the full record shape, paging."""

import datetime
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework import status

from tests.factories import cite, make_actor, make_incident, make_source

pytestmark = pytest.mark.django_db

LIST_URL = reverse("incident-list")


def detail_url(incident) -> str:
    return reverse("incident-detail", args=[incident.pk])


@pytest.fixture
def incidents_by_status():
    return {
        "published": make_incident(published=True, title="Published"),
        "draft": make_incident(title="Draft"),
        "archived": make_incident(published=True, status="archived", title="Archived"),
    }


# --- Visibility -----------------------------------------------------------------------------------


@pytest.mark.parametrize("client_name", ["anon_client", "reader_client"])
def test_non_editors_list_only_published_incidents(request, client_name, incidents_by_status):
    response = request.getfixturevalue(client_name).get(LIST_URL)
    assert response.status_code == status.HTTP_200_OK
    assert [item["title"] for item in response.json()["results"]] == ["Published"]
    assert response.json()["count"] == 1


def test_editors_list_every_status(editor_client, incidents_by_status):
    response = editor_client.get(LIST_URL)
    assert sorted(item["status"] for item in response.json()["results"]) == ["archived", "draft", "published"]


@pytest.mark.parametrize("client_name", ["anon_client", "reader_client"])
@pytest.mark.parametrize("hidden", ["draft", "archived"])
def test_drafts_and_archived_incidents_do_not_exist_for_non_editors(request, client_name, hidden, incidents_by_status):
    response = request.getfixturevalue(client_name).get(detail_url(incidents_by_status[hidden]))
    assert response.status_code == status.HTTP_404_NOT_FOUND


@pytest.mark.parametrize("shown", ["draft", "archived", "published"])
def test_editors_read_every_incident(editor_client, shown, incidents_by_status):
    response = editor_client.get(detail_url(incidents_by_status[shown]))
    assert response.status_code == status.HTTP_200_OK
    assert response.json()["status"] == shown


def test_unknown_incident_is_404(anon_client):
    assert anon_client.get(reverse("incident-detail", args=[999999])).status_code == status.HTTP_404_NOT_FOUND


@pytest.mark.parametrize("pk", ["null,null", "abc", "1.5", str(2**64), "-1"])
def test_an_id_that_is_no_integer_is_a_json_404_on_every_incident_route(editor_client, pk):
    for url in (f"/api/v1/incidents/{pk}/", f"/api/v1/incidents/{pk}/similar/"):
        response = editor_client.get(url)
        assert (response.status_code, response["Content-Type"]) == (404, "application/json")
    assert editor_client.patch(f"/api/v1/incidents/{pk}/", {}, format="json").status_code == 404


# --- Record shape ---------------------------------------------------------------------------------


def test_detail_has_every_field_of_the_contract_with_its_json_type(anon_client):
    source = make_source(
        url="https://yle.fi/a/3-12670239",
        title="NBI suspects arms sent to Ukraine might be in criminal hands",
        publisher="Yle News",
        published_on=datetime.date(2022, 10, 30),
        language="en",
    )
    actor = make_actor(name="Bandidos MC", kind="motorcycle_gang")
    incident = make_incident(
        published=True,
        title="Claim",
        country="FI",
        place="Vuosaari",
        admin1="Uusimaa",
        latitude=Decimal("60.20963"),
        longitude=Decimal("25.14195"),
        geo_precision="locality",
        weapons=[
            {"category": "assault_rifle", "quantity": None, "suspected_origin": "UA"},
            {"category": "pistol", "quantity": 3, "description": "handguns", "markings": "none seen"},
        ],
        citations=[cite(source, excerpt="have also been found", excerpt_language="en", stance="supports")],
        actors=[actor],
        tags=["ukraine-aid"],
    )
    record = anon_client.get(detail_url(incident)).json()

    assert set(record) == {
        "id", "uid", "version", "title", "summary", "incident_type", "occurred_on", "date_precision",
        "reported_on", "country", "country_name", "admin1", "place", "latitude", "longitude", "geo_precision",
        "geocode", "verification", "status", "weapons", "weapons_total", "actors", "tags", "sources",
        "created_at", "updated_at",
    }  # fmt: skip
    assert record["id"] == incident.pk and isinstance(record["id"], int)
    assert uuid.UUID(record["uid"]) == incident.uid
    assert record["version"] == 1
    assert record["occurred_on"] == "2022-10-30"
    assert record["reported_on"] == "2022-10-30"
    assert (record["country"], record["country_name"]) == ("FI", "Finland")
    assert (record["latitude"], record["longitude"]) == (60.20963, 25.14195)
    assert record["geo_precision"] == "locality"
    assert record["geocode"]["provider"] == "manual"
    assert set(record["geocode"]) == {"provider", "query", "geocoded_at", "warning"}
    assert record["geocode"]["warning"] is None
    assert record["weapons"] == [
        {
            "category": "assault_rifle",
            "description": "",
            "quantity": None,
            "quantity_precision": "exact",
            "suspected_origin": "UA",
            "markings": "",
            "serials": [],
        },
        {
            "category": "pistol",
            "description": "handguns",
            "quantity": 3,
            "quantity_precision": "exact",
            "suspected_origin": None,
            "markings": "none seen",
            "serials": [],
        },
    ]
    assert record["weapons_total"] == 3
    assert record["actors"] == [{"id": actor.pk, "name": "Bandidos MC", "kind": "motorcycle_gang"}]
    assert record["tags"] == ["ukraine-aid"]
    citation = record["sources"][0]
    assert citation["id"] == source.pk
    assert {key: citation[key] for key in ("url", "publisher", "published_on", "excerpt", "stance")} == {
        "url": "https://yle.fi/a/3-12670239",
        "publisher": "Yle News",
        "published_on": "2022-10-30",
        "excerpt": "have also been found",
        "stance": "supports",
    }
    assert {"title", "source_type", "language", "archived_url"} <= set(citation)
    for stamp in ("created_at", "updated_at"):
        assert datetime.datetime.fromisoformat(record[stamp].replace("Z", "+00:00")).tzinfo is not None


def test_incident_without_coordinates_has_null_coordinates_and_geocode(anon_client):
    record = anon_client.get(detail_url(make_incident(published=True))).json()
    assert (record["latitude"], record["longitude"], record["geo_precision"], record["geocode"]) == (
        None,
        None,
        None,
        None,
    )


def test_individual_names_are_shown_to_editors_only(anon_client, reader_client, editor_client):
    person = make_actor(name="Jane Doe", kind="individual")
    incident = make_incident(published=True, actors=[person])
    for client in (anon_client, reader_client):
        assert client.get(detail_url(incident)).json()["actors"] == [
            {"id": person.pk, "name": None, "kind": "individual"}
        ]
    assert editor_client.get(detail_url(incident)).json()["actors"][0]["name"] == "Jane Doe"


# --- List and paging ------------------------------------------------------------------------------


def test_list_is_ordered_by_occurred_on_descending_then_id(anon_client):
    older = make_incident(published=True, occurred_on=datetime.date(2021, 6, 7))
    newer_first = make_incident(published=True, occurred_on=datetime.date(2023, 2, 1))
    newer_second = make_incident(published=True, occurred_on=datetime.date(2023, 2, 1))
    ids = [item["id"] for item in anon_client.get(LIST_URL).json()["results"]]
    assert ids == [newer_second.pk, newer_first.pk, older.pk]


def test_list_pages_with_limit_and_offset(anon_client):
    for day in range(1, 6):
        make_incident(published=True, occurred_on=datetime.date(2022, 1, day))
    first = anon_client.get(LIST_URL, {"limit": 2}).json()
    second = anon_client.get(LIST_URL, {"limit": 2, "offset": 2}).json()
    assert first["count"] == second["count"] == 5
    assert [item["occurred_on"] for item in first["results"] + second["results"]] == [
        "2022-01-05",
        "2022-01-04",
        "2022-01-03",
        "2022-01-02",
    ]
    assert first["previous"] is None and "offset=2" in first["next"]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"limit": "abc"}, "limit"), ({"offset": -1}, "offset")],
)
def test_bad_page_parameters_answer_400_naming_them(anon_client, params, field):
    response = anon_client.get(LIST_URL, params)
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert list(response.json()) == [field]


def test_list_query_count_does_not_grow_with_the_page(anon_client, django_assert_max_num_queries):
    for _ in range(12):
        make_incident(
            published=True,
            weapons=[{"category": "pistol", "quantity": 1}],
            actors=[make_actor()],
            tags=["t"],
        )
    with django_assert_max_num_queries(8):
        response = anon_client.get(LIST_URL, {"limit": 12})
    assert len(response.json()["results"]) == 12


# --- Health ---------------------------------------------------------------------------------------


def test_healthz_reports_the_database(anon_client):
    response = anon_client.get("/healthz")
    assert response.status_code == status.HTTP_200_OK
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.no_records_audit
def test_healthz_answers_503_when_the_database_is_unreachable(anon_client, monkeypatch):
    from django.db import OperationalError, connection

    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", unreachable)
    response = anon_client.get("/healthz")
    assert response.status_code == status.HTTP_503_SERVICE_UNAVAILABLE
    assert response.json()["database"] == "unreachable"


@pytest.mark.parametrize("url", ["/api/v1/incidents/", "/api/v1/stats/?group_by=country", "/api/v1/incidents/1/"])
@pytest.mark.no_records_audit
def test_the_api_answers_503_in_json_when_the_database_is_unreachable(anon_client, monkeypatch, url):
    from django.db import OperationalError, connection

    def unreachable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", unreachable)
    response = anon_client.get(url)
    assert response.status_code == status.HTTP_503_SERVICE_UNAVAILABLE
    assert response.json() == {"detail": "The database is unavailable; try again shortly."}
    assert response["Retry-After"] == "5"
