"""The rollups and the spatial index kept by every kind of write (counted before and after, and audited;
the suite's hook audits every other test too), and `stats/?group_by=grid` through the API."""

from decimal import Decimal

import pytest
from django.db import connection
from django.http import QueryDict
from django.urls import reverse

from incidents import geo, rollups, services
from incidents.models import GridCell, Rollup
from incidents.selectors import Selection
from incidents.shapes import PUBLIC
from tests.factories import make_incident

pytestmark = pytest.mark.django_db


def public_count(query: str = "") -> int:
    return Selection(QueryDict(query), audience=PUBLIC).count()


def assert_clean():
    assert rollups.audit() == [] and geo.spatial_index_audit() == []


def test_the_spatial_index_is_kept_by_the_database():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'incidents_incident'")
            triggers = {name for (name,) in cursor.fetchall()}
            assert {"incident_location_insert", "incident_location_update", "incident_location_delete"} <= triggers
        else:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'incident_location'")
            (definition,) = cursor.fetchone()
            assert "gist" in definition.lower()


def test_create_move_unpublish_delete(editor_user):
    incident = make_incident(
        editor_user, published=True, country="SE", latitude=Decimal("59.33"), longitude=Decimal("18.07")
    )
    assert public_count("country=SE") == 1 == public_count("lat=59.33&lon=18.07&radius_km=1")
    services.incident_update(
        incident=incident,
        user=editor_user,
        data={"latitude": Decimal("55.6"), "longitude": Decimal("12.5"), "country": "DK"},
    )
    assert_clean()
    assert (public_count("country=SE"), public_count("lat=59.33&lon=18.07&radius_km=1")) == (0, 0)
    assert public_count("bbox=12,55,13,56") == 1
    incident.refresh_from_db()
    services.incident_update(incident=incident, user=editor_user, data={"status": "draft"})
    assert_clean()
    assert public_count() == 0
    services.incident_delete(incident=incident, user=editor_user)
    assert_clean()
    assert not Rollup.objects.exists() and not GridCell.objects.exists()


def test_merge(editor_user):
    kept = make_incident(editor_user, published=True, latitude=Decimal("60.17"), longitude=Decimal("24.94"))
    duplicate = make_incident(editor_user, published=True, latitude=Decimal("60.45"), longitude=Decimal("22.27"))
    services.incident_merge(kept=kept, duplicates=[duplicate], user=editor_user)
    assert_clean()
    assert public_count() == 1


def test_grid_cell_is_validated_naming_the_field(anon_client):
    url = reverse("stats")
    for query, field in [
        ({"group_by": "grid"}, "cell"),
        ({"group_by": "grid", "cell": "0.005"}, "cell"),
        ({"group_by": "grid", "cell": "10.5"}, "cell"),
        ({"group_by": "grid", "cell": "0.015"}, "cell"),
        ({"group_by": "grid", "cell": "NaN"}, "cell"),
        ({"group_by": "grid", "cell": "1e400"}, "cell"),
        ({"group_by": "country", "cell": "1"}, "cell"),
    ]:
        response = anon_client.get(url, query)
        assert response.status_code == 400, query
        assert list(response.json()) == [field], query


def test_grid_answers_through_the_api(anon_client):
    make_incident(published=True, latitude=Decimal("59.33"), longitude=Decimal("18.07"), country="SE")
    make_incident(published=True, latitude=Decimal("59.84"), longitude=Decimal("17.64"), country="SE")
    make_incident(published=True, country="SE")
    body = anon_client.get(reverse("stats"), {"group_by": "grid", "cell": "1"}).json()
    assert body["total"] == {"incidents": 3, "weapons": 0, "weapons_approximate": 0, "unlocated": 1}
    assert body["results"] == [
        {
            "key": "17,59",
            "label": "17,59",
            "incidents": 1,
            "weapons": 0,
            "weapons_approximate": 0,
            "center": [17.64, 59.84],
        },
        {
            "key": "18,59",
            "label": "18,59",
            "incidents": 1,
            "weapons": 0,
            "weapons_approximate": 0,
            "center": [18.07, 59.33],
        },
    ]
