"""History rows carry the acting user, and one service call reads as one change."""

import pytest

from incidents import services
from incidents.models import Incident
from tests.factories import cite, make_incident, make_source

pytestmark = pytest.mark.django_db


def test_create_records_history_with_the_acting_user(editor_user):
    incident = make_incident(user=editor_user, weapons=[{"category": "rifle", "quantity": 1}])
    row = incident.history.get()
    assert (row.history_type, row.history_user, row.title) == ("+", editor_user, incident.title)
    weapon_row = incident.weapons.get().history.get()
    assert weapon_row.history_user == editor_user


def test_one_service_call_is_one_change_id_across_the_incident_and_its_inlines(editor_user):
    source = make_source(user=editor_user)
    incident = make_incident(user=editor_user)
    services.incident_update(
        incident=incident,
        user=editor_user,
        data={"title": "Edited", "weapons": [{"category": "pistol", "quantity": 8}], "citations": [cite(source)]},
    )
    update_row = incident.history.order_by("-history_id").first()
    weapon_row = incident.weapons.get().history.get()
    citation_row = incident.citations.get().history.get()
    assert update_row.change_id == weapon_row.change_id == citation_row.change_id
    assert update_row.change_id != incident.history.order_by("history_id").first().change_id
    assert {update_row.history_user, weapon_row.history_user, citation_row.history_user} == {editor_user}


def test_delete_records_history_for_the_incident_and_its_weapons(editor_user):
    incident = make_incident(user=editor_user, weapons=[{"category": "grenade", "quantity": 2}])
    weapon_history = incident.weapons.get().history
    services.incident_delete(incident=incident, user=editor_user)
    assert not Incident.objects.exists()
    deleted = Incident.history.filter(history_type="-").get()
    assert deleted.history_user == editor_user
    assert weapon_history.model.objects.filter(history_type="-").get().change_id == deleted.change_id
