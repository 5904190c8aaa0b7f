"""stats/: every group_by key agrees with the list filtered to that key."""

import calendar
import datetime

import pytest
from django.urls import reverse
from rest_framework import status

from incidents import services
from tests.factories import make_actor, make_incident, make_source

pytestmark = pytest.mark.django_db

STATS_URL = reverse("stats")
LIST_URL = reverse("incident-list")


@pytest.fixture
def varied():
    gang = make_actor(name="Gang", kind="criminal_network")
    bikers = make_actor(name="MC", kind="motorcycle_gang")
    make_incident(
        published=True,
        country="FI",
        occurred_on=datetime.date(2022, 10, 30),
        weapons=[
            {"category": "assault_rifle", "quantity": 2, "suspected_origin": "UA"},
            {"category": "pistol", "quantity": 3},
        ],
        actors=[gang, bikers],
    )
    make_incident(
        published=True,
        country="SE",
        occurred_on=datetime.date(2025, 10, 1),
        incident_type="recovery",
        verification="confirmed",
        weapons=[
            {"category": "grenade", "quantity": 50, "quantity_precision": "at_least", "suspected_origin": "RS"},
            {"category": "grenade"},
        ],
        actors=[gang],
    )
    make_incident(
        published=True,
        country="SE",
        occurred_on=datetime.date(2023, 2, 1),
        date_precision="month",
        incident_type="claim",
        verification="disputed",
    )
    make_incident(
        published=True,
        country="DK",
        occurred_on=datetime.date(2023, 1, 1),
        date_precision="year",
        weapons=[
            {"category": "pistol", "quantity": 62, "quantity_precision": "approximate"},
            {"category": "grenade", "quantity": 1},
        ],
    )
    make_incident(
        published=True,
        country="NL",
        occurred_on=datetime.date(2022, 3, 24),
        weapons=[{"category": "anti_tank_weapon", "quantity": 4, "suspected_origin": "UA"}],
        actors=[bikers],
    )
    make_incident(title="Draft", country="AT", weapons=[{"category": "rifle", "quantity": 100}], actors=[gang])


def stats(client, **params) -> dict:
    response = client.get(STATS_URL, params)
    assert response.status_code == status.HTTP_200_OK, response.json()
    return response.json()


def listed(client, **params) -> list[dict]:
    response = client.get(LIST_URL, {"limit": 1000, **params})
    assert response.status_code == status.HTTP_200_OK
    return response.json()["results"]


def list_filter_for(group_by: str, key: str) -> dict:
    if group_by == "year":
        return {"occurred_after": f"{key}-01-01", "occurred_before": f"{key}-12-31"}
    if group_by == "month":
        year, month = map(int, key.split("-"))
        last = calendar.monthrange(year, month)[1]
        return {
            "occurred_after": f"{key}-01",
            "occurred_before": f"{key}-{last:02d}",
            "date_precision": "day,month",
        }
    return {group_by: key}


SINGLE_KEYS = ["country", "year", "month", "incident_type", "verification"]


def approximate(items: list[dict], counted=lambda weapon: True) -> int:
    """How many of the listed incidents' weapons come from approximate or lower-bound counts."""
    return sum(
        weapon["quantity"] or 0
        for item in items
        for weapon in item["weapons"]
        if weapon["quantity_precision"] != "exact" and counted(weapon)
    )


@pytest.mark.parametrize("group_by", SINGLE_KEYS)
def test_each_row_of_a_single_valued_key_agrees_with_the_filtered_list(anon_client, varied, group_by):
    body = stats(anon_client, group_by=group_by)
    assert body["group_by"] == group_by
    for row in body["results"]:
        matching = listed(anon_client, **list_filter_for(group_by, row["key"]))
        assert row["incidents"] == len(matching), row
        assert row["weapons"] == sum(item["weapons_total"] for item in matching), row
        assert row["weapons_approximate"] == approximate(matching), row
    everything = listed(anon_client)
    assert body["total"] == {
        "incidents": len(everything),
        "weapons": sum(item["weapons_total"] for item in everything),
        "weapons_approximate": 112,  # "at least 50" grenades and "about 62" pistols
        **({"imprecise": 1} if group_by == "month" else {}),
    }


