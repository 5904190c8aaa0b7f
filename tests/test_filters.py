"""Every filter of API.md "Filters" through the list endpoint: a match, a non-match, combinations, and the
400s that keep a typo from silently returning everything."""

import datetime
import math
import random
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework import status

from incidents.filters import IncidentFilterSet
from tests.factories import cite, make_actor, make_incident, make_source

pytestmark = pytest.mark.django_db

LIST_URL = reverse("incident-list")

# Every parameter of API.md "Filters" that the list endpoint owns (fields, source_reliability and
# min_credibility belong to later issues).
CONTRACT_PARAMETERS = {
    "country", "occurred_after", "occurred_before", "reported_after", "reported_before", "incident_type",
    "verification", "status", "date_precision", "geo_precision", "weapon_category", "suspected_origin", "actor",
    "actor_kind", "tag", "source_type", "publisher", "min_weapons", "has_coordinates", "bbox", "lat", "lon",
    "radius_km", "q", "updated_since", "ordering", "limit", "offset",
}  # fmt: skip


@pytest.fixture
def world():
    """Four published incidents with distinct attributes, and one draft."""
    bandidos = make_actor(name="Bandidos MC", kind="motorcycle_gang")
    person = make_actor(name="Jane Doe", kind="individual")
    incidents = {
        "A": make_incident(
            published=True,
            title="A",
            country="FI",
            occurred_on=datetime.date(2022, 10, 30),
            incident_type="claim",
            verification="disputed",
            latitude=Decimal("60.16952"),
            longitude=Decimal("24.93545"),
            geo_precision="locality",
            weapons=[{"category": "assault_rifle", "quantity": 2, "suspected_origin": "UA"}],
            actors=[bandidos],
            tags=["ukraine-aid"],
            citations=[cite(make_source(publisher="Yle News", published_on=datetime.date(2022, 10, 31)))],
        ),
        "B": make_incident(
            published=True,
            title="B",
            country="SE",
            place="Malmö",
            occurred_on=datetime.date(2025, 10, 1),
            incident_type="seizure",
            verification="confirmed",
            latitude=Decimal("55.60587"),
            longitude=Decimal("13.00073"),
            geo_precision="locality",
            weapons=[{"category": "grenade", "quantity": 50}],
            tags=["hand-grenades"],
            citations=[cite(make_source(publisher="Fria Tider", published_on=datetime.date(2025, 10, 2)))],
        ),
        "C": make_incident(
            published=True,
            title="C",
            country="NL",
            occurred_on=datetime.date(2022, 3, 24),
            date_precision="month",
            incident_type="seizure",
            verification="confirmed",
            weapons=[{"category": "pistol", "quantity": 22}, {"category": "anti_tank_weapon", "quantity": 4}],
            actors=[person],
            citations=[cite(make_source(publisher="NOS", source_type="official", published_on=None))],
        ),
        "D": make_incident(
            published=True,
            title="D",
            country="DK",
            occurred_on=datetime.date(2024, 11, 15),
            date_precision="month",
            incident_type="recovery",
            verification="reported",
            latitude=Decimal("55.67594"),
            longitude=Decimal("12.56553"),
            geo_precision="country",
            citations=[
                cite(make_source(publisher="KEYT (AP)", source_type="ngo", published_on=datetime.date(2024, 11, 15)))
            ],
        ),
        "E": make_incident(title="E (draft)", country="FI", weapons=[{"category": "grenade", "quantity": 1}]),
    }
    incidents["bandidos"] = bandidos
    return incidents


