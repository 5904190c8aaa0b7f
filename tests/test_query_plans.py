"""The hot list queries use the indexes made for them (DESIGN.md "Data and databases"): checked in the
database's own plan, on SQLite and on PostgreSQL, over 3,000 synthetic incidents with the planner's
statistics (on one row a planner's choice among indexes means nothing; PostgreSQL also picked a
non-leading index there). PostgreSQL runs with sequential scans discouraged, as a few thousand rows are
still too few for it to prefer an index on its own."""

import io

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from incidents.aggregates import stats_from_rows
from incidents.models import Actor, DataVersion, Incident, Source, Tag, Transfer
from incidents.selectors import incidents_filtered, incidents_visible_to
from incidents.shapes import EDITOR, PUBLIC

# The world below is built once for the module: its records are audited once (`test_…_current_records`),
# not after every test, which would rebuild 3,000 records each time.
pytestmark = [pytest.mark.django_db, pytest.mark.no_records_audit]

# Each hot filter, and the indexes that serve it (a planner without statistics may pick either of two).
HOT_QUERIES = [
    (
        "country=SE&occurred_after=2019-01-01&occurred_before=2020-12-31",
        {"incident_country_occurred", "incident_occurred", "incident_stats_by_occurred"},
    ),
    ("country=SE", {"incident_country_occurred"}),
    ("occurred_after=2019-01-01&occurred_before=2019-12-31", {"incident_occurred", "incident_stats_by_occurred"}),
    ("updated_since=2026-01-01T00:00:00Z", {"incident_updated"}),
    ("bbox=10,55,20,60", {"incident_location"}),
    ("lat=59.33&lon=18.07&radius_km=50", {"incident_location"}),
    ("q=malmo", {"incident_search VIRTUAL TABLE", "incident_search_trgm"}),
]
FULL_SCANS = ("Seq Scan on incidents_incident", "SCAN incidents_incident")


def plan(query: str, audience=EDITOR, *, ids_only: bool = False) -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
    incidents = incidents_filtered(QueryDict(query), audience=audience).order_by()
    # ids only: what the paginator's count reads (and the page's sort, before its 50 rows are fetched)
    return (incidents.values_list("pk") if ids_only else incidents).explain()


@pytest.fixture(scope="module")
def planned_world(django_db_setup, django_db_blocker):
    """Enough varied incidents, and the planner's statistics of them, for the plans a real database gets:
    built once for the module (committed; each test still runs in its own transaction), removed after."""
    with django_db_blocker.unblock():
        call_command("generate_synthetic", count=3000, seed=7, stdout=io.StringIO(), stderr=io.StringIO())
        yield
        # incidents and transfers first: the rest is protected by them
        for model in (Incident, Transfer, Source, Actor, Tag, DataVersion):
            model.objects.all().delete()
        for model in apps.get_app_config("incidents").get_models():
            if model.__name__.startswith("Historical"):
                model.objects.all().delete()


@pytest.mark.parametrize(("query", "indexes"), HOT_QUERIES)
def test_a_hot_filter_uses_its_index(planned_world, query, indexes):
    chosen = plan(query)
    assert any(index in chosen for index in indexes), chosen
    assert not any(scan in chosen for scan in FULL_SCANS), chosen


# The public view's hot filters, counted from the index alone (status is the index's last column) where
# the rollups cannot count them (with a filter that is not theirs).
COVERED = [
    (
        "country=SE&occurred_after=2019-01-01&occurred_before=2020-12-31",
        {"incident_country_occurred", "incident_stats_by_country"},
    ),
]


@pytest.mark.parametrize(("query", "indexes"), COVERED)
def test_a_public_count_reads_only_the_index(planned_world, query, indexes):
    chosen = plan(query, PUBLIC, ids_only=True)
    if connection.vendor == "sqlite":
        assert any(f"USING COVERING INDEX {index} " in chosen for index in indexes), chosen
    else:
        # PostgreSQL reads the index for every condition, status included; whether it then skips the rows
        # (an index-only scan) depends on VACUUM's visibility map, which a test transaction cannot build.
        lines = chosen.splitlines()
        at = next(n for n, line in enumerate(lines) if any(f" {index} " in f"{line} " for index in indexes))
        assert "Index Cond" in lines[at + 1] and "status" in lines[at + 1], chosen


STATS_VARIANTS = [{}, {"country": "SE"}, {"occurred_on__range": ("2019-01-01", "2020-12-31")}]


@pytest.mark.parametrize("group_by", ["country", "year", "month"])
@pytest.mark.parametrize("filters", STATS_VARIANTS, ids=["unfiltered", "country", "dates"])
def test_public_stats_from_rows_by_place_and_time_read_only_covering_indexes(planned_world, group_by, filters):
    """Where the rollups cannot answer (a filter that is not theirs), the rows' aggregate reads indexes only."""
    incidents = incidents_visible_to(AnonymousUser()).filter(**filters)
    with CaptureQueriesContext(connection) as captured:
        stats_from_rows(incidents, group_by)
    assert captured.captured_queries
    for query in captured.captured_queries:
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN QUERY PLAN {query['sql']}")
                chosen = " | ".join(row[-1] for row in cursor.fetchall())
            assert "COVERING INDEX incident_stats_" in chosen, (query["sql"], chosen)
        else:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute(f"EXPLAIN {query['sql']}")
                chosen = "\n".join(row[0] for row in cursor.fetchall())
            # On a few thousand rows PostgreSQL's choice among its indexes says little; no table scan, then.
            assert "Seq Scan" not in chosen, (query["sql"], chosen)


def test_generate_synthetic_stores_current_records(planned_world):
    """The bulk path of the benchmarks builds every record as the services would."""
    from incidents import records

    assert Incident.objects.count() == 3000
    assert records.audit() == []


def captured_plans(run) -> list[tuple[str, str]]:
    """Each query `run` makes, with the database's plan of it (sequential scans discouraged on PostgreSQL)."""
    with CaptureQueriesContext(connection) as captured:
        run()
    plans = []
    for query in captured.captured_queries:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(f"EXPLAIN QUERY PLAN {query['sql']}")
                plans.append((query["sql"], " | ".join(row[-1] for row in cursor.fetchall())))
            else:
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute(f"EXPLAIN {query['sql']}")
                plans.append((query["sql"], "\n".join(row[0] for row in cursor.fetchall())))
    return plans


@pytest.mark.parametrize("audience", [PUBLIC, EDITOR])
def test_a_trace_probes_indexes_and_scans_no_large_table(planned_world, audience):
    """API.md "Tracing": a lookup by serial is an index probe, not a scan; so is each read of an incident's trace."""
    from incidents import tracing
    from incidents.models import WeaponSerial

    serial = WeaponSerial.objects.order_by("id").values_list("normal", "weapon__incident_id")[500]
    plans = captured_plans(lambda: tracing.trace_serial(serial[0], audience))
    plans += captured_plans(lambda: tracing.trace_incident(serial[1], audience))
    assert len(plans) >= 4
    big_tables = ("incidents_weaponserial", "incidents_weaponitem", "incidents_incident", "incidents_transferrange")
    for sql, chosen in plans:
        for table in big_tables:
            assert f"SCAN {table}" not in chosen and f"Seq Scan on {table}" not in chosen, (sql, chosen)
    joined = "\n".join(chosen for _, chosen in plans)
    for index in ("weapon_serial_normal", "transfer_range_prefix_first"):
        assert index in joined, joined
