"""What keeps reads fast, guarded without timing anything: the number of queries does not grow with the
number of records returned (no N+1), in every format."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import cite, make_actor, make_incident, make_source

pytestmark = pytest.mark.django_db


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, response.content[:200]
    return len(captured.captured_queries)


def make_rich(count: int) -> None:
    actor = make_actor()
    for number in range(count):
        make_incident(
            published=True,
            place="Turku",
            citations=[cite(make_source()), cite(make_source())],
            weapons=[{"category": "rifle", "quantity": number}, {"category": "grenade", "quantity": 1}],
            actors=[actor],
            tags=["a", "b"],
        )


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/incidents/?limit=1000",
        "/api/v1/incidents/?format=geojson",
        "/api/v1/incidents/?format=csv",
        "/api/v1/incidents/?country=FI&occurred_after=2020-01-01&weapon_category=rifle&limit=1000",
        "/api/v1/stats/?group_by=weapon_category",
        "/api/v1/countries/",
    ],
)
def test_a_read_costs_the_same_number_of_queries_for_3_or_30_records(anon_client, url):
    make_rich(3)
    few = queries_for(anon_client, url)
    make_rich(27)
    assert queries_for(anon_client, url) == few


def test_a_list_page_and_a_detail_take_a_handful_of_queries(anon_client):
    make_rich(5)
    # data version (ETag), count, the page's ids and versions, then their stored records
    assert queries_for(anon_client, "/api/v1/incidents/") == 4
    incident_id = anon_client.get("/api/v1/incidents/?limit=1").json()["results"][0]["id"]
    # the incident's version (the ETag) and its stored record, in one query
    assert queries_for(anon_client, f"/api/v1/incidents/{incident_id}/") == 1
