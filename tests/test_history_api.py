"""GET incidents/{id}/history/: one entry per change, newest first, with who, when and old → new."""

import pytest
from django.core.management import call_command

from incidents import services
from incidents.importing import import_records
from tests.factories import cite, make_actor, make_incident, make_source

pytestmark = pytest.mark.django_db


def history(client, incident) -> list[dict]:
    response = client.get(f"/api/v1/incidents/{incident.pk}/history/")
    assert response.status_code == 200, response.content
    return response.json()


def test_history_is_for_editors_only(anon_client, reader_client):
    incident = make_incident(published=True)
    assert anon_client.get(f"/api/v1/incidents/{incident.pk}/history/").status_code == 401
    assert reader_client.get(f"/api/v1/incidents/{incident.pk}/history/").status_code == 403


def test_an_api_edit_of_fields_and_lists_is_one_entry_naming_the_editor(editor_client, editor_user):
    source = make_source()
    created = editor_client.post(
        "/api/v1/incidents/",
        {
            "title": "Rifles in a van",
            "incident_type": "seizure",
            "occurred_on": "2022-10-30",
            "country": "SE",
            "status": "published",
            "weapons": [{"category": "rifle", "quantity": 2}],
            "sources": [{"id": source.pk}],
            "tags": ["van"],
        },
        format="json",
    ).json()
    incident_id = created["id"]
    editor_client.patch(
        f"/api/v1/incidents/{incident_id}/",
        {"title": "Rifles in a white van", "weapons": [{"category": "rifle", "quantity": 3}], "tags": ["van", "e4"]},
        format="json",
    )

    entries = editor_client.get(f"/api/v1/incidents/{incident_id}/history/").json()
    assert [e["change_type"] for e in entries] == ["changed", "created"]
    assert {e["user"] for e in entries} == {"editor"}
    latest = entries[0]["changes"]
    assert set(latest) == {"title", "weapons", "tags"}
    assert latest["title"] == ["Rifles in a van", "Rifles in a white van"]
    assert [w["quantity"] for w in latest["weapons"][0]] == [2]
    assert [w["quantity"] for w in latest["weapons"][1]] == [3]
    assert latest["tags"] == [["van"], ["e4", "van"]]
    first = entries[1]["changes"]
    assert first["title"] == [None, "Rifles in a van"]
    assert first["sources"][0] == []
    assert first["sources"][1][0]["id"] == source.pk
    assert first["sources"][1][0]["url"] == source.url
    assert entries[0]["changed_at"] >= entries[1]["changed_at"]


def test_an_edit_that_changes_nothing_adds_no_entry(editor_client):
    incident = make_incident(title="Same")
    editor_client.patch(f"/api/v1/incidents/{incident.pk}/", {"title": "Same"}, format="json")
    assert len(history(editor_client, incident)) == 1


def test_actor_and_citation_changes_are_shown(editor_client, editor_user):
    gang, first, second = make_actor(name="Bandidos MC", kind="motorcycle_gang"), make_source(), make_source()
    incident = make_incident(published=True, citations=[cite(first)])
    services.incident_update(
        incident=incident,
        user=editor_user,
        data={"actors": [gang], "citations": [cite(first, credibility=2), cite(second, stance="disputes")]},
    )
    changes = history(editor_client, incident)[0]["changes"]
    assert changes["actors"] == [[], [{"id": gang.pk, "name": "Bandidos MC", "kind": "motorcycle_gang"}]]
    old, new = changes["sources"]
    assert [(c["id"], c["credibility"]) for c in old] == [(first.pk, 6)]
    assert [(c["id"], c["stance"], c["credibility"]) for c in new] == [
        (first.pk, "supports", 2),
        (second.pk, "disputes", 6),
    ]


def test_publishing_and_geocoding_commands_are_recorded(editor_client, editor_user):
    incident = make_incident(place="Tampere", latitude=None, longitude=None)
    services.incident_update(incident=incident, user=None, data={"latitude": None, "longitude": None})
    call_command("geocode_incidents", "--user", "editor", stdout=None)
    entries = history(editor_client, incident)
    assert entries[0]["user"] == "editor"
    assert entries[0]["changes"]["geocode_provider"] == ["", "gazetteer"]


def test_an_import_and_a_merge_appear_in_the_history(editor_client, editor_user):
    import_records(
        [
            (
                1,
                {
                    "title": "Imported",
                    "incident_type": "theft",
                    "occurred_on": "2021-05-01",
                    "country": "DK",
                    "status": "draft",
                    "weapons": [{"category": "pistol", "quantity": 1}],
                },
            )
        ],
        user=editor_user,
    )
    from incidents.models import Incident

    imported = Incident.objects.get(title="Imported")
    created = history(editor_client, imported)
    assert [(e["change_type"], e["user"]) for e in created] == [("created", "editor")]
    assert created[0]["changes"]["weapons"][1][0]["category"] == "pistol"

    duplicate = make_incident(country="DK", weapons=[{"category": "grenade", "quantity": 4}])
    services.incident_merge(kept=imported, duplicates=[duplicate], user=editor_user)
    merged = history(editor_client, imported)[0]
    assert [w["category"] for w in merged["changes"]["weapons"][1]] == ["pistol", "grenade"]
    gone = editor_client.get(f"/api/v1/incidents/{duplicate.pk}/history/")
    assert gone.status_code == 410


def test_an_admin_save_of_an_incident_with_its_inlines_is_one_entry(client, editor_user, editor_client):
    from django.urls import reverse

    from incidents.models import Incident
    from tests.test_admin import incident_form

    source = make_source()
    client.force_login(editor_user)
    form = incident_form(
        status="published",
        weapons=[{"category": "grenade", "quantity": "2", "description": "", "markings": ""}],
        citations=[{"source": source.pk, "stance": "supports", "credibility": "3", "excerpt": ""}],
        tag_slugs="admin-entry",
    )
    assert client.post(reverse("admin:incidents_incident_add"), form).status_code == 302
    incident = Incident.objects.get()
    changelist = reverse("admin:incidents_incident_changelist")
    client.post(changelist, {"action": "archive_selected", "_selected_action": [incident.pk]})

    entries = history(editor_client, incident)
    assert [(e["change_type"], e["user"]) for e in entries] == [("changed", "editor"), ("created", "editor")]
    assert entries[0]["changes"] == {"status": ["published", "archived"]}
    created = entries[1]["changes"]
    assert [w["category"] for w in created["weapons"][1]] == ["grenade"]
    assert [(c["id"], c["credibility"]) for c in created["sources"][1]] == [(source.pk, 3)]
    assert created["tags"] == [[], ["admin-entry"]]
