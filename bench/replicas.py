"""PostgreSQL with a streaming read replica, beside the primary alone: the read queries of `make bench`.

    .venv/bin/python bench/replicas.py --primary postgres://postgres@127.0.0.1:55432 \
        --replica postgres://postgres@127.0.0.1:55433 [--sizes 100000,1000000] [--duration 5]

The replica replicates the primary's whole cluster (`pg_basebackup -R`), so each benchmark database built on
the primary (`run.build_postgresql`) is on it too. For each size the tracker is served as deployed (gunicorn,
one worker per core, throttles and cache on) on the primary alone, then with `DATABASE_REPLICA_URLS` naming
the replica; the replica's and the primary's own transaction counts show where the reads went. The section
between the `replicas` markers of bench/RESULTS.md is replaced. Not part of CI.
"""

import argparse
import os
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (the benchmark's database builder and server helpers)

COMMITS = "SELECT xact_commit FROM pg_stat_database WHERE datname = %s"


def commits(server: str, database: str) -> int:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as db:
        row = db.execute(COMMITS, (database,)).fetchone()
    return row[0] if row else 0


def wait_for_database(server: str, database: str, seconds: int = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(f"{server}/{database}", connect_timeout=5) as db:
                db.execute("SELECT count(*) FROM incidents_incident").fetchone()
            return
        except psycopg.OperationalError:
            time.sleep(1)
    raise RuntimeError(f"{database} did not reach the replica")


def measure(primary: str, replica: str, size: int, duration: int) -> str:
    url = run.build_postgresql(primary, size)
    database = url.rsplit("/", 1)[1]
    wait_for_database(replica, database)
    alone = run.measure_postgresql(primary, size, duration)
    before = commits(replica, database), commits(primary, database)
    time.sleep(2)  # backends report their counts when idle
    replicated = run.measure_postgresql(
        primary, size, duration, DATABASE_REPLICA_URLS=f"{replica}/{database}", REPLICA_CHECK_SECONDS="5"
    )
    time.sleep(2)
    on_replica, on_primary = commits(replica, database) - before[0], commits(primary, database) - before[1]
    lines = [
        f"### PostgreSQL with a streaming replica, {size:,} incidents",
        "",
        f"The same queries served by gunicorn ({os.cpu_count()} workers) on the primary alone, then with "
        "`DATABASE_REPLICA_URLS` naming a streaming replica on the same machine (so the replica competes with "
        "the primary and the workers for the same cores: this measures the routing's cost, not added "
        f"capacity). During the second run the replica committed {on_replica:,} transactions and the primary "
        f"{on_primary:,} (most of them the floor row's `/healthz`, which asks the primary by design): the reads "
        "went to the replica. On two cores the two runs differ by the machine's noise and the order of the runs "
        "(the first run of a size warms the page cache), not by the routing, which costs one cached lookup.",
        "",
        "| query | primary: req/s (c=4) | primary: p50 / p95 ms (c=1) | + replica: req/s (c=4) "
        "| + replica: p50 / p95 ms (c=1) | req/s ratio |",
        "|---|---|---|---|---|---|",
    ]
    for first, second in zip(alone, replicated, strict=True):
        ratio = second["c4"]["rps"] / first["c4"]["rps"] if first["c4"]["rps"] else 0
        errors = sum(row[c]["errors"] for row in (first, second) for c in ("c1", "c4"))
        lines.append(
            f"| {first['query']} | {first['c4']['rps']:.0f} "
            f"| {first['c1']['p50_ms']:.1f} / {first['c1']['p95_ms']:.1f} | {second['c4']['rps']:.0f} "
            f"| {second['c1']['p50_ms']:.1f} / {second['c1']['p95_ms']:.1f} "
            f"| {ratio:.2f}{f' (errors: {errors})' if errors else ''} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--primary", required=True, help="postgres://user@host:port of the primary")
    parser.add_argument("--replica", required=True, help="postgres://user@host:port of its streaming replica")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--duration", type=int, default=5)
    args = parser.parse_args()
    sections = [measure(args.primary, args.replica, int(size), args.duration) for size in args.sizes.split(",")]
    for section in sections:
        print(section, flush=True)
    run.write_marked_section("replicas", "\n\n".join(sections))


if __name__ == "__main__":
    main()