@pytest.mark.parametrize(
    ("group_by", "value_of"),
    [
        ("weapon_category", lambda weapon: weapon["category"]),
        ("suspected_origin", lambda weapon: weapon["suspected_origin"]),
    ],
)
def test_weapon_keys_count_each_incident_once_per_key_with_the_quantity_under_it(
    anon_client, varied, group_by, value_of
):
    body = stats(anon_client, group_by=group_by)
    everything = listed(anon_client)
    for row in body["results"]:
        if row["key"] is None:
            without = [item for item in everything if not any(value_of(w) for w in item["weapons"])]
            assert row["incidents"] == len(without)
            continue
        matching = listed(anon_client, **{group_by: row["key"]})
        assert row["incidents"] == len(matching)
        quantities = [w["quantity"] or 0 for item in matching for w in item["weapons"] if value_of(w) == row["key"]]
        assert row["weapons"] == sum(quantities)
        key = row["key"]
        assert row["weapons_approximate"] == approximate(matching, lambda w, key=key: value_of(w) == key)
    assert body["total"]["incidents"] == len(everything)


def test_actor_kind_counts_incidents_under_each_kind(anon_client, varied):
    body = stats(anon_client, group_by="actor_kind")
    rows = {row["key"]: row for row in body["results"]}
    for kind in ("criminal_network", "motorcycle_gang"):
        matching = listed(anon_client, actor_kind=kind)
        assert (rows[kind]["incidents"], rows[kind]["weapons"]) == (
            len(matching),
            sum(item["weapons_total"] for item in matching),
        )
    without = [item for item in listed(anon_client) if not item["actors"]]
    assert rows[None] == {
        "key": None,
        "label": "No actors",
        "incidents": len(without),
        "weapons": sum(item["weapons_total"] for item in without),
        "weapons_approximate": approximate(without),
    }


def test_null_buckets_and_labels(anon_client, varied):
    by_category = {row["key"]: row for row in stats(anon_client, group_by="weapon_category")["results"]}
    assert by_category[None] == {
        "key": None,
        "label": "No weapons",
        "incidents": 1,
        "weapons": 0,
        "weapons_approximate": 0,
    }
    assert by_category["assault_rifle"]["label"] == "Assault rifle"
    by_country = {row["key"]: row for row in stats(anon_client, group_by="country")["results"]}
    assert by_country["FI"]["label"] == "Finland"


def test_month_leaves_year_precise_incidents_out_and_counts_them_as_imprecise(anon_client, varied):
    body = stats(anon_client, group_by="month")
    assert [row["key"] for row in body["results"]] == ["2022-03", "2022-10", "2023-02", "2025-10"]
    assert body["total"]["imprecise"] == 1
    assert sum(row["incidents"] for row in body["results"]) == body["total"]["incidents"] - 1


def test_time_keys_ascend_and_other_keys_sort_by_incidents_then_key(anon_client, varied):
    years = [row["key"] for row in stats(anon_client, group_by="year")["results"]]
    assert years == sorted(years) == ["2022", "2023", "2025"]
    countries = stats(anon_client, group_by="country")["results"]
    assert [row["key"] for row in countries] == ["SE", "DK", "FI", "NL"]


def test_stats_take_the_filters(anon_client, varied):
    body = stats(anon_client, group_by="country", weapon_category="grenade")
    assert [(row["key"], row["incidents"]) for row in body["results"]] == [("DK", 1), ("SE", 1)]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"group_by": "colour"}, "group_by"),
        ({}, "group_by"),
        ({"group_by": "country", "ordering": "country"}, "ordering"),
        ({"group_by": "country", "limit": "5"}, "limit"),
        ({"group_by": "country", "country": "XX"}, "country"),
    ],
)
def test_invalid_stats_queries_answer_400(anon_client, params, parameter):
    response = anon_client.get(STATS_URL, params)
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert list(response.json()) == [parameter]


def test_drafts_are_absent_from_stats_for_non_editors(anon_client, reader_client, editor_client, varied):
    for client in (anon_client, reader_client):
        keys = {row["key"] for row in stats(client, group_by="country")["results"]}
        assert "AT" not in keys
    assert "AT" in {row["key"] for row in stats(editor_client, group_by="country")["results"]}


def test_a_write_is_seen_by_the_next_stats_request(anon_client, varied):
    """Aggregates are cached per data version: a write through the services invalidates them."""
    before = stats(anon_client, group_by="country")["total"]["incidents"]
    incident = make_incident(country="FI")
    services.incident_update(
        incident=incident,
        user=None,
        data={"status": "published", "citations": [services.CitationData(source=make_source())]},
    )
    assert stats(anon_client, group_by="country")["total"]["incidents"] == before + 1
