"""Writes through the API: nested lists with the exact semantics of API.md "Writing", all-or-nothing
transactions, errors that name the field, and who may write."""

import datetime

import pytest
from django.apps import apps
from django.urls import reverse
from rest_framework import status

from incidents.models import Actor, Citation, Incident, Source, Tag, WeaponItem
from tests.factories import cite, make_actor, make_incident, make_source

pytestmark = pytest.mark.django_db

LIST_URL = reverse("incident-list")


def detail_url(incident) -> str:
    return reverse("incident-detail", args=[incident.pk])


def payload(**overrides) -> dict:
    data = {
        "title": "Shed with anti-tank weapons",
        "summary": "Police found weapons in a shed.",
        "incident_type": "seizure",
        "occurred_on": "2022-03-24",
        "country": "NL",
        "verification": "reported",
        "status": "draft",
    }
    data.update(overrides)
    return data


def row_counts() -> dict[str, int]:
    """Rows in every table of the app, history tables included."""
    return {model.__name__: model.objects.count() for model in apps.get_app_config("incidents").get_models()}


# --- Nested create --------------------------------------------------------------------------------


def test_nested_create_with_every_list(editor_client, editor_user):
    existing = make_source(
        url="https://nos.nl/artikel/2422644", publisher="NOS", published_on=datetime.date(2022, 3, 25)
    )
    by_url = make_source(url="https://example.org/by-url", publisher="Example")
    group = make_actor(name="Gang", kind="criminal_network")
    person = make_actor(name="Jane Doe", kind="individual")
    response = editor_client.post(
        LIST_URL,
        payload(
            status="published",
            country="nl",
            latitude=52.129170,
            longitude=4.65546,
            weapons=[
                {"category": "anti_tank_weapon", "quantity": 4},
                {"category": "pistol", "quantity": 22, "description": "handguns", "suspected_origin": "de"},
                {"category": "ammunition", "quantity": None},
            ],
            sources=[
                {"id": existing.pk, "excerpt": "vier antitankwapens", "excerpt_language": "nl", "stance": "supports"},
                {"url": by_url.url, "publisher": "Example"},
                {"url": "https://example.org/new", "publisher": "New Outlet", "title": "New", "stance": "disputes"},
            ],
            actors=[group.pk, {"id": person.pk}],
            tags=["anti-tank", "netherlands"],
        ),
        format="json",
    )
    assert response.status_code == status.HTTP_201_CREATED, response.json()
    record = response.json()
    incident = Incident.objects.get(pk=record["id"])
    assert record["country"] == "NL" and record["version"] == 1
    assert record["weapons_total"] == 26 and incident.weapons.count() == 3
    assert record["weapons"][1]["suspected_origin"] == "DE"
    assert record["reported_on"] == "2022-03-25"
    assert [c["id"] for c in record["sources"][:2]] == [existing.pk, by_url.pk]
    assert record["sources"][2]["stance"] == "disputes"
    assert Source.objects.get(url="https://example.org/new").publisher == "New Outlet"
    assert sorted(a["name"] for a in record["actors"]) == ["Gang", "Jane Doe"]
    assert sorted(record["tags"]) == ["anti-tank", "netherlands"]
    assert record["geocode"]["provider"] == "manual" and record["latitude"] == 52.12917
    assert incident.history.get().history_user == editor_user


def test_read_only_keys_are_ignored_and_uid_may_be_given_on_create(editor_client):
    uid = "6f1c1f8e-8f5a-4d8e-9a57-0e6cbe0c0001"
    response = editor_client.post(
        LIST_URL,
        payload(id=12345, uid=uid, version=99, weapons_total=1000, reported_on="2020-01-01", country_name="X"),
        format="json",
    )
    assert response.status_code == status.HTTP_201_CREATED, response.json()
    record = response.json()
    assert (record["uid"], record["version"], record["weapons_total"], record["reported_on"]) == (uid, 1, 0, None)
    assert record["id"] != 12345
    changed = editor_client.patch(
        detail_url(Incident.objects.get()), {"uid": "00000000-0000-0000-0000-000000000000"}, format="json"
    )
    assert changed.json()["uid"] == uid


def test_a_record_read_back_can_be_sent_back_unchanged(editor_client):
    incident = make_incident(published=True, weapons=[{"category": "grenade", "quantity": 2}], tags=["x"])
    record = editor_client.get(detail_url(incident)).json()
    response = editor_client.put(detail_url(incident), record, format="json")
    assert response.status_code == status.HTTP_200_OK, response.json()
    assert response.json()["version"] == 1


# --- Lists replace; absent lists stay -------------------------------------------------------------


@pytest.fixture
def full_incident():
    return make_incident(
        weapons=[{"category": "grenade", "quantity": 2}],
        citations=[cite(make_source())],
        actors=[make_actor(name="First")],
        tags=["first"],
    )


