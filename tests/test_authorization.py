"""The authorization matrix of API.md "Who may do what": anonymous, reader, editor and superuser, over
every route, method and format, with object-level access to drafts and the privacy of individuals."""

import csv
import io
import json
from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from incidents import services
from tests.factories import cite, make_actor, make_incident, make_source

pytestmark = pytest.mark.django_db
ROLES = ("anonymous", "reader", "editor", "superuser")
EDITORS = {"editor", "superuser"}


@pytest.fixture
def clients(anon_client, reader_client, editor_client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="root-password-1")  # in no group
    superuser = APIClient()
    superuser.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=admin).key}")
    return {"anonymous": anon_client, "reader": reader_client, "editor": editor_client, "superuser": superuser}


@pytest.fixture
def world():
    """A published incident with a named individual, a draft and an archived one, each with what only it
    cites or links, in countries of their own."""
    person = make_actor(name="Erik Exempel", kind="individual")
    published = make_incident(
        published=True, country="SE", actors=[person], latitude=Decimal("59.3"), longitude=Decimal("18.1")
    )
    draft_source, draft_actor = make_source(), make_actor(name="Draft Gang")
    draft = make_incident(
        country="EE",
        citations=[cite(draft_source)],
        actors=[draft_actor],
        latitude=Decimal("59.4"),
        longitude=Decimal("24.7"),
    )
    archived = make_incident(published=True, country="LV", latitude=Decimal("56.9"), longitude=Decimal("24.1"))
    services.incident_archive(incident=archived, user=None)
    return {"published": published, "draft": draft, "archived": archived, "person": person}


def streamed(response) -> str:
    return b"".join(response.streaming_content).decode()


def listed_ids(client, query: str = "") -> dict[str, set[int]]:
    """The incident ids the caller gets from the list in each format."""
    as_json = {r["id"] for r in client.get(f"/api/v1/incidents/?limit=1000{query}").json()["results"]}
    features = json.loads(streamed(client.get(f"/api/v1/incidents/?format=geojson{query}")))["features"]
    geojson = {feature["id"] for feature in features}
    rows = csv.DictReader(io.StringIO(streamed(client.get(f"/api/v1/incidents/?format=csv{query}"))))
    return {"json": as_json, "geojson": geojson, "csv": {int(row["id"]) for row in rows}}


@pytest.mark.parametrize("role", ROLES)
def test_drafts_and_archived_incidents_exist_for_editors_only_in_every_read(clients, world, role):
    client = clients[role]
    editor = role in EDITORS
    everyone = {world["published"].pk} | ({world["draft"].pk, world["archived"].pk} if editor else set())
    assert listed_ids(client) == {"json": everyone, "geojson": everyone, "csv": everyone}
    for hidden in ("draft", "archived"):
        assert client.get(f"/api/v1/incidents/{world[hidden].pk}/").status_code == (200 if editor else 404)
        assert client.get(f"/api/v1/incidents/{world[hidden].pk}/similar/").status_code == (200 if editor else 404)
    stats = client.get("/api/v1/stats/?group_by=country").json()
    assert {row["key"] for row in stats["results"]} == ({"SE", "EE", "LV"} if editor else {"SE"})
    assert {c["code"] for c in client.get("/api/v1/countries/").json()} == ({"SE", "EE", "LV"} if editor else {"SE"})
    draft_source = world["draft"].citations.get().source_id
    draft_actor = world["draft"].actors.get().pk
    assert client.get(f"/api/v1/sources/{draft_source}/").status_code == (200 if editor else 404)
    assert client.get(f"/api/v1/actors/{draft_actor}/").status_code == (200 if editor else 404)
    similar = client.get(f"/api/v1/incidents/{world['published'].pk}/similar/").json()
    assert world["draft"].pk not in {row["incident"]["id"] for row in similar} or editor


@pytest.mark.parametrize("role", ROLES)
def test_the_name_of_an_individual_is_shown_to_editors_only_in_every_format(clients, world, role):
    client = clients[role]
    expected = "Erik Exempel" if role in EDITORS else None
    published = world["published"].pk
    detail = client.get(f"/api/v1/incidents/{published}/").json()
    assert [a["name"] for a in detail["actors"]] == [expected]
    feature = json.loads(streamed(client.get("/api/v1/incidents/?format=geojson&country=SE")))["features"][0]
    assert [a["name"] for a in feature["properties"]["actors"]] == [expected]
    row = next(csv.DictReader(io.StringIO(streamed(client.get("/api/v1/incidents/?format=csv&country=SE")))))
    assert [a["name"] for a in json.loads(row["actors"])] == [expected]
    assert client.get(f"/api/v1/actors/{world['person'].pk}/").json()["name"] == expected
    found = client.get("/api/v1/incidents/?q=exempel").json()["count"]
    assert found == (1 if role in EDITORS else 0)


EDITOR_ONLY_READS = ["/api/v1/incidents/{published}/history/", "/api/v1/geocode/?q=Tampere&country=FI"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", EDITOR_ONLY_READS)
def test_editor_only_reads(clients, world, role, path):
    response = clients[role].get(path.format(published=world["published"].pk))
    assert response.status_code == {"anonymous": 401, "reader": 403}.get(role, 200)


def writes(world) -> list[tuple[str, str, dict | None]]:
    published, source, actor = world["published"].pk, make_source().pk, make_actor().pk
    incident = {"title": "New", "incident_type": "claim", "occurred_on": "2022-01-01", "country": "FI"}
    return [
        ("post", "/api/v1/incidents/", incident),
        ("put", f"/api/v1/incidents/{published}/", {**incident, "status": "draft"}),
        ("patch", f"/api/v1/incidents/{published}/", {"summary": "Edited"}),
        ("post", "/api/v1/sources/", {"url": "https://example.org/new-source", "publisher": "New"}),
        ("patch", f"/api/v1/sources/{source}/", {"title": "Edited"}),
        ("post", "/api/v1/actors/", {"name": "New group", "kind": "unknown"}),
        ("patch", f"/api/v1/actors/{actor}/", {"name": "Renamed"}),
        ("delete", f"/api/v1/actors/{actor}/", None),
        ("delete", f"/api/v1/sources/{source}/", None),
        ("post", "/api/v1/incidents/import/", []),
        ("delete", f"/api/v1/incidents/{published}/", None),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_writes_need_an_editor_401_without_credentials_403_without_the_right(clients, world, role):
    expected = {"anonymous": 401, "reader": 403}.get(role)
    for method, path, body in writes(world):
        response = getattr(clients[role], method)(path, body, format="json")
        if expected:
            assert response.status_code == expected, (method, path)
            assert "detail" in response.json()
        else:
            assert response.status_code in (200, 201, 204), (method, path, response.content)


@pytest.mark.parametrize("role", sorted(EDITORS))
def test_read_only_fields_cannot_be_written(clients, world, role):
    incident = world["published"]
    before = clients[role].get(f"/api/v1/incidents/{incident.pk}/").json()
    forged = {
        "id": 999999,
        "version": 42,
        "weapons_total": 1000,
        "reported_on": "1999-01-01",
        "created_at": "1999-01-01T00:00:00Z",
        "updated_at": "1999-01-01T00:00:00Z",
        "country_name": "Atlantis",
        "uid": "00000000-0000-0000-0000-000000000001",
    }
    response = clients[role].patch(f"/api/v1/incidents/{incident.pk}/", forged, format="json")
    assert response.status_code == 200
    after = response.json()
    for name in ("id", "version", "weapons_total", "reported_on", "created_at", "updated_at", "country_name", "uid"):
        assert after[name] == before[name], name