def titles(client, query: str) -> set[str]:
    response = client.get(f"{LIST_URL}?{query}")
    assert response.status_code == status.HTTP_200_OK, response.json()
    return {item["title"] for item in response.json()["results"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("country=FI", {"A"}),
        ("country=fi,Se", {"A", "B"}),
        ("country=AT", set()),
        ("country=XK", set()),
        ("occurred_after=2024-01-01", {"B", "D"}),
        ("occurred_before=2022-03-31", {"C"}),
        ("occurred_after=2022-10-30&occurred_before=2022-10-30", {"A"}),
        ("occurred_after=2026-01-01", set()),
        ("reported_after=2025-01-01", {"B"}),
        ("reported_before=2022-10-31", {"A"}),
        ("reported_before=2000-01-01", set()),
        ("incident_type=seizure", {"B", "C"}),
        ("incident_type=Claim,recovery", {"A", "D"}),
        ("incident_type=theft", set()),
        ("verification=confirmed,disputed", {"A", "B", "C"}),
        ("verification=retracted", set()),
        ("status=published", {"A", "B", "C", "D"}),
        ("status=draft", set()),
        ("date_precision=month", {"C", "D"}),
        ("date_precision=year", set()),
        ("geo_precision=locality", {"A", "B"}),
        ("geo_precision=country", {"D"}),
        ("geo_precision=exact", set()),
        ("weapon_category=grenade", {"B"}),
        ("weapon_category=anti_tank_weapon,pistol", {"C"}),
        ("weapon_category=mine", set()),
        ("suspected_origin=ua", {"A"}),
        ("suspected_origin=RU", set()),
        ("actor_kind=motorcycle_gang", {"A"}),
        ("actor_kind=individual", {"C"}),
        ("actor_kind=state_actor", set()),
        ("tag=hand-grenades", {"B"}),
        ("tag=ukraine-aid,hand-grenades", {"A", "B"}),
        ("tag=nope", set()),
        ("source_type=official", {"C"}),
        ("source_type=ngo,official", {"C", "D"}),
        ("source_type=court", set()),
        ("publisher=yle%20news", {"A"}),
        ("publisher=Nobody", set()),
        ("min_weapons=22", {"B", "C"}),
        ("min_weapons=0", {"A", "B", "C", "D"}),
        ("min_weapons=100", set()),
        ("has_coordinates=true", {"A", "B", "D"}),
        ("has_coordinates=FALSE", {"C"}),
        ("bbox=10,54,15,56.5", {"B", "D"}),
        ("bbox=0,0,1,1", set()),
        ("lat=55.67594&lon=12.56553&radius_km=10", {"D"}),
        ("lat=55.67594&lon=12.56553&radius_km=40", {"B", "D"}),
        ("lat=0&lon=0&radius_km=100", set()),
        ("q=malmo", {"B"}),
        ("q=MALMÖ", {"B"}),
        ("q=yle", {"A"}),
        ("q=bandidos", {"A"}),
        ("q=bandidos%20yle", {"A"}),
        ("q=bandidos%20nos", set()),
        ("q=jane", set()),
        ("q=nowhere", set()),
        ("updated_since=2000-01-01T00:00:00Z", {"A", "B", "C", "D"}),
        ("updated_since=2999-01-01T00:00:00", set()),
        ("country=FI,SE&weapon_category=grenade", {"B"}),
        ("country=SE&verification=disputed", set()),
        ("has_coordinates=true&min_weapons=1&occurred_before=2023-01-01", {"A"}),
        ("_=12345&format=json", {"A", "B", "C", "D"}),
    ],
)
def test_filter_for_anonymous(anon_client, world, query, expected):
    assert titles(anon_client, query) == expected


def test_filter_by_actor_id(anon_client, world):
    assert titles(anon_client, f"actor={world['bandidos'].pk}") == {"A"}
    assert titles(anon_client, "actor=999999") == set()


def test_editors_can_filter_by_status_and_find_drafts(editor_client, world):
    assert titles(editor_client, "status=draft") == {"E (draft)"}
    assert titles(editor_client, "status=draft&weapon_category=grenade&country=FI") == {"E (draft)"}


def test_names_of_individuals_are_searchable_by_editors_only(anon_client, reader_client, editor_client, world):
    assert titles(anon_client, "q=jane") == titles(reader_client, "q=jane") == set()
    assert titles(editor_client, "q=jane") == {"C"}


def test_q_matches_a_source_title_edited_after_citing(anon_client, world):
    from incidents import services

    source = world["D"].citations.get().source
    services.source_update(source=source, user=None, data={"title": "Amnesty récord"})
    assert titles(anon_client, "q=amnesty%20RECORD") == {"D"}


# --- Invalid queries ------------------------------------------------------------------------------

