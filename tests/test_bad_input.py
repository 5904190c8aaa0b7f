"""A table of bad inputs, each answered 4xx in JSON with nothing written."""

import json

import pytest

from incidents.models import Actor, Citation, Incident, IncidentRemoval, Source, Tag, WeaponItem
from tests.factories import make_actor, make_incident, make_source

pytestmark = pytest.mark.django_db

GOOD = {"title": "A seizure", "incident_type": "seizure", "occurred_on": "2022-10-30", "country": "FI"}
BIG = 2**70


def incident(**changes) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()


JSON = "application/json"
# (method, path, body, content type, status, the parameter or field the answer names (or None))
CASES = [
    # Wrong types
    ("post", "/api/v1/incidents/", incident(title=["a list"]), JSON, 400, "title"),
    ("post", "/api/v1/incidents/", incident(title=None), JSON, 400, "title"),
    ("post", "/api/v1/incidents/", incident(occurred_on=20221030), JSON, 400, "occurred_on"),
    ("post", "/api/v1/incidents/", incident(country=46), JSON, 400, "country"),
    ("post", "/api/v1/incidents/", incident(latitude="north", longitude=1), JSON, 400, "latitude"),
    ("post", "/api/v1/incidents/", incident(weapons={"category": "rifle"}), JSON, 400, "weapons"),
    ("post", "/api/v1/incidents/", incident(weapons=[{"category": "rifle", "quantity": "two"}]), JSON, 400, None),
    ("post", "/api/v1/incidents/", incident(weapons=[{"category": "rifle", "quantity": True}]), JSON, 400, None),
    ("post", "/api/v1/incidents/", incident(sources="https://example.org"), JSON, 400, "sources"),
    ("post", "/api/v1/incidents/", incident(sources=[{"id": "1"}]), JSON, 400, "sources[0].id"),
    ("post", "/api/v1/incidents/", incident(actors=[{"name": "x"}]), JSON, 400, "actors[0]"),
    ("post", "/api/v1/incidents/", incident(tags="a,b"), JSON, 400, "tags"),
    ("post", "/api/v1/incidents/", incident(tags=["not a slug"]), JSON, 400, "tags[0]"),
    ("post", "/api/v1/incidents/", b"[1, 2, 3]", JSON, 400, None),
    ("post", "/api/v1/incidents/", b'"just a string"', JSON, 400, None),
    ("post", "/api/v1/sources/", json.dumps({"url": 42, "publisher": "P"}).encode(), JSON, 400, "url"),
    ("post", "/api/v1/actors/", json.dumps({"name": "G", "kind": ["unknown"]}).encode(), JSON, 400, "kind"),
    # Bad values
    ("post", "/api/v1/incidents/", incident(country="FIN"), JSON, 400, "country"),
    ("post", "/api/v1/incidents/", incident(occurred_on="2999-01-01"), JSON, 400, "occurred_on"),
    ("post", "/api/v1/incidents/", incident(occurred_on="2022-02-30"), JSON, 400, "occurred_on"),
    ("post", "/api/v1/incidents/", incident(incident_type="robbery"), JSON, 400, "incident_type"),
    ("post", "/api/v1/incidents/", incident(latitude=91, longitude=0), JSON, 400, "latitude"),
    ("post", "/api/v1/incidents/", incident(latitude=10), JSON, 400, "longitude"),
    ("post", "/api/v1/incidents/", incident(status="published"), JSON, 400, "status"),
    (
        "post",
        "/api/v1/sources/",
        json.dumps({"url": "ftp://example.org/x", "publisher": "P"}).encode(),
        JSON,
        400,
        "url",
    ),
    ("post", "/api/v1/incidents/", incident(unknown_key=1), JSON, 400, "unknown_key"),
    # Huge values
    ("post", "/api/v1/incidents/", incident(title="t" * 201), JSON, 400, "title"),
    ("post", "/api/v1/incidents/", incident(summary="s" * 10_001), JSON, 400, "summary"),
    ("post", "/api/v1/incidents/", incident(weapons=[{"category": "rifle", "quantity": BIG}]), JSON, 400, None),
    ("post", "/api/v1/incidents/", incident(weapons=[{"category": "pistol"}] * 201), JSON, 400, "weapons"),
    ("post", "/api/v1/incidents/", incident(tags=[f"t{n}" for n in range(31)]), JSON, 400, "tags"),
    ("post", "/api/v1/incidents/", incident(sources=[{"id": BIG}]), JSON, 400, None),
    ("post", "/api/v1/incidents/", incident(actors=[BIG]), JSON, 400, "actors[0]"),
    ("post", "/api/v1/incidents/", incident(latitude=1e308, longitude=1e308), JSON, 400, "latitude"),
    ("post", "/api/v1/incidents/", incident(summary="x" * (1024 * 1024)), JSON, 413, None),
    # NUL bytes
    ("post", "/api/v1/incidents/", incident(title="bad\x00title"), JSON, 400, "title"),
    ("post", "/api/v1/incidents/", incident(tags=["a\x00b"]), JSON, 400, "tags[0]"),
    (
        "post",
        "/api/v1/sources/",
        json.dumps({"url": "https://e.org/\x00", "publisher": "P"}).encode(),
        JSON,
        400,
        "url",
    ),
    # Malformed JSON and wrong content types
    ("post", "/api/v1/incidents/", b'{"title": ', JSON, 400, None),
    ("post", "/api/v1/incidents/", b"\xff\xfe{}", JSON, 400, None),
    ("post", "/api/v1/incidents/", b"{'title': 'single quotes'}", JSON, 400, None),
    # Writes take JSON only (the one body the OpenAPI document describes).
    ("post", "/api/v1/incidents/", b"title=x", "application/x-www-form-urlencoded", 415, None),
    ("post", "/api/v1/sources/", b"url=https://x.example", "multipart/form-data; boundary=x", 415, None),
    ("post", "/api/v1/incidents/", b"<incident/>", "application/xml", 415, None),
    ("post", "/api/v1/incidents/", b"title,country\nx,FI\n", "text/csv", 415, None),
    ("post", "/api/v1/incidents/import/", b"[{", JSON, 400, None),
    ("post", "/api/v1/incidents/import/", b"\x00\x01", "text/csv", 400, None),
    ("post", "/api/v1/incidents/import/", b"x" * (10 * 1024 * 1024 + 1), "text/csv", 413, None),
    # Query strings
    ("get", "/api/v1/incidents/?country=F%00I", None, None, 400, "country"),
    ("get", "/api/v1/incidents/?limit=1001", None, None, 400, "limit"),
    ("get", "/api/v1/incidents/?limit=-1", None, None, 400, "limit"),
    ("get", "/api/v1/incidents/?offset=-5", None, None, 400, "offset"),
    ("get", f"/api/v1/incidents/?offset={BIG}", None, None, 400, "offset"),  # beyond any database's integers
    ("get", "/api/v1/incidents/?offset=1000000000", None, None, 200, None),  # past the end: an empty page
    ("get", "/api/v1/incidents/?actor=987654", None, None, 200, None),  # matches nothing: not an error
    ("get", f"/api/v1/incidents/?actor={BIG}", None, None, 400, "actor"),  # no id is that large
    ("get", "/api/v1/incidents/?min_weapons=1e9999", None, None, 400, "min_weapons"),
    ("get", "/api/v1/incidents/?radius_km=nan&lat=1&lon=1", None, None, 400, "radius_km"),
    ("get", "/api/v1/incidents/?bbox=1,2,3", None, None, 400, "bbox"),
    ("get", "/api/v1/incidents/?q=" + "x" * 201, None, None, 400, "q"),
    ("get", "/api/v1/incidents/?updated_since=yesterday", None, None, 400, "updated_since"),
    ("get", "/api/v1/incidents/?fields=id,password", None, None, 400, "fields"),
    ("get", "/api/v1/incidents/?format=xml", None, None, 400, "format"),
    ("get", "/api/v1/stats/?group_by=country&ordering=id", None, None, 400, "ordering"),
    ("get", "/api/v1/incidents/deleted/?since=%00", None, None, 400, "since"),
]


def row_counts() -> dict:
    models = (Incident, WeaponItem, Citation, Source, Actor, Tag, IncidentRemoval)
    counts = {model.__name__: model.objects.count() for model in models}
    counts |= {f"history of {model.__name__}": model.history.count() for model in models if hasattr(model, "history")}
    return counts


def test_the_table_is_large_enough():
    assert len([case for case in CASES if case[4] >= 400]) >= 40


@pytest.mark.parametrize(("method", "path", "body", "content_type", "status", "named"), CASES)
def test_bad_input_is_answered_4xx_in_json_and_nothing_is_written(
    editor_client, method, path, body, content_type, status, named
):
    make_incident(published=True)
    make_source()
    make_actor()
    before = row_counts()
    if body is None:
        response = editor_client.get(path)
    else:
        response = editor_client.generic(method.upper(), path, body, content_type)
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    if named:
        assert named in response.json()
    if status >= 400:
        assert row_counts() == before
