"""Provenance you can defend: the rules of docs/grading.md through every entry point (API, admin, import),
approximate quantities, excerpt languages, and the audit of what is stored."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework import status

from incidents import services
from incidents.importing import import_records
from incidents.models import Incident, Source
from tests.factories import cite, make_incident, make_source

pytestmark = pytest.mark.django_db

LIST = reverse("incident-list")
GOOD = {"title": "A seizure", "incident_type": "seizure", "occurred_on": "2022-10-30", "country": "FI"}


def citing(source: Source, **own) -> dict:
    return {"id": source.pk, **own}


# --- "confirmed" needs an official or A/B supporting source ---------------------------------------------


@pytest.mark.parametrize(
    ("grades", "stance", "accepted"),
    [
        ({"reliability": "A"}, "supports", True),
        ({"reliability": "B"}, "supports", True),
        ({"reliability": "F", "source_type": "official"}, "supports", True),
        ({"reliability": "C"}, "supports", False),
        ({"reliability": "D"}, "supports", False),
        ({"reliability": "F"}, "supports", False),
        ({"reliability": "A"}, "disputes", False),
        ({"reliability": "B", "source_type": "social_media"}, "supports", True),
    ],
)
def test_confirmed_needs_a_supporting_official_or_a_b_source_through_the_api(editor_client, grades, stance, accepted):
    source = make_source(**grades)
    others = [] if stance == "supports" else [citing(make_source(reliability="C"))]
    body = {**GOOD, "verification": "confirmed", "sources": [citing(source, stance=stance), *others]}
    response = editor_client.post(LIST, body, format="json")
    if accepted:
        assert response.status_code == status.HTTP_201_CREATED, response.json()
    else:
        assert response.status_code == status.HTTP_400_BAD_REQUEST
        assert list(response.json()) == ["verification"]
        assert not Incident.objects.exists()


def test_a_new_source_cited_by_url_is_not_graded_enough_to_confirm(editor_client):
    body = {**GOOD, "verification": "confirmed", "sources": [{"url": "https://e.example/a", "publisher": "E"}]}
    response = editor_client.post(LIST, body, format="json")
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert "verification" in response.json()
    assert not Source.objects.exists()


def test_removing_the_only_strong_citation_of_a_confirmed_incident_is_refused(editor_client):
    strong, weak = make_source(reliability="A"), make_source(reliability="C")
    incident = make_incident(verification="confirmed", citations=[cite(strong), cite(weak)])
    detail = reverse("incident-detail", args=[incident.pk])
    response = editor_client.patch(detail, {"sources": [citing(weak)]}, format="json")
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert "verification" in response.json()
    assert incident.citations.count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reliability": "C"}, "reliability"),
        ({"reliability": "F"}, "reliability"),
        ({"source_type": "news"}, "source_type"),
    ],
)
def test_a_source_change_that_would_break_a_confirmed_incident_is_refused_naming_it(editor_client, change, field):
    official = make_source(reliability="C", source_type="official") if field == "source_type" else make_source()
    kept = make_incident(verification="confirmed", citations=[cite(official)])
    elsewhere = make_incident(verification="confirmed", citations=[cite(official), cite(make_source(reliability="A"))])
    response = editor_client.patch(reverse("source-detail", args=[official.pk]), change, format="json")
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    message = response.json()[field][0]
    assert f": {kept.pk}." in message and str(elsewhere.pk) not in message.split(":")[-1]
    official.refresh_from_db()
    assert (official.reliability, official.source_type) != (change.get("reliability"), change.get("source_type"))


def test_a_source_downgrade_that_breaks_nothing_is_accepted(editor_client):
    source = make_source(reliability="B")
    make_incident(verification="reported", citations=[cite(source)])
    response = editor_client.patch(reverse("source-detail", args=[source.pk]), {"reliability": "D"}, format="json")
    assert response.status_code == status.HTTP_200_OK


@pytest.mark.parametrize("stances", [["disputes"], ["disputes", "disputes"]])
def test_a_published_incident_needs_a_supporting_citation(editor_client, stances):
    sources = [citing(make_source(), stance=stance) for stance in stances]
    response = editor_client.post(LIST, {**GOOD, "status": "published", "sources": sources}, format="json")
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert response.json()["sources"] == [services.PUBLISHED_NEEDS_SUPPORT]


# --- The same rules through the admin and the import ----------------------------------------------------


def test_the_admin_refuses_a_confirmed_incident_on_a_weak_source_on_its_form(client, editor_user):
    from tests.test_admin import ADD, incident_form, inline_management

    client.force_login(editor_user)
    weak = make_source(reliability="D")
    form = incident_form(verification="confirmed")
    form.update(
        inline_management("citations", [{"source": weak.pk, "stance": "supports", "credibility": "3", "excerpt": ""}])
    )
    response = client.post(ADD, form)
    assert response.status_code == 200
    assert services.CONFIRMED_NEEDS_STRONG_SUPPORT in response.context["adminform"].form.errors["verification"]
    assert not Incident.objects.exists()


def test_the_admin_refuses_a_source_downgrade_that_breaks_a_confirmed_incident(client, editor_user):
    client.force_login(editor_user)
    source = make_source(reliability="A")
    incident = make_incident(verification="confirmed", citations=[cite(source)])
    form = {
        "url": source.url,
        "title": source.title,
        "publisher": source.publisher,
        "published_on": "2022-11-01",
        "source_type": "news",
        "language": "en",
        "archived_url": "",
        "archived_at_0": "",
        "archived_at_1": "",
        "reliability": "E",
    }
    response = client.post(reverse("admin:incidents_source_change", args=[source.pk]), form)
    assert response.status_code == 200
    assert str(incident.pk) in response.context["adminform"].form.errors["reliability"][0]
    source.refresh_from_db()
    assert source.reliability == "A"


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"verification": "confirmed", "sources": [{"url": "https://e.example/1", "publisher": "E"}]}, "verification"),
        (
            {
                "verification": "confirmed",
                "sources": [{"url": "https://e.example/2", "publisher": "E", "reliability": "C"}],
            },
            "verification",
        ),
        (
            {"sources": [{"url": "https://e.example/3", "publisher": "E", "excerpt": "Löytyi"}]},
            "sources[0].excerpt_language",
        ),
        (
            {
                "status": "published",
                "sources": [{"url": "https://e.example/4", "publisher": "E", "stance": "disputes"}],
            },
            "sources",
        ),
        (
            {"weapons": [{"category": "rifle", "quantity": 3, "quantity_precision": "roughly"}]},
            "weapons[0].quantity_precision",
        ),
    ],
)
def test_the_import_refuses_rows_that_break_a_rule_naming_the_field(editor_user, row, field):
    report = import_records([(1, {**GOOD, **row}), (2, {**GOOD, "title": "Fine"})], user=editor_user)
    assert (report.created, report.rejected_rows) == (1, 1)
    assert [error.field for error in report.errors] == [field]
    assert list(Incident.objects.values_list("title", flat=True)) == ["Fine"]


def test_the_import_confirms_on_a_source_graded_in_the_file(editor_user):
    row = {
        **GOOD,
        "verification": "confirmed",
        "sources": [{"url": "https://e.example/9", "publisher": "E", "reliability": "B"}],
    }
    report = import_records([(1, row)], user=editor_user)
    assert (report.created, report.rejected_rows) == (1, 0)


# --- Approximate quantities --------------------------------------------------------------------------


@pytest.fixture
def counted(editor_client):
    weapons = [
        {"category": "pistol", "quantity": 100, "quantity_precision": "approximate"},
        {"category": "rifle", "quantity": 60, "quantity_precision": "at_least"},
        {"category": "grenade", "quantity": 2},
    ]
    body = {**GOOD, "status": "published", "weapons": weapons, "sources": [citing(make_source())]}
    response = editor_client.post(LIST, body, format="json")
    assert response.status_code == status.HTTP_201_CREATED, response.json()
    make_incident(published=True, country="SE", weapons=[{"category": "pistol", "quantity": 5}])
    return response.json()


def test_quantity_precision_is_stored_and_shown(counted):
    shown = [(weapon["quantity"], weapon["quantity_precision"]) for weapon in counted["weapons"]]
    assert shown == [(100, "approximate"), (60, "at_least"), (2, "exact")]
    assert counted["weapons_total"] == 162


@pytest.mark.parametrize(
    ("value", "countries"),
    [("approximate", ["FI"]), ("at_least", ["FI"]), ("exact", ["FI", "SE"]), ("approximate,at_least", ["FI"])],
)
def test_quantity_precision_filters_incidents(anon_client, counted, value, countries):
    results = anon_client.get(LIST, {"quantity_precision": value}).json()["results"]
    assert sorted(record["country"] for record in results) == countries


def test_stats_and_countries_say_how_many_weapons_are_approximate(anon_client, counted):
    by_country = {row["code"]: row for row in anon_client.get(reverse("country-list")).json()}
    assert (by_country["FI"]["weapons"], by_country["FI"]["weapons_approximate"]) == (162, 160)
    assert by_country["SE"]["weapons_approximate"] == 0
    by_category = anon_client.get(reverse("stats"), {"group_by": "weapon_category"}).json()
    rows = {row["key"]: row for row in by_category["results"]}
    assert (rows["pistol"]["weapons"], rows["pistol"]["weapons_approximate"]) == (105, 100)
    assert rows["grenade"]["weapons_approximate"] == 0
    assert by_category["total"] == {"incidents": 2, "weapons": 167, "weapons_approximate": 160}


def test_an_unknown_quantity_precision_answers_400(editor_client):
    body = {**GOOD, "weapons": [{"category": "rifle", "quantity": 2, "quantity_precision": "about"}]}
    response = editor_client.post(LIST, body, format="json")
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert "weapons[0].quantity_precision" in response.json()


# --- Excerpts and their languages ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "accepted"), [({}, False), ({"excerpt_language": "en"}, True), ({"excerpt_language": "English"}, False)]
)
def test_an_excerpt_needs_its_language(editor_client, given, accepted):
    source = make_source(language="fi")
    body = {**GOOD, "sources": [citing(source, excerpt="inaccurate", **given)]}
    response = editor_client.post(LIST, body, format="json")
    if accepted:
        record = response.json()
        assert response.status_code == status.HTTP_201_CREATED
        citation = record["sources"][0]
        # A translation: the excerpt's language is not the source's, and the record says both.
        assert (citation["language"], citation["excerpt_language"], citation["excerpt"]) == ("fi", "en", "inaccurate")
        assert (citation["reliability"], citation["credibility"]) == ("B", 6)
    else:
        assert response.status_code == status.HTTP_400_BAD_REQUEST
        assert "sources[0].excerpt_language" in response.json()


# --- reported_on: the first report, not its rebuttal -------------------------------------------------------


def test_reported_on_is_the_earliest_supporting_source(editor_client):
    import datetime

    claim = make_source(published_on=datetime.date(2022, 10, 30))
    denial = make_source(published_on=datetime.date(2022, 10, 1))
    undated = make_source(published_on=None)
    incident = make_incident(citations=[cite(claim), cite(denial, stance="disputes")])
    assert incident.reported_on == datetime.date(2022, 10, 30)
    only_denied = make_incident(citations=[cite(undated), cite(denial, stance="disputes")])
    assert only_denied.reported_on is None


# --- The audit ---------------------------------------------------------------------------------------------


def audit() -> list[str]:
    out = io.StringIO()
    try:
        call_command("audit_data", stdout=out)
    except CommandError:
        pass
    return out.getvalue().strip().splitlines()


def test_the_audit_finds_nothing_in_data_written_through_the_services():
    make_incident(published=True, verification="confirmed", citations=[cite(make_source(), credibility=2)])
    make_incident(
        published=True,
        verification="corroborated",
        citations=[
            cite(make_source(publisher="One"), credibility=1),
            cite(make_source(publisher="Two", reliability="C"), credibility=1),
        ],
    )
    assert audit() == ["0 findings."]


@pytest.mark.parametrize(
    ("around_the_services", "finding"),
    [
        ({"verification": "confirmed"}, "verification: A confirmed incident needs"),
        ({"weapons_total": 3}, "weapons_total/approximate are not the sum"),
        ({"verification": "disputed"}, "disputed, but no citation disputes it"),
    ],
)
@pytest.mark.no_records_audit
def test_the_audit_finds_what_was_written_around_the_services(around_the_services, finding):
    incident = make_incident(published=True, citations=[cite(make_source(reliability="D"))])
    Incident.objects.filter(pk=incident.pk).update(**around_the_services)
    assert any(line.startswith(f"incident {incident.pk}: {finding}") for line in audit()), audit()


def test_the_audit_finds_verification_stronger_than_the_sources_justify():
    one_publisher = make_incident(
        published=True,
        verification="corroborated",
        citations=[cite(make_source(publisher="Same")), cite(make_source(publisher="Same"))],
    )
    aid = make_incident(published=True, verification="confirmed", tags=["ukraine-aid"])
    found = audit()
    expected = "corroborated needs supporting citations from two publishers, one graded C or better"
    assert f"incident {one_publisher.pk}: {expected}" in found
    assert any(line.startswith(f"incident {aid.pk}: confirmed and tagged ukraine-aid") for line in found)


def test_the_audit_finds_grades_left_unjudged_beyond_a_quarter():
    for _ in range(3):
        make_incident(published=True, citations=[cite(make_source(reliability="F"))])
    assert "sources: 3 of 3 cannot be judged (at most a quarter may be)" in audit()