INVALID_QUERIES = [
    ("country=XX", "country"),
    ("country=FIN", "country"),
    ("country=246", "country"),
    ("country=FI,,SE", "country"),
    ("country=", "country"),
    ("incident_type=bogus", "incident_type"),
    ("verification=maybe", "verification"),
    ("status=secret", "status"),
    ("date_precision=week", "date_precision"),
    ("geo_precision=street", "geo_precision"),
    ("weapon_category=laser", "weapon_category"),
    ("suspected_origin=ZZ", "suspected_origin"),
    ("actor=abc", "actor"),
    ("actor=1,x", "actor"),
    ("actor_kind=alien", "actor_kind"),
    ("tag=not%20a%20slug", "tag"),
    ("source_type=blog", "source_type"),
    ("publisher=%20%20", "publisher"),
    ("occurred_after=2022-13-01", "occurred_after"),
    ("occurred_after=10/25/2022", "occurred_after"),
    ("occurred_before=yesterday", "occurred_before"),
    ("occurred_after=2023-01-01&occurred_before=2022-01-01", "occurred_after"),
    ("reported_after=2023-01-01&reported_before=2022-01-01", "reported_after"),
    ("min_weapons=-1", "min_weapons"),
    ("min_weapons=1.5", "min_weapons"),
    ("min_weapons=many", "min_weapons"),
    ("has_coordinates=yes", "has_coordinates"),
    ("bbox=1,2,3", "bbox"),
    ("bbox=10,50,5,60", "bbox"),
    ("bbox=10,60,15,50", "bbox"),
    ("bbox=a,b,c,d", "bbox"),
    ("bbox=-200,0,0,10", "bbox"),
    ("bbox=0,-91,10,10", "bbox"),
    ("bbox=0,0,nan,10", "bbox"),
    ("lat=60", "lat"),
    ("lon=20&radius_km=5", "lat"),
    ("lat=60&lon=20", "lat"),
    ("lat=91&lon=0&radius_km=5", "lat"),
    ("lat=60&lon=181&radius_km=5", "lon"),
    ("lat=60&lon=20&radius_km=0", "radius_km"),
    ("lat=60&lon=20&radius_km=-3", "radius_km"),
    ("lat=60&lon=20&radius_km=20001", "radius_km"),
    ("lat=60&lon=20&radius_km=inf", "radius_km"),
    (f"q={'x' * 201}", "q"),
    ("q=", "q"),
    ("updated_since=not-a-date", "updated_since"),
    ("ordering=title", "ordering"),
    ("ordering=-bogus", "ordering"),
    ("ordering=country,", "ordering"),
    ("limit=0", "limit"),
    ("limit=1001", "limit"),
    ("limit=ten", "limit"),
    ("offset=-1", "offset"),
    ("contry=FI", "contry"),
    ("country=FI&country=SE", "country"),
    ("page=2", "page"),
]


@pytest.mark.parametrize(("query", "parameter"), INVALID_QUERIES)
def test_invalid_query_answers_400_naming_the_parameter(anon_client, world, query, parameter):
    response = anon_client.get(f"{LIST_URL}?{query}")
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    body = response.json()
    assert list(body) == [parameter], body
    assert all(isinstance(message, str) and message for message in body[parameter])


def test_the_invalid_query_table_is_large_enough():
    assert len(INVALID_QUERIES) >= 25


def test_unknown_parameter_lists_the_known_ones(anon_client):
    message = anon_client.get(f"{LIST_URL}?contry=FI").json()["contry"][0]
    assert "Unknown parameter" in message and "country" in message


def test_countries_and_lists_refuse_what_they_do_not_take(anon_client, world):
    for query in ("ordering=country", "limit=10", "offset=0"):
        response = anon_client.get(f"{reverse('country-list')}?{query}")
        assert response.status_code == status.HTTP_400_BAD_REQUEST
        assert list(response.json()) == [query.split("=")[0]]


# --- Ordering and paging --------------------------------------------------------------------------


def test_ordering_by_country_breaks_ties_by_id(anon_client):
    made = [make_incident(published=True, country=code) for code in ("SE", "FI", "SE", "DK", "FI")]
    results = anon_client.get(LIST_URL, {"ordering": "country"}).json()["results"]
    expected = sorted(made, key=lambda incident: (str(incident.country), incident.pk))
    assert [item["id"] for item in results] == [incident.pk for incident in expected]


def test_ordering_descending_and_by_several_fields(anon_client):
    made = [
        make_incident(published=True, weapons=[{"category": "pistol", "quantity": quantity}], country=code)
        for quantity, code in ((3, "FI"), (7, "SE"), (3, "DK"), (0, "FI"))
    ]
    results = anon_client.get(LIST_URL, {"ordering": "-weapons_total,country"}).json()["results"]
    expected = sorted(made, key=lambda incident: (-incident.weapons_total, str(incident.country), incident.pk))
    assert [item["id"] for item in results] == [incident.pk for incident in expected]


