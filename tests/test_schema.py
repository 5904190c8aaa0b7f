"""The API root, the OpenAPI document and its UI."""

import pytest
from django.urls import reverse
from rest_framework import status

pytestmark = pytest.mark.django_db


def test_api_root_links_every_endpoint_and_states_licence_and_attribution(anon_client):
    body = anon_client.get(reverse("api-root")).json()
    for name in ("incidents", "sources", "actors", "countries", "schema", "docs"):
        assert body[name].startswith("http://testserver/api/v1/")
    assert body["licence"]["name"] == "CC BY 4.0"
    assert any("GeoNames" in item["credit"] for item in body["attribution"])
    assert "uid" in body["how_to_cite"]


def test_schema_is_served_as_json_with_error_responses(anon_client):
    response = anon_client.get(reverse("schema"), {"format": "json"})
    assert response.status_code == status.HTTP_200_OK
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    list_operation = schema["paths"]["/api/v1/incidents/"]["get"]
    assert list_operation["responses"]["400"]["content"]["application/json"]["schema"] == {
        "anyOf": [{"$ref": "#/components/schemas/ValidationError"}, {"$ref": "#/components/schemas/Detail"}]
    }
    assert "404" in schema["paths"]["/api/v1/incidents/{id}/"]["get"]["responses"]


def test_docs_ui_is_served_without_a_cdn(anon_client):
    response = anon_client.get(reverse("docs"))
    assert response.status_code == status.HTTP_200_OK
    page = response.content.decode()
    assert "swagger-ui" in page
    assert "cdn.jsdelivr.net" not in page and "unpkg.com" not in page


def test_schema_validates_without_warnings():
    """The same check CI runs: `manage.py spectacular --validate --fail-on-warn`."""
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


@pytest.mark.parametrize("path", ["/api/v1/incidents/0.5/", "/api/v1/nothing-here/", "/api/v2/"])
def test_unknown_api_paths_answer_404_in_json(anon_client, path):
    response = anon_client.get(path)
    assert response.status_code == status.HTTP_404_NOT_FOUND
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


def test_unknown_paths_outside_the_api_keep_html_pages(client):
    response = client.get("/no-such-page")
    assert response.status_code == status.HTTP_404_NOT_FOUND
    assert response.headers["Content-Type"].startswith("text/html")
