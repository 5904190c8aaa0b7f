"""The sync feed `incidents/deleted/`, a client that mirrors the data with it, and the grading filters."""

import datetime

import pytest
from django.utils import timezone

from incidents import services
from tests.factories import cite, make_incident, make_source

pytestmark = pytest.mark.django_db
DELETED = "/api/v1/incidents/deleted/"


def feed(client, query: str = "") -> list[dict]:
    response = client.get(DELETED + query)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_deleted_lists_deletions_and_merges_with_their_uid_and_target(editor_client, anon_client):
    deleted, duplicate, kept = (make_incident(published=True) for _ in range(3))
    services.incident_delete(incident=deleted, user=None)
    services.incident_merge(kept=kept, duplicates=[duplicate], user=None)
    rows = feed(anon_client)
    assert [(r["id"], r["uid"], r["reason"], r["merged_into"]) for r in rows] == [
        (deleted.pk, str(deleted.uid), "deleted", None),
        (duplicate.pk, str(duplicate.uid), "merged", kept.pk),
    ]
    assert feed(editor_client) == rows


def test_unpublishing_is_a_removal_for_non_editors_only_until_it_is_published_again(editor_client, anon_client):
    incident = make_incident(published=True)
    services.incident_archive(incident=incident, user=None)
    assert [r["reason"] for r in feed(anon_client)] == ["unpublished"]
    assert feed(editor_client) == []
    services.incident_publish(incident=incident, user=None)
    assert feed(anon_client) == []


def test_removals_of_drafts_concern_editors_only(editor_client, anon_client):
    draft = make_incident()
    services.incident_delete(incident=draft, user=None)
    assert feed(anon_client) == []
    assert [r["id"] for r in feed(editor_client)] == [draft.pk]


def test_a_merge_into_a_draft_hides_the_target_from_non_editors(anon_client):
    kept, duplicate = make_incident(), make_incident(published=True)
    services.incident_merge(kept=kept, duplicates=[duplicate], user=None)
    assert [(r["reason"], r["merged_into"]) for r in feed(anon_client)] == [("merged", None)]


def test_since_filters_by_removal_time_and_is_validated(anon_client):
    early, late = make_incident(published=True), make_incident(published=True)
    services.incident_delete(incident=early, user=None)
    cut = timezone.now()
    services.incident_delete(incident=late, user=None)
    assert [r["id"] for r in feed(anon_client, f"?since={cut.isoformat().replace('+00:00', 'Z')}")] == [late.pk]
    for query, name in (("?since=yesterday", "since"), ("?sinse=2022-01-01", "sinse"), ("?limit=0", "limit")):
        response = anon_client.get(DELETED + query)
        assert response.status_code == 400
        assert name in response.json()


