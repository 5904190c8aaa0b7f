"""`stats/` aggregates uncached: what the first request after a write pays (later ones are served from the
cache keyed by the data version), as served (from the rollups where the filters allow) and, for
comparison, aggregated from the rows. Prints a markdown table; `bench/run.py` adds it to bench/RESULTS.md.

    .venv/bin/python bench/stats.py bench/data/incidents-1000000-schema0008.sqlite3

Reads a database of synthetic incidents built by `bench/run.py` (`generate_synthetic`).
"""

import os
import statistics
import sys
import time
from decimal import Decimal
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

    from django.http import QueryDict

    from incidents.aggregates import incident_stats, stats_from_rows
    from incidents.filters import STATS_KEYS
    from incidents.selectors import PUBLIC, Selection

    variants = {
        "unfiltered": "",
        "country=SE": "country=SE",
        "2019–2020": "occurred_after=2019-01-01&occurred_before=2020-12-31",
        "SE, 2019-03-15–2020-12-31": "country=SE&occurred_after=2019-03-15&occurred_before=2020-12-31",
        "bbox": "bbox=10,55,20,60",
    }
    columns = [f"{name} ms" for name in variants] + [f"{name} rows ms" for name in list(variants)[:2]]
    print("| group_by | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for key in STATS_KEYS:
        options = {"cell": Decimal("0.5")} if key == "grid" else {}

        def served(query: str, key=key, options=options) -> None:
            incident_stats(Selection(QueryDict(query), audience=PUBLIC), key, **options)

        def from_rows(query: str, key=key) -> None:
            stats_from_rows(Selection(QueryDict(query), audience=PUBLIC).incidents, key)

        cells = [f"{timed(lambda query=query: served(query)):.0f}" for query in variants.values()]
        if key != "grid":
            cells += [f"{timed(lambda query=query: from_rows(query)):.0f}" for query in list(variants.values())[:2]]
        else:
            cells += ["–", "–"]
        print(f"| {key} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
