"""The rollups and the spatial index (issue 21): what they answer equals what the rows answer, for every
filter they serve, on a varied synthetic world; the writes keep them (the suite's audit hook checks every
test's, these take each path on purpose); the queries they answer never read the incidents table."""

import io
import math
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from incidents import geo, rollups
from incidents.aggregates import _stats, grid_stats, stats_from_rows
from incidents.filters import STATS_KEYS
from incidents.models import Actor, DataVersion, GridCell, Incident, Rollup, Source, Tag, Transfer
from incidents.selectors import Selection
from incidents.shapes import EDITOR, PUBLIC
from tests.factories import make_incident

# The world is built once for the module and audited once (`test_the_world_is_audited_clean`).
pytestmark = [pytest.mark.django_db, pytest.mark.no_records_audit]


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """2,000 synthetic incidents (every status, day-, month- and year-precise dates, weapons of every kind,
    some without coordinates), committed for the module and removed after."""
    with django_db_blocker.unblock():
        call_command("generate_synthetic", count=2000, seed=21, stdout=io.StringIO(), stderr=io.StringIO())
        yield
        for model in (Incident, Transfer, Source, Actor, Tag, DataVersion):
            model.objects.all().delete()
        for model in apps.get_app_config("incidents").get_models():
            if model.__name__.startswith("Historical"):
                model.objects.all().delete()


def test_the_world_is_audited_clean(world):
    assert Rollup.objects.exists() and GridCell.objects.exists()
    assert rollups.audit() == [] and geo.spatial_index_audit() == []


# Filters the rollups serve (whole months from the rollups, the days at either end from the rows), the
# regions the grid rollup serves, and filters they do not (answered from the rows).
QUERIES = [
    "",
    "country=SE",
    "country=SE,FI,DK",
    "occurred_after=2019-01-01&occurred_before=2020-12-31",
    "occurred_after=2019-03-15&occurred_before=2020-11-07",
    "occurred_after=2019-03-15&occurred_before=2019-03-20",
    "occurred_after=2019-03-31&occurred_before=2019-04-01",
    "occurred_after=2019-12-31",
    "occurred_before=2019-02-28",
    "occurred_after=2019-05-01&occurred_before=2019-05-31",
    "country=SE&occurred_after=2019-02-10&occurred_before=2021-06-30",
    "incident_type=seizure",
    "verification=confirmed,disputed",
    "incident_type=theft&country=NL&occurred_after=2018-06-02",
    "bbox=10,55,20,60",
    "bbox=-180,-90,180,90",
    "bbox=18.07,59.33,18.08,59.34",
    "lat=59.33&lon=18.07&radius_km=50",
    "lat=55.6&lon=12.5&radius_km=400",
    "lat=60&lon=25&radius_km=0.5",
    "lat=89.9&lon=0&radius_km=100",
    "lat=0&lon=179.9&radius_km=300",
    "lat=50&lon=10&radius_km=20000",
    "weapon_category=grenade",
    "country=SE&weapon_category=rifle",
    "q=ab",
]
EDITOR_QUERIES = ["status=draft", "status=published,archived&country=FI", "status=archived&bbox=-10,35,40,70"]


def selections():
    for query in QUERIES:
        for audience in (PUBLIC, EDITOR):
            yield pytest.param(query, audience, id=f"{audience}:{query or 'all'}")
    for query in EDITOR_QUERIES:
        yield pytest.param(query, EDITOR, id=f"{EDITOR}:{query}")


@pytest.mark.parametrize(("query", "audience"), list(selections()))
def test_counts_equal_the_rows_count(world, query, audience):
    selection = Selection(QueryDict(query), audience=audience)
    assert selection.count() == selection.incidents.count()


@pytest.mark.parametrize(("query", "audience"), list(selections()))
def test_every_stats_key_equals_the_rows_aggregate(world, query, audience):
    selection = Selection(QueryDict(query), audience=audience)
    for key in STATS_KEYS:
        if key == "grid":
            continue
        served, from_rows = _stats(selection, key), stats_from_rows(selection.incidents, key)
        assert comparable(served) == comparable(from_rows), key


