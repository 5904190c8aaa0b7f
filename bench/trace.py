"""`make bench-trace`: tracing at scale (API.md "Tracing"), the tracker beside Datasette and raw SQL.

    .venv/bin/python bench/trace.py [--size 1000000] [--samples 400]

On the synthetic database of `bench/run.py` (1M incidents, about 3.3M serials, 20k transfers; built once
under bench/data/), it serves the tracker as deployed (gunicorn, DEBUG off, throttles and cache on) and
Datasette on the same file, and asks each, one request at a time over keep-alive loopback HTTP:

- `weapons/trace/?serial=` for sampled serials (a third inside a declared range);
- `incidents/{id}/trace/` for sampled published incidents with serials.

Datasette is asked the SQL of the same lookups (the serial's incidents and the ranges holding it); the raw
SQL is timed in-process. p50 and p95 go to bench/RESULTS.md ("tracing"), with the query plans. Not CI.
"""

import argparse
import http.client
import json
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (bench/run.py: the database, the servers, RESULTS.md)

sys.path.insert(0, str(run.ROOT))
from incidents.serials import normal_serial, split_serial  # noqa: E402  (the tracker's own normal form)

PUBLISHED_TRANSFER = "EXISTS (SELECT 1 FROM incidents_transfercitation c WHERE c.transfer_id = t.id)"
# The serial lookup as SQL: the published incidents with a weapon of that serial, then the transfers whose
# declared ranges hold it — what `weapons/trace/` reads (without its reasons and scores).
SERIAL_SQL = f"""
SELECT 'recovered' AS kind, i.id, i.title, i.country, i.occurred_on
FROM incidents_weaponserial s
JOIN incidents_weaponitem w ON w.id = s.weapon_id
JOIN incidents_incident i ON i.id = w.incident_id
WHERE s.normal = :serial AND i.status = 'published'
UNION ALL
SELECT 'candidate', t.id, t.supplier, t.recipient, t.year
FROM incidents_transferrange r JOIN incidents_transfer t ON t.id = r.transfer_id
WHERE r.prefix = :prefix AND r.first <= :number AND r.last >= :number AND {PUBLISHED_TRANSFER}
"""
# An incident's trace as SQL: the other published incidents sharing a serial with it, and the transfers
# of the same category whose ranges hold one of its serials.
INCIDENT_SQL = f"""
SELECT 'recovered' AS kind, i.id, i.title, i.country, s.normal
FROM incidents_weaponitem w0
JOIN incidents_weaponserial s0 ON s0.weapon_id = w0.id
JOIN incidents_weaponserial s ON s.normal = s0.normal AND s.weapon_id != s0.weapon_id
JOIN incidents_weaponitem w ON w.id = s.weapon_id
JOIN incidents_incident i ON i.id = w.incident_id
WHERE w0.incident_id = :id AND i.id != :id AND i.status = 'published'
UNION ALL
SELECT 'candidate', t.id, t.supplier, t.recipient, s0.normal
FROM incidents_weaponitem w0
JOIN incidents_weaponserial s0 ON s0.weapon_id = w0.id
JOIN incidents_transferrange r ON r.prefix = s0.prefix AND r.first <= s0.number AND r.last >= s0.number
JOIN incidents_transfer t ON t.id = r.transfer_id AND t.weapon_category = w0.category
WHERE w0.incident_id = :id AND {PUBLISHED_TRANSFER}
"""


def samples(database: Path, count: int, seed: int = 25) -> tuple[list[str], list[int]]:
    """Serials (a third of them inside a declared range) and published incidents with serials, sampled by id."""
    rng = random.Random(seed)
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        top = db.execute("SELECT max(id) FROM incidents_weaponserial").fetchone()[0]
        serials, incidents = [], []
        while len(serials) < count or len(incidents) < count:
            row = db.execute(
                "SELECT s.normal, w.incident_id, i.status FROM incidents_weaponserial s "
                "JOIN incidents_weaponitem w ON w.id = s.weapon_id JOIN incidents_incident i ON i.id = w.incident_id "
                "WHERE s.id = ?",
                (rng.randint(1, top),),
            ).fetchone()
            if row is None:
                continue
            if len(serials) < count:
                serials.append(row[0])
            if row[2] == "published" and len(incidents) < count:
                incidents.append(row[1])
    return serials, incidents


def serial_parameters(serial: str) -> dict:
    normal = normal_serial(serial)
    prefix, number = split_serial(normal)
    return {"serial": normal, "prefix": prefix, "number": number if number is not None else -1}


