"""Where a request's time goes: one detail and one page of the list, served as deployed (gunicorn, DEBUG off,
the default throttles and file cache), each requested N times by one client, profiled with cProfile in the
worker (bench/gunicorn_profile.py). Prints, per request kind, the wall time per request and the share of it
spent in each part of the stack, and writes that table into bench/RESULTS.md (between `profile` markers).

    .venv/bin/python bench/profile.py [--size 100000] [--requests 1000]
"""

import argparse
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (the benchmark's database builder)

PORT = 8824
# Parts of the stack, by the file a function lives in (first match wins).
PARTS = [
    ("throttling (cache reads and writes)", ("rest_framework/throttling", "incidents/api/throttling")),
    ("cache backend", ("django/core/cache",)),
    ("database driver and SQL", ("sqlite3", "psycopg", "django/db/backends")),
    ("ORM: building and compiling queries", ("django/db/models",)),
    ("records (stored bytes)", ("incidents/records", "incidents/exports")),
    ("filters and query parameters", ("django_filters", "incidents/filters", "incidents/strict_query", "django/forms")),
    ("DRF: negotiation, auth, permissions, response", ("rest_framework",)),
    ("tracker views and middleware", ("incidents/", "tracker/")),
    ("Django request handling and middleware", ("django/", "corsheaders", "whitenoise", "simple_history", "axes")),
    ("gunicorn and the rest", ("",)),
]


def part_of(filename: str) -> str:
    for name, markers in PARTS:
        if any(marker in filename for marker in markers):
            return name
    return PARTS[-1][0]


def profile(database: Path, paths: dict[str, str], count: int) -> dict[str, tuple[float, dict[str, float]]]:
    results = {}
    for kind, path in paths.items():
        work = Path(tempfile.mkdtemp(prefix="bench-profile-"))
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{database}",
            "CACHE_URL": f"disk://{work}/cache",
            "SECRET_KEY": "bench-only",
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "ERROR",
            # As deployed, but one client may send this many requests a minute: the throttle still counts
            # every one (its bookkeeping is what is measured), it just never answers 429 here.
            "ANON_THROTTLE_RATE": f"{count * 10}/minute",
            "BENCH_PROFILE_DIR": str(work),
        }
        command = [str(run.BIN / "gunicorn"), "tracker.wsgi", "--bind", f"127.0.0.1:{PORT}", "--workers", "1"]
        command += ["--config", str(Path(__file__).with_name("gunicorn_profile.py")), "--log-level", "error"]
        server = subprocess.Popen(command, cwd=run.ROOT, env=env)
        try:
            run.wait_for(f"http://127.0.0.1:{PORT}/healthz")
            url = f"http://127.0.0.1:{PORT}{path}"
            for _ in range(20):
                urllib.request.urlopen(url).read()  # warm: connections, caches, code paths
            started = time.perf_counter()
            for _ in range(count):
                urllib.request.urlopen(url).read()
            wall_ms = (time.perf_counter() - started) * 1000 / count
        finally:
            server.terminate()
            server.wait(timeout=30)
        stats = pstats.Stats(*map(str, work.glob("worker-*.prof")))
        shares: dict[str, float] = {}
        total = 0.0
        for (filename, _, _), (_, _, own_time, _, _) in stats.stats.items():
            shares[part_of(filename)] = shares.get(part_of(filename), 0.0) + own_time
            total += own_time
        results[kind] = (wall_ms, {name: seconds / total for name, seconds in shares.items()})
        shutil.rmtree(work, ignore_errors=True)
    return results


def table(size: int, count: int, results: dict) -> str:
    lines = [
        f"### Where a request's time goes ({size:,} incidents, {count} requests each)",
        "",
        "One gunicorn worker, DEBUG off, the default throttles and file cache, profiled with cProfile "
        "(`bench/profile.py`; the profiler itself adds time, so the shares matter more than the sum). "
        "Wall time per request from one client over loopback.",
        "",
        "| part of the stack | " + " | ".join(results) + " |",
        "|---|" + "---|" * len(results),
    ]
    for name, _ in PARTS:
        cells = [f"{100 * shares.get(name, 0):.0f} %" for _, shares in results.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("| **wall time per request** | " + " | ".join(f"{wall:.2f} ms" for wall, _ in results.values()) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    database = run.build(args.size)
    import sqlite3

    with sqlite3.connect(database) as db:
        detail_id = db.execute(f"SELECT max(id) FROM incidents_incident WHERE {run.PUBLISHED}").fetchone()[0]
    paths = {
        "detail": f"/api/v1/incidents/{detail_id}/",
        "page of 50": "/api/v1/incidents/?country=SE&occurred_after=2019-01-01&occurred_before=2020-12-31",
    }
    section = table(args.size, args.requests, profile(database, paths, args.requests))
    print(section)
    run.write_marked_section("profile", section)


if __name__ == "__main__":
    main()
