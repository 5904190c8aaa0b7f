"""Measure stats/ at scale: the aggregate queries uncached, and the endpoint with its per-data-version cache.

    .venv/bin/python bench/stats.py [--count 100000]

Builds a throwaway SQLite database of synthetic incidents (every one titled and tagged `synthetic`; never
used outside benchmarks).
"""

import argparse
import datetime
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# BENCH_STATS_DIR reuses a database built by an earlier run (building 1M rows takes minutes).
WORKDIR = os.environ.get("BENCH_STATS_DIR") or tempfile.mkdtemp(prefix="bench-stats-")
os.environ["DATABASE_URL"] = f"sqlite:///{WORKDIR}/bench.sqlite3"
os.environ["CACHE_URL"] = f"file://{WORKDIR}/cache"
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ["ALLOWED_HOSTS"] = "testserver"
os.environ["DJANGO_SETTINGS_MODULE"] = "tracker.settings"
COUNTRIES = ["SE"] * 8 + ["FI"] * 5 + ["DK"] * 4 + ["NL"] * 4 + ["DE", "PL", "UA", "AT", "GB", "FR", "NO", "EE"]
CATEGORIES = ["pistol", "assault_rifle", "grenade", "submachine_gun", "ammunition", "explosive", "rifle"]


def build(count: int) -> None:
    from incidents.models import Incident, IncidentTag, Tag, WeaponItem

    rng = random.Random(20221030)
    tag = Tag.objects.create(slug="synthetic")
    start = datetime.date(2015, 1, 1)
    batch = []
    for number in range(count):
        batch.append(
            Incident(
                uid=uuid.uuid4(),
                title=f"Synthetic incident {number}",
                incident_type=rng.choice(["seizure", "recovery", "theft", "trafficking", "claim"]),
                occurred_on=start + datetime.timedelta(days=rng.randrange(3650)),
                date_precision=rng.choice(["day"] * 8 + ["month", "year"]),
                country=rng.choice(COUNTRIES),
                latitude=Decimal(f"{rng.uniform(54, 66):.6f}"),
                longitude=Decimal(f"{rng.uniform(5, 28):.6f}"),
                geo_precision="locality",
                verification=rng.choice(["reported", "corroborated", "confirmed", "disputed"]),
                status="published",
                weapons_total=0,
            )
        )
        if len(batch) == 5000:
            Incident.objects.bulk_create(batch)
            batch = []
    Incident.objects.bulk_create(batch)
    weapons, links = [], []
    for incident_id in Incident.objects.values_list("id", flat=True):
        links.append(IncidentTag(incident_id=incident_id, tag=tag))
        for _ in range(rng.randrange(6)):
            weapons.append(
                WeaponItem(incident_id=incident_id, category=rng.choice(CATEGORIES), quantity=rng.randrange(1, 20))
            )
    WeaponItem.objects.bulk_create(weapons, batch_size=5000)
    IncidentTag.objects.bulk_create(links, batch_size=5000)


def timed(function, repeat: int = 3) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def fetch(client, query: dict) -> None:
    response = client.get("/api/v1/stats/", query)
    assert response.status_code == 200, response.content[:200]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from incidents.history import bump_data_version
    from incidents.models import Incident
    from incidents.selectors import incident_stats

    call_command("migrate", verbosity=0)
    if not Incident.objects.exists():
        started = time.perf_counter()
        build(args.count)
        print(f"{args.count} synthetic incidents built in {time.perf_counter() - started:.0f} s ({WORKDIR})")
    bump_data_version()
    print(f"{Incident.objects.count()} incidents in {WORKDIR}")
    client = Client()
    print("| group_by | query, uncached (median of 3) | endpoint, first request | endpoint, cached |")
    print("|---|---|---|---|")
    for group_by in ("country", "month", "weapon_category", "actor_kind"):
        query = {"group_by": group_by, "country": "SE,FI,DK,NL"}
        uncached = timed(
            lambda key=group_by: incident_stats(incidents=Incident.objects.filter(status="published"), group_by=key)
        )
        first = timed(lambda query=query: fetch(client, query), repeat=1)
        cached = timed(lambda query=query: fetch(client, query), repeat=20)
        print(f"| {group_by} | {uncached:.0f} ms | {first:.0f} ms | {cached:.1f} ms |")


if __name__ == "__main__":
    main()
