"""Measure import_incidents: N synthetic rows into an empty SQLite database, then the same file again.

    .venv/bin/python bench/import_rows.py [--count 100000] [--format json|csv]

Writes a file of synthetic rows in the export's shape (every one titled `Synthetic …` and tagged
`synthetic`; benchmark databases only), imports it into a throwaway database with the real command in a
subprocess, and imports it again (which must change nothing). Prints wall times and peak memory.
"""

import argparse
import csv
import datetime
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COUNTRIES = ["SE"] * 8 + ["FI"] * 5 + ["DK"] * 4 + ["NL"] * 4 + ["DE", "PL", "UA", "AT", "GB", "FR", "NO", "EE"]
CATEGORIES = ["pistol", "assault_rifle", "grenade", "submachine_gun", "ammunition", "explosive", "rifle"]


def synthetic_rows(count: int, seed: int = 20221030):
    rng = random.Random(seed)
    start = datetime.date(2015, 1, 1)
    sources = [f"https://synthetic.example.org/article/{n}" for n in range(max(10, count // 2))]
    actors = [(f"Synthetic group {n}", "criminal_network") for n in range(200)]
    for number in range(count):
        with_coordinates = rng.random() < 0.9
        yield {
            "uid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "title": f"Synthetic incident {number}",
            "summary": "Synthetic benchmark row.",
            "incident_type": rng.choice(["seizure", "recovery", "theft", "trafficking", "claim"]),
            "occurred_on": (start + datetime.timedelta(days=rng.randrange(3650))).isoformat(),
            "date_precision": "day",
            "country": rng.choice(COUNTRIES),
            "admin1": "",
            "place": "",
            "latitude": round(rng.uniform(54, 66), 6) if with_coordinates else None,
            "longitude": round(rng.uniform(5, 28), 6) if with_coordinates else None,
            "geo_precision": "locality" if with_coordinates else None,
            "geocode": {"provider": "manual", "query": "", "geocoded_at": "2024-01-01T00:00:00Z", "warning": None}
            if with_coordinates
            else None,
            "verification": rng.choice(["reported", "corroborated", "confirmed", "disputed"]),
            "status": "published",
            "weapons": [
                {"category": rng.choice(CATEGORIES), "quantity": rng.randint(1, 20), "suspected_origin": None}
                for _ in range(rng.randint(0, 5))
            ],
            "sources": [
                {"url": url, "publisher": "Synthetic Publisher", "title": url.rsplit("/", 1)[1], "reliability": "B"}
                for url in rng.sample(sources, rng.randint(1, 3))
            ],
            "actors": [{"name": name, "kind": kind} for name, kind in rng.sample(actors, rng.choice([0, 0, 1]))],
            "tags": ["synthetic"],
        }


def write_file(rows, path: Path, file_format: str) -> None:
    rows = list(rows)
    if file_format == "json":
        path.write_text(json.dumps(rows), encoding="utf-8")
        return
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in row.items()})


def timed(command: list[str], env: dict) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stdout.strip().splitlines()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--format", choices=("json", "csv"), default="json")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-import-"))
    data = workdir / f"rows.{args.format}"
    write_file(synthetic_rows(args.count), data, args.format)
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir}/bench.sqlite3",
        "CACHE_URL": f"disk://{workdir}/cache",
        "SECRET_KEY": "bench-only",
    }
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT, check=True)
    first, first_report = timed([python, "manage.py", "import_incidents", str(data)], env)
    again, again_report = timed([python, "manage.py", "import_incidents", str(data)], env)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"file: {args.count} rows, {args.format}, {data.stat().st_size / 1e6:.1f} MB")
    print(f"first import:  {first:6.1f} s  ({first_report})")
    print(f"second import: {again:6.1f} s  ({again_report})")
    print(f"peak memory of an import process: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
