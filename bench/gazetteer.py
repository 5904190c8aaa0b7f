"""Measure the offline gazetteer: index build time, warm lookup latency and the memory it adds to a process.

.venv/bin/python bench/gazetteer.py
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
os.environ.setdefault("SECRET_KEY", "bench-only")


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def main() -> None:
    import django

    django.setup()
    from incidents.geocoding import GazetteerGeocoder, gazetteer_index

    index = gazetteer_index()
    if not index.path.exists():
        started = time.perf_counter()
        index.build()
        print(f"index build: {time.perf_counter() - started:.1f} s ({index.path.stat().st_size / 1e6:.0f} MB file)")
    before = rss_mb()
    geocoder = GazetteerGeocoder()
    queries = [("Malmo", "SE"), ("Helsingfors", "FI"), ("Paris", "US"), ("Den Haag", "NL"), ("Nowhere", "DK")]
    for name, country in queries:  # warm up: open the file, fill SQLite's page cache
        geocoder.geocode(name, country_codes=[country])
    timings = []
    for _ in range(400):
        for name, country in queries:
            started = time.perf_counter()
            geocoder.geocode(name, country_codes=[country])
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    print(
        f"warm lookups: {len(timings)}, median {statistics.median(timings):.3f} ms, "
        f"p95 {timings[int(len(timings) * 0.95)]:.3f} ms"
    )
    print(f"memory added by the gazetteer: {rss_mb() - before:.1f} MB (RSS {rss_mb():.0f} MB)")


if __name__ == "__main__":
    main()