def comparable(stats: tuple[dict, list[dict]]) -> tuple[dict, dict]:
    total, rows = stats
    sums = ("incidents", "weapons", "weapons_approximate")
    return (
        {name: total.get(name) or 0 for name in (*sums, "imprecise")},
        {row["key"]: tuple(row[name] or 0 for name in sums) for row in rows if row["incidents"]},
    )


def test_region_counts_hold_for_points_on_and_beside_every_edge(world):
    """Incidents exactly on 0.01° lines, in a border cell just outside a box that cuts through it, on its
    corner, and a few metres either side of a circle all round it: counted where the rows count them."""
    points = [(59.33, 18.07), (59.34, 18.08), (59.333, 18.077), (59.336, 18.078), (59.336, 18.0749)]
    points += [(59.345, 18.085), (59.345001, 18.08), (59.335, 18.075), (59.334999, 18.075001)]
    points += [(59.330001, 18.070001), (59.339999, 18.079999), (59.34, 18.07), (59.33, 18.079999)]
    for bearing in range(0, 360, 15):
        for distance in (4.995, 5.005):
            points.append(destination(59.33, 18.07, bearing, distance))
    for lat, lon in points:
        make_incident(published=True, latitude=Decimal(f"{lat:.6f}"), longitude=Decimal(f"{lon:.6f}"))
    for query in [
        "bbox=18.07,59.33,18.08,59.34",
        "bbox=18.075,59.335,18.085,59.345",
        "bbox=18.0750005,59.3349995,18.0849995,59.3450005",
        "bbox=18.0700010000001,59.3300009999999,18.0849999999999,59.3450000000001",
        "bbox=18.07,59.33,18.079999,59.339999",
        "bbox=18.07,59.33,18.079998,59.339998",
        "lat=59.33&lon=18.07&radius_km=5",
        "lat=59.33&lon=18.07&radius_km=4.99",
    ]:
        selection = Selection(QueryDict(query), audience=PUBLIC)
        assert selection.count() == selection.incidents.count(), query
    assert rollups.audit() == [] and geo.spatial_index_audit() == []


def destination(lat: float, lon: float, bearing: float, km: float) -> tuple[float, float]:
    """The point `km` from (lat, lon) along `bearing` degrees, on the sphere."""
    phi, lam, theta, delta = math.radians(lat), math.radians(lon), math.radians(bearing), km / geo.EARTH_RADIUS_KM
    phi2 = math.asin(math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(theta))
    lam2 = lam + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi), math.cos(delta) - math.sin(phi) * math.sin(phi2)
    )
    return math.degrees(phi2), math.degrees(lam2)


@pytest.mark.parametrize(
    ("query", "cell"),
    [
        ("", "0.5"),
        ("", "10"),
        ("", "0.07"),
        ("bbox=-10,35,40,70", "0.5"),
        ("bbox=10.005,55.005,20.335,60.015", "0.01"),
        ("bbox=10,55,20,60", "1"),
        ("bbox=10.05,55.05,20.35,60.15", "0.3"),
        ("bbox=-24.5,34.5,44.5,71.5", "2"),
        ("bbox=-25,34,45,72", "0.5"),
        ("country=SE", "0.25"),
        ("lat=59.33&lon=18.07&radius_km=200", "0.5"),
    ],
)
@pytest.mark.parametrize("audience", [PUBLIC, EDITOR])
def test_the_grid_equals_a_computation_from_the_coordinates(world, query, cell, audience):
    selection = Selection(QueryDict(query), audience=audience)
    total, cells = grid_stats(selection, Decimal(cell))
    expected = grid_in_python(selection.incidents, Decimal(cell))
    assert {row["key"]: (row["incidents"], row["weapons"], row["center"]) for row in cells} == expected
    located = selection.incidents.filter(latitude__isnull=False)
    assert (total["incidents"], total["unlocated"]) == (
        selection.incidents.count() if "bbox" not in query and "radius" not in query else located.count(),
        selection.incidents.count() - located.count(),
    )