def test_each_list_is_replaced_when_given(editor_client, full_incident):
    new_source = make_source()
    new_actor = make_actor(name="Second")
    response = editor_client.patch(
        detail_url(full_incident),
        {
            "weapons": [{"category": "pistol", "quantity": 1}, {"category": "rifle", "quantity": 3}],
            "sources": [{"id": new_source.pk}],
            "actors": [new_actor.pk],
            "tags": ["second", "third"],
        },
        format="json",
    )
    assert response.status_code == status.HTTP_200_OK, response.json()
    record = response.json()
    assert [w["category"] for w in record["weapons"]] == ["pistol", "rifle"]
    assert [s["id"] for s in record["sources"]] == [new_source.pk]
    assert [a["name"] for a in record["actors"]] == ["Second"]
    assert sorted(record["tags"]) == ["second", "third"]
    assert record["weapons_total"] == 4 and record["version"] == 2


@pytest.mark.parametrize("kept", ["weapons", "sources", "actors", "tags"])
def test_each_list_is_unchanged_when_absent(editor_client, full_incident, kept):
    before = editor_client.get(detail_url(full_incident)).json()[kept]
    response = editor_client.patch(detail_url(full_incident), {"title": "Renamed"}, format="json")
    assert response.status_code == status.HTTP_200_OK
    assert response.json()[kept] == before
    assert response.json()["version"] == 2


@pytest.mark.parametrize("emptied", ["weapons", "sources", "actors", "tags"])
def test_an_empty_list_empties_it(editor_client, full_incident, emptied):
    response = editor_client.patch(detail_url(full_incident), {emptied: []}, format="json")
    assert response.status_code == status.HTTP_200_OK
    assert response.json()[emptied] == []


def test_put_needs_the_required_fields(editor_client, full_incident):
    response = editor_client.put(detail_url(full_incident), {"title": "Only a title"}, format="json")
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert set(response.json()) == {"incident_type", "occurred_on", "country"}


# --- Sources by id and by URL ---------------------------------------------------------------------


def test_a_source_is_reused_by_id_and_by_url(editor_client):
    source = make_source(url="https://yle.fi/a/3-12670239", publisher="Yle News")
    first = editor_client.post(LIST_URL, payload(sources=[{"id": source.pk}]), format="json")
    second = editor_client.post(
        LIST_URL, payload(sources=[{"url": "https://yle.fi/a/3-12670239", "publisher": "Yle News"}]), format="json"
    )
    assert first.status_code == second.status_code == status.HTTP_201_CREATED
    assert Source.objects.count() == 1
    assert Citation.objects.filter(source=source).count() == 2


@pytest.mark.parametrize(
    ("citation", "field"),
    [
        ({"title": "Another title"}, "title"),
        ({"publisher": "Someone else"}, "publisher"),
        ({"published_on": "2020-01-01"}, "published_on"),
        ({"url": "https://example.org/other"}, "url"),
    ],
)
def test_a_citation_that_differs_from_the_stored_source_is_refused(editor_client, citation, field):
    source = make_source(title="Stored title", publisher="Stored", published_on=datetime.date(2022, 1, 1))
    by_id = editor_client.post(LIST_URL, payload(sources=[{"id": source.pk, **citation}]), format="json")
    assert by_id.status_code == status.HTTP_400_BAD_REQUEST
    assert list(by_id.json()) == [f"sources[0].{field}"]
    if field != "url":
        by_url = editor_client.post(LIST_URL, payload(sources=[{"url": source.url, **citation}]), format="json")
        assert list(by_url.json()) == [f"sources[0].{field}"]
    source.refresh_from_db()
    assert (source.title, source.publisher) == ("Stored title", "Stored")
    assert not Incident.objects.exists()


# --- All or nothing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "broken",
    [
        {"weapons": [{"category": "pistol", "quantity": 1}, {"category": "rifle", "quantity": -1}]},
        {"sources": [{"url": "https://example.org/fresh", "publisher": "Fresh"}, {"url": "https://example.org/x"}]},
        {"status": "published", "sources": []},
        {"latitude": 10},
    ],
)
def test_a_failed_nested_write_leaves_no_row_behind(editor_client, broken):
    make_actor(name="Existing")
    before = row_counts()
    data = payload(
        sources=[{"url": "https://example.org/fresh", "publisher": "Fresh"}],
        tags=["brand-new-tag"],
        weapons=[{"category": "pistol", "quantity": 1}],
        actors=[Actor.objects.get().pk],
    )
    data.update(broken)
    response = editor_client.post(LIST_URL, data, format="json")
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert row_counts() == before
    assert not Tag.objects.filter(slug="brand-new-tag").exists()


