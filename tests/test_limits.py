"""The limits of API.md "HTTP behaviour": each a 4xx in JSON, with nothing written."""

import json

import pytest

from incidents.models import Incident

pytestmark = pytest.mark.django_db


def body_of(size: int) -> bytes:
    """A JSON incident padded to `size` bytes."""
    record = {"title": "Padded", "incident_type": "seizure", "occurred_on": "2022-10-30", "country": "FI"}
    text = json.dumps({**record, "summary": ""})
    return json.dumps({**record, "summary": "x" * (size - len(text))}).encode()


def test_a_body_over_1_mb_answers_413_in_json_and_writes_nothing(editor_client):
    response = editor_client.generic("POST", "/api/v1/incidents/", body_of(1024 * 1024 + 1), "application/json")
    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is larger than 1 MB."}
    assert Incident.objects.count() == 0


def test_a_body_of_1_mb_is_read(editor_client):
    response = editor_client.generic("POST", "/api/v1/incidents/", body_of(1024 * 1024), "application/json")
    assert response.status_code == 400  # read and refused for its summary, not for its size
    assert "summary" in response.json()


def test_the_import_takes_up_to_10_mb(editor_client):
    rows = json.dumps([json.loads(body_of(2 * 1024 * 1024))]).encode()
    response = editor_client.generic("POST", "/api/v1/incidents/import/", rows, "application/json")
    assert response.status_code == 200
    assert response.json()["errors"][0]["field"] == "summary"
    too_big = editor_client.generic("POST", "/api/v1/incidents/import/", b" " * (10 * 1024 * 1024 + 1), "text/csv")
    assert too_big.status_code == 413
    assert too_big.json()["detail"] == "The request body is larger than 10 MB."


def test_the_size_limit_applies_before_authentication(anon_client):
    response = anon_client.generic("PUT", "/api/v1/sources/1/", b"{" * (1024 * 1024 + 1), "application/json")
    assert response.status_code == 413
