"""Duplicate reports: `similar/` scoring, the admin's warning, and merging with a 410 tombstone."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from incidents import services
from incidents.models import Citation, Incident, IncidentRemoval
from tests.factories import cite, make_actor, make_incident, make_source
from tests.test_admin import incident_form

pytestmark = pytest.mark.django_db
DAY = datetime.date(2022, 10, 30)


def at(place: str, lat: str, lon: str) -> dict:
    return {"place": place, "latitude": Decimal(lat), "longitude": Decimal(lon)}


@pytest.fixture
def planted():
    """One report, two duplicates of it, and three near-misses."""
    shared = make_source()
    base = make_incident(
        published=True,
        title="Police seize anti-tank weapons in Helsinki",
        occurred_on=DAY,
        citations=[cite(shared)],
        **at("Helsinki", "60.1699", "24.9384"),
    )
    same_story = make_incident(
        published=True,
        title="Anti-tank weapons seized by police in Helsinki",
        occurred_on=DAY,
        citations=[cite(shared), cite(make_source())],
        **at("Helsinki", "60.1710", "24.9410"),
    )
    next_day = make_incident(
        published=True,
        title="Police seize anti-tank weapons in Espoo",
        occurred_on=DAY + datetime.timedelta(days=1),
        **at("Espoo", "60.2055", "24.6559"),
    )
    far_and_late = make_incident(
        published=True,
        title="Hunting rifles stolen from a cabin",
        occurred_on=DAY + datetime.timedelta(days=80),
        **at("Oulu", "65.0121", "25.4651"),
    )
    other_country = make_incident(
        published=True, title="Police seize anti-tank weapons in Stockholm", occurred_on=DAY, country="SE"
    )
    long_before = make_incident(
        published=True, title="Police seize anti-tank weapons in Helsinki", occurred_on=DAY.replace(year=2019)
    )
    return base, same_story, next_day, far_and_late, other_country, long_before


def similar(client, incident) -> list[dict]:
    response = client.get(f"/api/v1/incidents/{incident.pk}/similar/")
    assert response.status_code == 200
    return response.json()


def test_similar_ranks_planted_duplicates_above_near_misses(anon_client, planted):
    base, same_story, next_day, far_and_late, other_country, long_before = planted
    results = similar(anon_client, base)

    assert [r["incident"]["id"] for r in results] == [same_story.pk, next_day.pk, far_and_late.pk]
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > 0.8 and scores[1] > 0.6 and scores[2] < 0.3
    assert results[0]["incident"] == {
        "id": same_story.pk,
        "title": same_story.title,
        "country": "FI",
        "occurred_on": "2022-10-30",
    }
    assert "1 shared source" in results[0]["reasons"]
    assert "same date" in results[0]["reasons"]


def test_similar_finds_other_countries_through_a_shared_source_only(anon_client):
    source = make_source()
    base = make_incident(published=True, citations=[cite(source)])
    abroad = make_incident(published=True, country="SE", citations=[cite(source)])
    make_incident(published=True, country="SE")
    assert [r["incident"]["id"] for r in similar(anon_client, base)] == [abroad.pk]


def test_similar_shows_non_editors_published_incidents_only(anon_client, editor_client, planted):
    base = planted[0]
    draft = make_incident(title=base.title, occurred_on=DAY, place="Helsinki")
    assert draft.pk not in [r["incident"]["id"] for r in similar(anon_client, base)]
    assert draft.pk in [r["incident"]["id"] for r in similar(editor_client, base)[:2]]
    assert anon_client.get(f"/api/v1/incidents/{draft.pk}/similar/").status_code == 404


# --- Merging --------------------------------------------------------------------------------------


def test_merge_moves_every_citation_weapon_actor_and_tag_and_leaves_a_410(anon_client, editor_user):
    shared, own_a, own_b = make_source(), make_source(), make_source()
    gang = make_actor()
    kept = make_incident(
        published=True,
        citations=[cite(shared, excerpt="kept's excerpt", excerpt_language="en"), cite(own_a)],
        weapons=[{"category": "rifle", "quantity": 2}],
        tags=["a"],
    )
    duplicate = make_incident(
        published=True,
        citations=[cite(shared, excerpt="duplicate's excerpt", excerpt_language="en"), cite(own_b, stance="disputes")],
        weapons=[{"category": "pistol", "quantity": 1}],
        actors=[gang],
        tags=["a", "b"],
    )

    merged = services.incident_merge(kept=kept, duplicates=[duplicate], user=editor_user)

    assert {c.source_id: c.excerpt for c in merged.citations.all()} == {
        shared.pk: "kept's excerpt",
        own_a.pk: "",
        own_b.pk: "",
    }
    assert merged.citations.get(source=own_b).stance == "disputes"
    assert sorted(w.category for w in merged.weapons.all()) == ["pistol", "rifle"]
    assert merged.weapons_total == 3
    assert list(merged.actors.all()) == [gang]
    assert sorted(t.slug for t in merged.tags.all()) == ["a", "b"]
    assert merged.version == kept.version + 1
    assert not Incident.objects.filter(pk=duplicate.pk).exists()
    assert Citation.objects.count() == 3

    response = anon_client.get(f"/api/v1/incidents/{duplicate.pk}/")
    assert response.status_code == 410
    assert response.json()["merged_into"] == kept.pk


def test_merge_is_one_change_in_history_made_by_the_editor(editor_user):
    kept, duplicate = make_incident(published=True), make_incident(published=True)
    services.incident_merge(kept=kept, duplicates=[duplicate], user=editor_user)
    latest = kept.history.first()
    assert latest.history_user == editor_user
    deletion = Incident.history.filter(id=duplicate.pk, history_type="-").get()
    assert deletion.change_id == latest.change_id


def test_writes_to_a_merged_id_answer_410(editor_client):
    kept, duplicate = make_incident(), make_incident()
    services.incident_merge(kept=kept, duplicates=[duplicate], user=None)
    url = f"/api/v1/incidents/{duplicate.pk}/"
    assert editor_client.patch(url, {"title": "x"}, format="json").status_code == 410
    assert editor_client.delete(url).status_code == 410


def test_a_merged_draft_is_a_404_for_non_editors(anon_client, editor_client):
    kept, duplicate = make_incident(), make_incident()
    services.incident_merge(kept=kept, duplicates=[duplicate], user=None)
    assert anon_client.get(f"/api/v1/incidents/{duplicate.pk}/").status_code == 404
    assert editor_client.get(f"/api/v1/incidents/{duplicate.pk}/").json()["merged_into"] == kept.pk


def test_merging_the_survivor_again_redirects_earlier_tombstones(anon_client):
    first, second, third = (make_incident(published=True) for _ in range(3))
    services.incident_merge(kept=second, duplicates=[first], user=None)
    services.incident_merge(kept=third, duplicates=[second], user=None)
    assert anon_client.get(f"/api/v1/incidents/{first.pk}/").json()["merged_into"] == third.pk
    assert IncidentRemoval.objects.filter(reason="merged").count() == 2


def test_merge_refuses_to_exceed_the_weapon_limit_and_changes_nothing():
    many = [{"category": "rifle", "quantity": 1}] * 150
    kept, duplicate = make_incident(weapons=many), make_incident(weapons=many)
    with pytest.raises(services.ValidationError) as caught:
        services.incident_merge(kept=kept, duplicates=[duplicate], user=None)
    assert "weapons" in caught.value.message_dict
    assert Incident.objects.filter(pk=duplicate.pk).exists()
    assert kept.weapons.count() == 150


# --- The admin ------------------------------------------------------------------------------------


@pytest.fixture
def editor_admin(client, editor_user):
    client.force_login(editor_user)
    return client


def test_admin_merge_action_asks_which_to_keep_then_merges(editor_admin):
    kept, duplicate = make_incident(published=True), make_incident(published=True)
    changelist = reverse("admin:incidents_incident_changelist")
    selection = {"action": "merge_selected", "_selected_action": [kept.pk, duplicate.pk]}

    page = editor_admin.post(changelist, selection)
    assert page.status_code == 200
    assert b'name="keep"' in page.content
    assert Incident.objects.count() == 2

    done = editor_admin.post(changelist, {**selection, "apply": "yes", "keep": kept.pk}, follow=True)
    assert f"Merged #{duplicate.pk} into #{kept.pk}" in done.content.decode()
    assert list(Incident.objects.values_list("pk", flat=True)) == [kept.pk]
    assert kept.citations.count() == 2


def test_admin_warns_of_likely_duplicates_after_a_save(editor_admin, planted):
    base, same_story = planted[0], planted[1]
    form = incident_form(
        title="Police seized anti-tank weapons in Helsinki", country="FI", place="Helsinki", occurred_on="2022-10-30"
    )
    response = editor_admin.post(reverse("admin:incidents_incident_add"), form, follow=True)
    text = response.content.decode()
    assert "Possible duplicate reports of the same event" in text
    assert f"#{base.pk} " in text and f"#{same_story.pk} " in text


def test_admin_says_nothing_when_no_report_is_alike(editor_admin, planted):
    form = incident_form(title="Grenades handed in", country="NL", place="Utrecht", occurred_on="2020-01-05")
    response = editor_admin.post(reverse("admin:incidents_incident_add"), form, follow=True)
    assert response.status_code == 200
    assert "Possible duplicate" not in response.content.decode()


def test_similar_takes_no_parameters(anon_client):
    incident = make_incident(published=True)
    response = anon_client.get(f"/api/v1/incidents/{incident.pk}/similar/?country=SE")
    assert response.status_code == 400
    assert "country" in response.json()
    assert anon_client.get(f"/api/v1/incidents/{incident.pk}/similar/?format=json").status_code == 200