def timed_gets(port: int, paths: list[str]) -> tuple[list[float], list[dict]]:
    """Each path once, in order, over one keep-alive connection: latencies in ms, and the answers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    timings, answers = [], []
    for path in paths:
        started = time.perf_counter()
        connection.request("GET", path, headers={"Host": "127.0.0.1", "Accept": "application/json"})
        response = connection.getresponse()
        body = response.read()
        timings.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}: {body[:300]!r}")
        answers.append(json.loads(body))
    connection.close()
    return timings, answers


def raw_ms(database: Path, sql: str, parameters: list[dict]) -> list[float]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        timings = []
        for values in parameters:
            started = time.perf_counter()
            db.execute(sql, values).fetchall()
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def plan(database: Path, sql: str, values: dict) -> list[str]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return [row[-1] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", values)]


def p(timings: list[float], q: float) -> float:
    return statistics.quantiles(timings, n=100)[int(q) - 1] if len(timings) > 1 else timings[0]


def measure(database: Path, count: int) -> dict:
    serials, incidents = samples(database, count)
    serial_values = [serial_parameters(serial) for serial in serials]
    incident_values = [{"id": incident} for incident in incidents]
    lookups = {
        "serial": {
            "tracker": [f"/api/v1/weapons/trace/?{urllib.parse.urlencode({'serial': s})}" for s in serials],
            "sql": SERIAL_SQL,
            "values": serial_values,
        },
        "incident": {
            "tracker": [f"/api/v1/incidents/{incident}/trace/" for incident in incidents],
            "sql": INCIDENT_SQL,
            "values": incident_values,
        },
    }
    results = {}
    for name, lookup in lookups.items():
        lookup["datasette"] = [
            "/bench.json?" + urllib.parse.urlencode({"sql": lookup["sql"], "_shape": "array", **values})
            for values in lookup["values"]
        ]
        results[name] = {"raw": raw_ms(database, lookup["sql"], lookup["values"])}
        results[name]["plan"] = plan(database, lookup["sql"], lookup["values"][0])
    for side, serve, port in (
        ("tracker", run.serve_tracker, run.TRACKER_PORT),
        ("datasette", run.serve_datasette, run.DATASETTE_PORT),
    ):
        work = Path(tempfile.mkdtemp(prefix=f"bench-trace-{side}-"))
        server = serve(database, work)
        try:
            for name, lookup in lookups.items():
                timed_gets(port, lookup[side][:20])  # warm up
                results[name][side], answers = timed_gets(port, lookup[side])
                if side == "tracker":
                    results[name]["found"] = sum(
                        bool(a.get("recovered_in") or a.get("recovered_elsewhere") or a["candidates"]) for a in answers
                    )
                    results[name]["candidates"] = sum(len(a["candidates"]) for a in answers)
        finally:
            server.terminate()
            server.wait(timeout=30)
            shutil.rmtree(work, ignore_errors=True)
    return results


def counts(database: Path) -> dict:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        tables = ["incident", "weaponitem", "weaponserial", "transfer", "transferrange"]
        return {name: db.execute(f"SELECT count(*) FROM incidents_{name}").fetchone()[0] for name in tables}


def section(size: int, results: dict, sizes: dict, count: int) -> str:
    lines = [
        "## Tracing at scale (`make bench-trace`)",
        "",
        f"Run {datetime_now()}: {run.versions()}. "
        f"Synthetic database (marked `synthetic`): {sizes['incident']:,} incidents, "
        f"{sizes['weaponitem']:,} weapon items, {sizes['weaponserial']:,} serials, {sizes['transfer']:,} transfers "
        f"with {sizes['transferrange']:,} declared ranges. {count} sampled lookups of each kind, one at a time over "
        "keep-alive loopback HTTP; the tracker as deployed (gunicorn, 3 workers, DEBUG off, throttles and cache on), "
        "Datasette (immutable) asked the same lookups as SQL, the raw SQL timed in-process. Targets (issue #25): "
        "serial lookup p50 ≤ 5 ms, incident trace p50 ≤ 10 ms.",
        "",
        "| lookup | tracker p50 / p95 ms | Datasette p50 / p95 ms | raw SQL p50 / p95 ms | tracker ÷ Datasette (p50) "
        "| tracker ÷ raw (p50) | answers with a link | candidates |",
        "|---|---|---|---|---|---|---|---|",
    ]
    names = {"serial": "`weapons/trace/?serial=`", "incident": "`incidents/{id}/trace/`"}
    for name, r in results.items():
        t, d, raw = r["tracker"], r["datasette"], r["raw"]
        lines.append(
            f"| {names[name]} | {p(t, 50):.1f} / {p(t, 95):.1f} | {p(d, 50):.1f} / {p(d, 95):.1f} "
            f"| {p(raw, 50):.2f} / {p(raw, 95):.2f} | {p(t, 50) / p(d, 50):.2f}× | {p(t, 50) / p(raw, 50):.1f}× "
            f"| {r['found']} of {count} | {r['candidates']} |"
        )
    lines += ["", "Query plans (SQLite) of the SQL above: index probes, no scan of a large table.", ""]
    for name, r in results.items():
        lines.append(f"- {names[name]}: " + "; ".join(f"`{step}`" for step in r["plan"]))
    return "\n".join(lines)


def datetime_now() -> str:
    return time.strftime("%Y-%m-%d", time.gmtime())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=400)
    args = parser.parse_args()
    database = run.build(args.size)
    results = measure(database, args.samples)
    text = section(args.size, results, counts(database), args.samples)
    run.write_marked_section("tracing", text)
    print(text)


if __name__ == "__main__":
    main()
