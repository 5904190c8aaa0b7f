"""Who sees what in every read endpoint: drafts and archived incidents, and what only they cite or name,
do not exist for non-editors."""

import datetime

import pytest
from django.urls import reverse
from rest_framework import status

from tests.factories import cite, make_actor, make_incident, make_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def split_world():
    public_source = make_source(publisher="Public")
    draft_source = make_source(publisher="Draft only")
    public_actor = make_actor(name="Public group")
    draft_actor = make_actor(name="Draft group")
    published = make_incident(
        published=True,
        country="FI",
        citations=[cite(public_source)],
        actors=[public_actor],
        weapons=[{"category": "pistol", "quantity": 2}],
        occurred_on=datetime.date(2023, 5, 1),
    )
    draft = make_incident(
        country="AT",
        citations=[cite(draft_source)],
        actors=[draft_actor],
        weapons=[{"category": "rifle", "quantity": 9}],
    )
    archived = make_incident(published=True, status="archived", country="FI", citations=[cite(draft_source)])
    return {
        "published": published,
        "draft": draft,
        "archived": archived,
        "public_source": public_source,
        "draft_source": draft_source,
        "public_actor": public_actor,
        "draft_actor": draft_actor,
    }


NON_EDITORS = ["anon_client", "reader_client"]


@pytest.mark.parametrize("client_name", NON_EDITORS)
def test_sources_cited_only_by_hidden_incidents_are_hidden(request, client_name, split_world):
    client = request.getfixturevalue(client_name)
    listed = [item["publisher"] for item in client.get(reverse("source-list")).json()["results"]]
    assert listed == ["Public"]
    hidden = reverse("source-detail", args=[split_world["draft_source"].pk])
    assert client.get(hidden).status_code == status.HTTP_404_NOT_FOUND


def test_editors_see_every_source_and_actor(editor_client, split_world):
    sources = [item["publisher"] for item in editor_client.get(reverse("source-list")).json()["results"]]
    assert sorted(sources) == ["Draft only", "Public"]
    actors = [item["name"] for item in editor_client.get(reverse("actor-list")).json()["results"]]
    assert sorted(actors) == ["Draft group", "Public group"]


@pytest.mark.parametrize("client_name", NON_EDITORS)
def test_actors_linked_only_to_hidden_incidents_are_hidden(request, client_name, split_world):
    client = request.getfixturevalue(client_name)
    listed = [item["name"] for item in client.get(reverse("actor-list")).json()["results"]]
    assert listed == ["Public group"]
    hidden = reverse("actor-detail", args=[split_world["draft_actor"].pk])
    assert client.get(hidden).status_code == status.HTTP_404_NOT_FOUND


@pytest.mark.parametrize("client_name", NON_EDITORS)
def test_countries_count_only_visible_incidents(request, client_name, split_world):
    body = request.getfixturevalue(client_name).get(reverse("country-list")).json()
    assert body == [
        {
            "code": "FI",
            "name": "Finland",
            "incidents": 1,
            "weapons": 2,
            "weapons_approximate": 0,
            "latest_occurred_on": "2023-05-01",
        }
    ]


def test_countries_for_editors_include_every_status(editor_client, split_world):
    body = editor_client.get(reverse("country-list")).json()
    assert [(row["code"], row["incidents"], row["weapons"]) for row in body] == [("AT", 1, 9), ("FI", 2, 2)]


def test_countries_take_the_incident_filters(anon_client, split_world):
    make_incident(published=True, country="SE", weapons=[{"category": "grenade", "quantity": 5}])
    body = anon_client.get(reverse("country-list"), {"weapon_category": "grenade"}).json()
    assert [row["code"] for row in body] == ["SE"]
    response = anon_client.get(reverse("country-list"), {"country": "XX"})
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert list(response.json()) == ["country"]


def test_actor_search_does_not_match_individuals_for_non_editors(anon_client, reader_client, editor_client):
    person = make_actor(name="Jane Doe", kind="individual")
    make_incident(published=True, actors=[person])
    for client in (anon_client, reader_client):
        body = client.get(reverse("actor-list"), {"q": "jane"}).json()
        assert body["count"] == 0
        everyone = client.get(reverse("actor-list")).json()["results"]
        assert everyone == [{"id": person.pk, "name": None, "kind": "individual"}]
    assert editor_client.get(reverse("actor-list"), {"q": "jane"}).json()["results"][0]["name"] == "Jane Doe"


def test_source_and_actor_lists_are_strict_too(anon_client):
    for url, query in ((reverse("source-list"), {"sorce_type": "news"}), (reverse("actor-list"), {"kind": "alien"})):
        response = anon_client.get(url, query)
        assert response.status_code == status.HTTP_400_BAD_REQUEST
        assert list(response.json()) == list(query)


def test_source_search_and_filters(anon_client):
    yle = make_source(publisher="Yle News", url="https://yle.fi/a/3-12670239", source_type="news")
    nos = make_source(publisher="NOS", source_type="official")
    make_incident(published=True, citations=[cite(yle), cite(nos)])
    by_url = anon_client.get(reverse("source-list"), {"q": "yle.fi"}).json()["results"]
    assert [item["id"] for item in by_url] == [yle.pk]
    by_type = anon_client.get(reverse("source-list"), {"source_type": "official"}).json()["results"]
    assert [item["id"] for item in by_type] == [nos.pk]
    by_publisher = anon_client.get(reverse("source-list"), {"publisher": "nos"}).json()["results"]
    assert [item["id"] for item in by_publisher] == [nos.pk]