def test_a_failed_update_changes_nothing(editor_client, full_incident):
    before = row_counts()
    response = editor_client.patch(
        detail_url(full_incident),
        {"title": "Changed", "tags": ["new-tag"], "weapons": [{"category": "mine", "quantity": -5}]},
        format="json",
    )
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert row_counts() == before
    full_incident.refresh_from_db()
    assert (full_incident.title, full_incident.version) != ("Changed", 2)


# --- Invalid payloads -----------------------------------------------------------------------------

INVALID_PAYLOADS = [
    ({"title": None}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"country": "FIN"}, "country"),
    ({"country": "246"}, "country"),
    ({"country": "XX"}, "country"),
    ({"incident_type": "bogus"}, "incident_type"),
    ({"occurred_on": "2022-13-01"}, "occurred_on"),
    ({"occurred_on": "2999-01-01"}, "occurred_on"),
    ({"date_precision": "week"}, "date_precision"),
    ({"latitude": 91, "longitude": 0}, "latitude"),
    ({"latitude": 0, "longitude": -181}, "longitude"),
    ({"latitude": 60}, "longitude"),
    ({"latitude": "north", "longitude": 0}, "latitude"),
    ({"geo_precision": "street"}, "geo_precision"),
    ({"verification": "maybe"}, "verification"),
    ({"status": "secret"}, "status"),
    ({"status": "published"}, "status"),
    ({"status": "published", "sources": []}, "sources"),
    ({"summary": "x" * 10_001}, "summary"),
    ({"colour": "red"}, "colour"),
    ({"uid": "not-a-uuid"}, "uid"),
    ({"weapons": "many"}, "weapons"),
    ({"weapons": [{"quantity": 1}]}, "weapons[0].category"),
    ({"weapons": [{"category": "pistol", "quantity": -1}]}, "weapons[0].quantity"),
    ({"weapons": [{"category": "pistol", "quantity": "lots"}]}, "weapons[0].quantity"),
    ({"weapons": [{"category": "pistol", "suspected_origin": "XX"}]}, "weapons[0].suspected_origin"),
    ({"weapons": [{"category": "pistol", "colour": "black"}]}, "weapons[0].colour"),
    ({"weapons": [{"category": "pistol"}] * 201}, "weapons"),
    ({"sources": ["https://example.org"]}, "sources[0]"),
    ({"sources": [{"id": 999999}]}, "sources[0].id"),
    ({"sources": [{"id": "one"}]}, "sources[0].id"),
    ({"sources": [{"url": "ftp://example.org/file", "publisher": "P"}]}, "sources[0].url"),
    ({"sources": [{"url": "https://example.org/new-one"}]}, "sources[0].publisher"),
    ({"sources": [{"url": "https://example.org/n", "publisher": "P", "stance": "neutral"}]}, "sources[0].stance"),
    ({"sources": [{"url": "https://example.org/n", "publisher": "P", "credibility": 7}]}, "sources[0].credibility"),
    ({"sources": [{"url": "https://example.org/n", "publisher": "P", "colour": 1}]}, "sources[0].colour"),
    ({"actors": [999999]}, "actors[0]"),
    ({"actors": ["gang"]}, "actors[0]"),
    ({"tags": ["not a slug"]}, "tags[0]"),
    ({"tags": [None]}, "tags[0]"),
]


@pytest.mark.parametrize(("change", "field"), INVALID_PAYLOADS)
def test_invalid_payload_answers_400_naming_the_field(editor_client, change, field):
    response = editor_client.post(LIST_URL, payload(**change), format="json")
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    body = response.json()
    assert list(body) == [field], body
    assert all(isinstance(message, str) and message for message in body[field])
    assert not Incident.objects.exists()


def test_the_invalid_payload_table_is_large_enough():
    assert len(INVALID_PAYLOADS) >= 25


@pytest.mark.parametrize("body", [[], "text", 7])
def test_a_body_that_is_not_an_object_is_refused(editor_client, body):
    response = editor_client.post(LIST_URL, body, format="json")
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert list(response.json()) == ["non_field_errors"]


def test_malformed_json_is_a_400_in_json(editor_client):
    response = editor_client.post(LIST_URL, "{not json", content_type="application/json")
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert "detail" in response.json()


# --- Who may write --------------------------------------------------------------------------------


def write_routes():
    incident = make_incident(published=True)
    source = make_source()
    actor = make_actor()
    return [
        ("post", LIST_URL, payload()),
        ("put", detail_url(incident), payload()),
        ("patch", detail_url(incident), {"title": "x"}),
        ("delete", detail_url(incident), None),
        ("post", reverse("source-list"), {"url": "https://example.org/s", "publisher": "P"}),
        ("put", reverse("source-detail", args=[source.pk]), {"url": source.url, "publisher": "P"}),
        ("patch", reverse("source-detail", args=[source.pk]), {"title": "x"}),
        ("delete", reverse("source-detail", args=[source.pk]), None),
        ("post", reverse("actor-list"), {"name": "A", "kind": "unknown"}),
        ("put", reverse("actor-detail", args=[actor.pk]), {"name": "B", "kind": "unknown"}),
        ("patch", reverse("actor-detail", args=[actor.pk]), {"name": "C"}),
        ("delete", reverse("actor-detail", args=[actor.pk]), None),
    ]


