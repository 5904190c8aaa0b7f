"""`stats/` aggregates uncached: what the first request after a write pays (later ones are served from the
cache keyed by the data version). Prints a markdown table; `bench/run.py` adds it to bench/RESULTS.md.

    .venv/bin/python bench/stats.py bench/data/incidents-1000000-schema0008.sqlite3

Reads a database of synthetic incidents built by `bench/run.py` (`generate_synthetic`).
"""

import datetime
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def timed(function, repeat: int = 3) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    database = Path(sys.argv[1]).resolve()
    os.environ.update(
        DATABASE_URL=f"sqlite:///{database}", SECRET_KEY="bench-only", DJANGO_SETTINGS_MODULE="tracker.settings"
    )
    import django

    django.setup()
    from django.contrib.auth.models import AnonymousUser

    from incidents.selectors import STATS_KEYS, incident_stats, incidents_visible_to

    public = incidents_visible_to(AnonymousUser())
    dates = (datetime.date(2019, 1, 1), datetime.date(2020, 12, 31))
    variants = {
        "unfiltered": public,
        "country=SE": public.filter(country="SE"),
        "2019–2020": public.filter(occurred_on__range=dates),
        "SE, 2019–2020": public.filter(country="SE", occurred_on__range=dates),
    }
    print("| group_by | " + " | ".join(f"{name} ms" for name in variants) + " |")
    print("|---|" + "---|" * len(variants))
    for key in STATS_KEYS:
        cells = [
            f"{timed(lambda incidents=incidents, key=key: incident_stats(incidents=incidents, group_by=key)):.0f}"
            for incidents in variants.values()
        ]
        print(f"| {key} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