def test_deleted_answers_304_for_its_etag(anon_client):
    first = anon_client.get(DELETED)
    assert anon_client.get(DELETED, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    services.incident_delete(incident=make_incident(published=True), user=None)
    assert anon_client.get(DELETED, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


class MirroringClient:
    """What a dashboard or researcher's script does: fetch what changed and what left since the last sync."""

    def __init__(self, client):
        self.client = client
        self.records: dict[int, dict] = {}
        self.last_sync: str | None = None

    def sync(self) -> None:
        started = timezone.now().isoformat().replace("+00:00", "Z")
        since = f"since={self.last_sync}&" if self.last_sync else ""
        for row in self._all(f"{DELETED}?{since}limit=1000"):
            self.records.pop(row["id"], None)
        changed = f"updated_since={self.last_sync}&" if self.last_sync else ""
        for record in self._all(f"/api/v1/incidents/?{changed}limit=1000"):
            self.records[record["id"]] = record
        self.last_sync = started

    def _all(self, url: str):
        while url:
            response = self.client.get(url)
            assert response.status_code == 200, response.content
            yield from response.json()["results"]
            url = response.json()["next"]


def server_view(client) -> dict[int, dict]:
    return {record["id"]: record for record in MirroringClient(client)._all("/api/v1/incidents/?limit=1000")}


@pytest.mark.parametrize("role", ["anon_client", "editor_client"])
def test_a_client_mirroring_with_updated_since_and_deleted_equals_the_server(request, role):
    client = request.getfixturevalue(role)
    mirror = MirroringClient(client)
    source = make_source()
    a, b, c, d, e = (make_incident(published=True, citations=[cite(source)]) for _ in range(5))
    draft = make_incident()
    mirror.sync()
    steps = [
        lambda: services.incident_update(incident=a, user=None, data={"title": "Edited"}),
        lambda: services.incident_archive(incident=b, user=None),
        lambda: services.incident_delete(incident=c, user=None),
        lambda: services.incident_merge(kept=d, duplicates=[e], user=None),
        lambda: services.incident_publish(incident=b, user=None),
        lambda: services.source_update(source=source, user=None, data={"title": "Corrected title"}),
        lambda: services.incident_update(incident=draft, user=None, data={"summary": "Draft edit"}),
        lambda: services.incident_update(incident=a, user=None, data={"status": "draft"}),
        lambda: make_incident(published=True, occurred_on=datetime.date(2020, 1, 1)),
    ]
    for step in steps:
        step()
        mirror.sync()
        assert mirror.records == server_view(client)
    assert draft.pk in mirror.records if role == "editor_client" else draft.pk not in mirror.records


# --- Source grading filters -----------------------------------------------------------------------


@pytest.fixture
def graded():
    reliable = make_source(reliability="A")
    shaky = make_source(reliability="E")
    confirmed = make_incident(published=True, citations=[cite(reliable, credibility=1)])
    probable = make_incident(published=True, citations=[cite(shaky, credibility=2), cite(reliable, credibility=6)])
    doubtful = make_incident(published=True, citations=[cite(shaky, credibility=4)])
    return confirmed, probable, doubtful


def ids(client, query: str) -> list[int]:
    response = client.get(f"/api/v1/incidents/?{query}&ordering=id")
    assert response.status_code == 200, response.content
    return [record["id"] for record in response.json()["results"]]


def test_source_reliability_matches_incidents_cited_by_such_sources(anon_client, graded):
    confirmed, probable, doubtful = graded
    assert ids(anon_client, "source_reliability=A") == [confirmed.pk, probable.pk]
    assert ids(anon_client, "source_reliability=e,b") == [probable.pk, doubtful.pk]
    assert ids(anon_client, "source_reliability=C") == []


def test_min_credibility_matches_a_citation_that_credible_or_better(anon_client, graded):
    confirmed, probable, doubtful = graded
    assert ids(anon_client, "min_credibility=1") == [confirmed.pk]
    assert ids(anon_client, "min_credibility=2") == [confirmed.pk, probable.pk]
    assert ids(anon_client, "min_credibility=6") == [confirmed.pk, probable.pk, doubtful.pk]


@pytest.mark.parametrize(
    "query",
    ["source_reliability=G", "source_reliability=", "min_credibility=0", "min_credibility=7", "min_credibility=x"],
)
def test_bad_grading_filters_answer_400_naming_them(anon_client, query):
    response = anon_client.get(f"/api/v1/incidents/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_grading_filters_apply_to_stats_and_countries(anon_client, graded):
    stats = anon_client.get("/api/v1/stats/?group_by=country&min_credibility=2").json()
    assert stats["total"]["incidents"] == 2
    countries = anon_client.get("/api/v1/countries/?source_reliability=A").json()
    assert [(c["code"], c["incidents"]) for c in countries] == [("FI", 2)]


def test_citations_show_their_grades_and_sources_their_archive(anon_client):
    source = make_source(
        reliability="B",
        archived_url="https://web.archive.org/web/2022/x",
        archived_at=datetime.datetime(2022, 11, 2, tzinfo=datetime.UTC),
    )
    incident = make_incident(published=True, citations=[cite(source, credibility=3)])
    citation = anon_client.get(f"/api/v1/incidents/{incident.pk}/").json()["sources"][0]
    assert (citation["reliability"], citation["credibility"]) == ("B", 3)
    assert (citation["archived_url"], citation["archived_at"]) == (
        "https://web.archive.org/web/2022/x",
        "2022-11-02T00:00:00Z",
    )