@pytest.mark.parametrize(("client_name", "expected"), [("anon_client", 401), ("reader_client", 403)])
def test_writes_need_an_editor(request, client_name, expected):
    client = request.getfixturevalue(client_name)
    routes = write_routes()
    before = row_counts()
    for method, url, body in routes:
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == expected, (method, url, response.status_code)
        assert "detail" in response.json()
    assert row_counts() == before


def test_anonymous_writes_say_how_to_authenticate(anon_client):
    response = anon_client.post(LIST_URL, payload(), format="json")
    assert response.headers["WWW-Authenticate"] == "Token"


# --- Deleting -------------------------------------------------------------------------------------


def test_delete_answers_204_and_records_history(editor_client, editor_user, full_incident):
    response = editor_client.delete(detail_url(full_incident))
    assert response.status_code == status.HTTP_204_NO_CONTENT
    assert not Incident.objects.exists() and not WeaponItem.objects.exists()
    assert Incident.history.filter(history_type="-").get().history_user == editor_user


def test_deleting_a_cited_source_answers_409(editor_client, full_incident):
    source = full_incident.citations.get().source
    response = editor_client.delete(reverse("source-detail", args=[source.pk]))
    assert response.status_code == status.HTTP_409_CONFLICT
    assert "detail" in response.json()
    assert Source.objects.filter(pk=source.pk).exists()


def test_deleting_an_uncited_source_answers_204(editor_client):
    source = make_source()
    assert editor_client.delete(reverse("source-detail", args=[source.pk])).status_code == status.HTTP_204_NO_CONTENT


def test_deleting_a_linked_actor_answers_409(editor_client, full_incident):
    actor = full_incident.actors.get()
    assert editor_client.delete(reverse("actor-detail", args=[actor.pk])).status_code == status.HTTP_409_CONFLICT


# --- Sources and actors ---------------------------------------------------------------------------


def test_source_create_and_duplicate_url(editor_client, editor_user):
    body = {"url": "https://yle.fi/a/3-12670239", "publisher": "Yle News", "source_type": "news", "reliability": "B"}
    created = editor_client.post(reverse("source-list"), body, format="json")
    assert created.status_code == status.HTTP_201_CREATED, created.json()
    assert Source.objects.get().history.get().history_user == editor_user
    duplicate = editor_client.post(reverse("source-list"), body, format="json")
    assert duplicate.status_code == status.HTTP_400_BAD_REQUEST
    assert list(duplicate.json()) == ["url"]


def test_editing_a_source_raises_the_version_of_citing_incidents(editor_client, full_incident):
    source = full_incident.citations.get().source
    response = editor_client.patch(reverse("source-detail", args=[source.pk]), {"title": "Fixed"}, format="json")
    assert response.status_code == status.HTTP_200_OK
    record = editor_client.get(detail_url(full_incident)).json()
    assert (record["version"], record["sources"][0]["title"]) == (2, "Fixed")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"publisher": "P"}, "url"),
        ({"url": "https://example.org/a"}, "publisher"),
        ({"url": "javascript:alert(1)", "publisher": "P"}, "url"),
        ({"url": "https://example.org/a", "publisher": "P", "reliability": "G"}, "reliability"),
        ({"url": "https://example.org/a", "publisher": "P", "published_on": "2999-01-01"}, "published_on"),
        ({"url": "https://example.org/a", "publisher": "P", "rank": 1}, "rank"),
    ],
)
def test_invalid_source_answers_400_naming_the_field(editor_client, body, field):
    response = editor_client.post(reverse("source-list"), body, format="json")
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert list(response.json()) == [field]


def test_actor_create_duplicate_and_invalid_kind(editor_client):
    body = {"name": "Bandidos MC", "kind": "motorcycle_gang"}
    assert editor_client.post(reverse("actor-list"), body, format="json").status_code == status.HTTP_201_CREATED
    duplicate = editor_client.post(reverse("actor-list"), body, format="json")
    assert duplicate.status_code == status.HTTP_400_BAD_REQUEST
    invalid = editor_client.post(reverse("actor-list"), {"name": "X", "kind": "alien"}, format="json")
    assert list(invalid.json()) == ["kind"]
    unnamed = editor_client.post(reverse("actor-list"), {"name": None, "kind": "unknown"}, format="json")
    assert list(unnamed.json()) == ["name"]