def test_default_ordering_is_newest_first_then_highest_id(anon_client):
    same_day = [make_incident(published=True, occurred_on=datetime.date(2023, 1, 1)) for _ in range(3)]
    older = make_incident(published=True, occurred_on=datetime.date(2021, 1, 1))
    ids = [item["id"] for item in anon_client.get(LIST_URL).json()["results"]]
    assert ids == [incident.pk for incident in reversed(same_day)] + [older.pk]


@pytest.mark.parametrize("ordering", ["occurred_on", "-occurred_on", "country", "-weapons_total", "reported_on"])
def test_paging_has_no_overlaps_or_gaps(anon_client, ordering):
    for day in range(12):
        make_incident(
            published=True,
            occurred_on=datetime.date(2022, 1, 1 + day % 3),
            country=("FI", "SE", "DK")[day % 3],
            weapons=[{"category": "pistol", "quantity": day % 2}],
        )
    full = [item["id"] for item in anon_client.get(LIST_URL, {"ordering": ordering, "limit": 100}).json()["results"]]
    paged = []
    for offset in range(0, 12, 5):
        page = anon_client.get(LIST_URL, {"ordering": ordering, "limit": 5, "offset": offset}).json()
        assert page["count"] == 12
        paged += [item["id"] for item in page["results"]]
    assert paged == full
    assert len(set(paged)) == 12


# --- Radius against brute force -------------------------------------------------------------------


def haversine_km(lat1, lon1, lat2, lon2) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (lat1, lon1, lat2, lon2))
    a = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(min(a, 1.0)))


@pytest.fixture
def scattered():
    """Seeded points everywhere, with clusters near the antimeridian and a pole."""
    rng = random.Random(20221030)
    points = [(rng.uniform(-89, 89), rng.uniform(-180, 180)) for _ in range(40)]
    points += [(rng.uniform(-20, 20), rng.choice([-1, 1]) * rng.uniform(175, 180)) for _ in range(15)]
    points += [(rng.uniform(80, 90), rng.uniform(-180, 180)) for _ in range(10)]
    points += [(rng.uniform(55, 61), rng.uniform(10, 26)) for _ in range(15)]
    incidents = []
    for lat, lon in points:
        incident = make_incident(
            published=True, latitude=Decimal(f"{lat:.6f}"), longitude=Decimal(f"{lon:.6f}"), geo_precision="exact"
        )
        incidents.append(incident)
    return incidents


@pytest.mark.parametrize(
    ("lat", "lon", "radius_km"),
    [
        (57.7, 12.0, 400),
        (59.3, 18.1, 1500),
        (0.0, 179.5, 900),
        (5.0, -179.9, 2500),
        (88.0, 0.0, 800),
        (-10.0, 40.0, 20000),
        (60.0, 25.0, 0.5),
    ],
)
def test_radius_filter_matches_a_brute_force_great_circle_check(anon_client, scattered, lat, lon, radius_km):
    expected = {
        incident.pk
        for incident in scattered
        if haversine_km(lat, lon, float(incident.latitude), float(incident.longitude)) <= radius_km
    }
    query = urlencode({"lat": lat, "lon": lon, "radius_km": radius_km, "limit": 1000})
    response = anon_client.get(f"{LIST_URL}?{query}")
    assert response.status_code == status.HTTP_200_OK
    assert {item["id"] for item in response.json()["results"]} == expected


# --- The guard: every contract parameter is declared --------------------------------------------


def test_every_contract_parameter_is_declared_in_the_filterset_and_the_schema(anon_client):
    declared = set(IncidentFilterSet.base_filters) | IncidentFilterSet.extra_parameters
    assert CONTRACT_PARAMETERS <= declared
    schema = anon_client.get(reverse("schema"), {"format": "json"}).json()
    parameters = schema["paths"]["/api/v1/incidents/"]["get"]["parameters"]
    documented = {p["name"] for p in parameters if p["in"] == "query"}
    assert CONTRACT_PARAMETERS <= documented
    assert all(p.get("description") for p in parameters if p["in"] == "query")


def test_updated_since_is_inclusive(anon_client):
    incident = make_incident(published=True, title="Exact")
    stamp = incident.updated_at.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    assert titles(anon_client, urlencode({"updated_since": stamp})) == {"Exact"}
    later = (incident.updated_at + datetime.timedelta(microseconds=1)).isoformat()
    assert titles(anon_client, urlencode({"updated_since": later})) == set()
    assert incident.updated_at <= timezone.now()