def grid_in_python(incidents, cell: Decimal) -> dict:
    """Cells keyed by their south-west corner, from each incident's six-decimal coordinates."""
    size = int(cell * geo.MICRO)
    found: dict[str, list] = {}
    for longitude, latitude, weapons in incidents.filter(latitude__isnull=False).values_list(
        "longitude", "latitude", "weapons_total"
    ):
        lon, lat = round(longitude * geo.MICRO), round(latitude * geo.MICRO)
        corner = tuple(format((Decimal(value // size) * cell).normalize(), "f") for value in (lon, lat))
        key = ",".join("0" if text == "-0" else text for text in corner)
        kept = found.setdefault(key, [0, 0, 0, 0])
        kept[0] += 1
        kept[1] += weapons or 0
        kept[2] += lon
        kept[3] += lat
    return {
        key: (n, weapons, [round(lon / n / geo.MICRO, 6), round(lat / n / geo.MICRO, 6)])
        for key, (n, weapons, lon, lat) in found.items()
    }


@pytest.mark.parametrize(
    "query",
    [
        "country=SE&occurred_after=2019-01-01&occurred_before=2020-12-31",
        "verification=confirmed",
        "status=published,draft",
    ],
)
def test_a_count_the_rollups_can_tell_never_reads_the_incidents(world, query):
    with CaptureQueriesContext(connection) as queries:
        Selection(QueryDict(query), audience=EDITOR).count()
    assert queries.captured_queries
    assert not any("incidents_incident" in query["sql"] for query in queries.captured_queries)


@pytest.mark.parametrize("key", [key for key in STATS_KEYS if key != "grid"])
def test_unfiltered_stats_never_read_the_incidents_or_their_weapons(world, key):
    with CaptureQueriesContext(connection) as queries:
        _stats(Selection(QueryDict(""), audience=PUBLIC), key)
    tables = ("incidents_incident", "incidents_weapon", "incidents_incidentactor")
    assert not any(table in query["sql"] for query in queries.captured_queries for table in tables)


def test_a_map_grid_over_a_box_reads_its_coarsest_cells_and_the_incidents_of_its_border_only(world):
    with CaptureQueriesContext(connection) as queries:
        grid_stats(Selection(QueryDict("bbox=-10,35,40,70"), audience=PUBLIC), Decimal("0.5"))
    reads = [query["sql"] for query in queries.captured_queries if "incidents_incident" in query["sql"]]
    assert reads and all(("incident_location" in sql or "<@ box" in sql) for sql in reads)
    cells = [query["sql"] for query in queries.captured_queries if "incidents_gridcell" in query["sql"]]
    assert cells and all('"level" = 1' in sql for sql in cells)  # 0.1° cells tile 0.5° ones: 100× fewer rows


def test_a_dense_page_in_id_order_walks_the_ids(world):
    """Most incidents match: the page is found by walking ids, not by sorting every match."""
    selection = Selection(QueryDict("occurred_after=1990-01-01&ordering=-id"), audience=EDITOR)
    count = selection.count()
    with CaptureQueriesContext(connection) as queries:
        page = selection.page(100, 50, count)
    assert [pk for pk, _ in page] == list(selection.ordered().values_list("pk", flat=True)[100:150])
    if connection.vendor == "sqlite":
        assert any("NOT INDEXED" in query["sql"] for query in queries.captured_queries)


def test_a_region_count_matches_great_circle_distances_away_from_its_edge(world):
    """Independent of the SQL: the points well inside or outside a 400 km circle, by Python's haversine."""
    lat, lon, radius = 55.6, 12.5, 400
    points = Incident.objects.filter(status="published", latitude__isnull=False).values_list("latitude", "longitude")
    distances = [geo.haversine_km(lat, lon, float(a), float(b)) for a, b in points]
    inside = sum(distance <= radius for distance in distances)
    count = Selection(QueryDict(f"lat={lat}&lon={lon}&radius_km={radius}"), audience=PUBLIC).count()
    near_edge = sum(math.isclose(distance, radius, abs_tol=0.01) for distance in distances)
    assert abs(count - inside) <= near_edge
