"""The sourced fixtures users get on the first `make run`: loadable, truthful to the research file, and
obeying every rule of the tracker."""

import re
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from fixtures import build
from fixtures.sourced_records import INCIDENTS, SOURCES
from incidents.choices import Stance, Status
from incidents.models import Actor, Citation, Incident, Source, Tag

pytestmark = pytest.mark.django_db

FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "sourced_incidents.json"


@pytest.fixture
def loaded():
    # Plain `loaddata` writes around the services: as after any such load, the stored records (and the
    # rollups that sum them) are brought up to date by `rebuild_records --stale`.
    call_command("loaddata", str(FIXTURE), verbosity=0)
    call_command("rebuild_records", "--stale", verbosity=0)


def snapshot() -> list[tuple]:
    return sorted(Incident.objects.values_list("uid", "version", "updated_at", "title", "weapons_total"))


def test_fixtures_load_on_an_empty_database_and_again_without_change(loaded):
    first = snapshot()
    counts = (Incident.objects.count(), Source.objects.count(), Citation.objects.count())
    call_command("loaddata", str(FIXTURE), verbosity=0)
    assert snapshot() == first
    assert (Incident.objects.count(), Source.objects.count(), Citation.objects.count()) == counts
    assert counts[0] == len(INCIDENTS) >= 30


def test_every_incident_is_published_with_at_least_one_citation(loaded):
    incidents = Incident.objects.all()
    assert {incident.status for incident in incidents} == {Status.PUBLISHED}
    assert not incidents.filter(citations__isnull=True).exists()


def test_the_four_countries_of_the_nbi_claim_and_the_others_are_present(loaded):
    countries = Counter(str(code) for code in Incident.objects.values_list("country", flat=True))
    assert {"FI", "SE", "DK", "NL"} <= set(countries)
    assert {"AT", "GB", "UA", "US", "FR", "MD"} <= set(countries)


def test_the_krp_claims_are_disputed_and_carry_disputing_citations(loaded):
    claims = Incident.objects.filter(tags__slug="krp-claim-2022")
    assert sorted(str(incident.country) for incident in claims) == ["DK", "FI", "NL", "SE"]
    for claim in claims:
        assert claim.verification == "disputed"
        assert claim.citations.filter(stance=Stance.DISPUTES).exists()
        assert claim.citations.filter(stance=Stance.SUPPORTS, source__url="https://yle.fi/a/3-12670239").exists()


def test_the_europol_walk_back_disputes_the_europol_claim(loaded):
    claim = Incident.objects.get(uid=next(r.uid for r in INCIDENTS if r.record == "5"))
    disputing = claim.citations.filter(stance=Stance.DISPUTES).values_list("source__url", flat=True)
    assert any("europol-statement-on-the-cooperation-with-ukraine" in url for url in disputing)


def test_every_source_url_is_http_with_a_publisher(loaded):
    """(That each URL appears in the research notes is checked by `audit_data --research-file` in .ci/run.)"""
    for source in Source.objects.all():
        assert re.match(r"^https?://[^\s]+$", source.url), source.url
        assert source.publisher


def test_derived_values_are_right_after_plain_loaddata(loaded):
    for incident in Incident.objects.prefetch_related("weapons", "citations__source"):
        weapons = [w for w in incident.weapons.all() if w.quantity is not None]
        assert incident.weapons_total == sum(w.quantity for w in weapons)
        assert incident.weapons_approximate == sum(w.quantity for w in weapons if w.quantity_precision != "exact")
        supporting = [c.source.published_on for c in incident.citations.all() if c.stance == Stance.SUPPORTS]
        dates = [day for day in supporting if day]
        assert incident.reported_on == (min(dates) if dates else None)
        assert incident.version == 1


def test_the_fixtures_pass_every_rule_of_the_audit(loaded):
    from incidents.audit import findings

    assert [str(finding) for finding in findings()] == []


# --- What the fact-check asked of the published data, read through the public API ---------------------


@pytest.fixture
def public(loaded):
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/incidents/", {"limit": 1000})
    assert response.status_code == 200
    return response.json()["results"]


def test_every_confirmed_incident_rests_on_an_official_or_a_or_b_source(public):
    confirmed = [record for record in public if record["verification"] == "confirmed"]
    assert confirmed
    for record in confirmed:
        assert any(
            source["stance"] == "supports" and (source["source_type"] == "official" or source["reliability"] in "AB")
            for source in record["sources"]
        ), record["title"]
        assert "ukraine-aid" not in record["tags"], record["title"]


def test_at_most_a_quarter_of_sources_and_citations_cannot_be_judged(public):
    sources = {source["id"]: source for record in public for source in record["sources"]}
    citations = [source for record in public for source in record["sources"]]
    assert sum(source["reliability"] == "F" for source in sources.values()) <= len(sources) / 4
    assert sum(citation["credibility"] == 6 for citation in citations) <= len(citations) / 4


def test_the_approximate_figures_the_fact_check_named_are_marked(public):
    marked = {
        (weapon["quantity"], weapon["quantity_precision"])
        for record in public
        for weapon in record["weapons"]
        if weapon["quantity_precision"] != "exact"
    }
    assert {(35, "approximate"), (100, "approximate"), (400, "approximate"), (60, "at_least")} <= marked


def test_every_excerpt_has_its_language_and_translations_show_as_such(public):
    excerpts = [source for record in public for source in record["sources"] if source["excerpt"]]
    assert excerpts and all(source["excerpt_language"] for source in excerpts)
    translated = [source for source in excerpts if source["excerpt_language"] != source["language"]]
    assert {source["language"] for source in translated} >= {"fi", "sv", "da"}


def test_no_actor_joins_incidents_that_no_source_joins(loaded):
    from django.db.models import Count

    assert not Actor.objects.annotate(linked=Count("incident_links")).filter(linked__gt=1).exists()


def test_every_loaded_row_passes_model_validation(loaded):
    for model in (Incident, Source):
        for row in model.objects.all():
            row.full_clean()


def test_coordinates_come_with_precision_and_gazetteer_provenance(loaded):
    for incident in Incident.objects.all():
        if incident.has_coordinates:
            assert incident.geo_precision in {"locality", "region", "country"}
            assert (incident.geocode_provider, bool(incident.geocode_query)) == ("gazetteer", True)
        else:
            assert (incident.geo_precision, incident.geocode_provider) == (None, "")


def test_the_json_is_what_the_records_build_to():
    """fixtures/sourced_incidents.json is regenerated from sourced_records.py (python fixtures/build.py)."""
    build.build()
    built = {
        row[0]: row for row in Incident.objects.values_list("uid", "title", "summary", "occurred_on", "weapons_total")
    }
    for model in (Citation, Incident, Source, Actor, Tag):
        model.objects.all().delete()
    call_command("loaddata", str(FIXTURE), verbosity=0)
    loaded = {
        row[0]: row for row in Incident.objects.values_list("uid", "title", "summary", "occurred_on", "weapons_total")
    }
    assert loaded == built
    assert len(SOURCES) == Source.objects.count()
    call_command("rebuild_records", "--stale", verbosity=0)  # the load went around the services
