"""`make bench`: the tracker and Datasette serving the same SQLite file, side by side, plus raw SQL.

    .venv/bin/python bench/run.py [--sizes 10000,100000] [--duration 5]     (BENCH_1M=1 adds 1,000,000)

For each size it builds (once, under bench/data/) a database of synthetic incidents with
`generate_synthetic`, checkpoints its WAL, then serves it with the tracker (gunicorn, DEBUG off, three
sync workers for this 2-core machine, throttling off) and with Datasette (immutable `-i`, facet
suggestions off), one after the other. Each query is driven over loopback by `wrk` at concurrency 1
(latency) and 4 (throughput); the equivalent SQL is timed in-process; both servers' answers are checked to
name the same ids. The table goes to bench/RESULTS.md. Not part of CI.
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DATA = ROOT / "bench" / "data"
LUA = ROOT / "bench" / "report.lua"
TRACKER_PORT, DATASETTE_PORT = 8821, 8822
PUBLISHED = "status = 'published'"


@dataclass
class Query:
    name: str
    tracker: str
    datasette: str
    sql: str  # the page the tracker answers, as plain SQL (its count query is timed too, when it has one)
    count_sql: str | None = None


def queries(detail_id: int) -> list[Query]:
    filtered = f"{PUBLISHED} AND country = 'SE' AND occurred_on BETWEEN '2019-01-01' AND '2020-12-31'"
    # The spatial index (an R*Tree table, migration 0013) replaced the coordinates' B-tree: Datasette and
    # the raw SQL are given it too, as they are given the text index for `q`.
    in_box = (
        "id IN (SELECT id FROM incident_location "
        "WHERE max_lon >= {} AND min_lon <= {} AND max_lat >= {} AND min_lat <= {})"
    )
    box_filter = in_box.format(10, 20, 55, 60)
    bbox = f"{PUBLISHED} AND {box_filter} AND latitude BETWEEN 55 AND 60 AND longitude BETWEEN 10 AND 20"
    circle_box = in_box.format("18.07 - 0.8843", "18.07 + 0.8843", "59.33 - 0.4497", "59.33 + 0.4497")
    radius = (
        f"{PUBLISHED} AND {circle_box} AND latitude BETWEEN 59.33 - 0.4497 AND 59.33 + 0.4497 "
        "AND longitude BETWEEN 18.07 - 0.8843 AND 18.07 + 0.8843 "
        "AND 2 * 6371.0088 * asin(sqrt(power(sin(radians(latitude - 59.33) / 2), 2) + cos(radians(59.33)) * "
        "cos(radians(latitude)) * power(sin(radians(longitude - 18.07) / 2), 2))) <= 50"
    )
    # The tracker's own text search (an FTS5 trigram index, migration 0008); Datasette is given it too.
    found = "id IN (SELECT rowid FROM incident_search WHERE incident_search MATCH 'search_text : \"malmo\"')"
    search = f"{PUBLISHED} AND {found}"
    page = "SELECT * FROM incidents_incident WHERE {} ORDER BY id DESC LIMIT 50"
    count = "SELECT count(*) FROM incidents_incident WHERE {}"
    table = "/bench/incidents_incident.json?_shape=objects&_size=50&_sort_desc=id&status=published"
    sql_url = "/bench.json?_shape=objects&sql="
    by_country = f"SELECT country, count(*), sum(weapons_total) FROM incidents_incident WHERE {PUBLISHED} GROUP BY 1"
    by_month = (
        "SELECT strftime('%Y-%m', occurred_on), count(*), sum(weapons_total) FROM incidents_incident "
        f"WHERE {PUBLISHED} AND date_precision != 'year' GROUP BY 1"
    )
    dated = "occurred_on BETWEEN '2019-01-01' AND '2020-12-31' AND "
    by_country_dated = by_country.replace("WHERE ", "WHERE " + dated)
    by_month_se = by_month.replace("WHERE ", "WHERE country = 'SE' AND ")
    grid = (  # Datasette's side: the same cells from the rows (it has no rollup); no centres
        "SELECT CAST((longitude + 180) / 0.5 AS INTEGER) AS x, CAST((latitude + 90) / 0.5 AS INTEGER) AS y, "
        "count(*), sum(weapons_total) FROM incidents_incident "
        f"WHERE {PUBLISHED} AND {in_box.format(-25, 45, 34, 72)} "
        "AND latitude BETWEEN 34 AND 72 AND longitude BETWEEN -25 AND 45 GROUP BY 1, 2"
    )
    return [
        Query(
            "filtered list (country + dates)",
            "/api/v1/incidents/?country=SE&occurred_after=2019-01-01&occurred_before=2020-12-31&ordering=-id",
            f"{table}&country=SE&occurred_on__gte=2019-01-01&occurred_on__lte=2020-12-31",
            page.format(filtered),
            count.format(filtered),
        ),
        Query(
            "bbox list",
            "/api/v1/incidents/?bbox=10,55,20,60&ordering=-id",
            f"{table}&latitude__gte=55&latitude__lte=60&longitude__gte=10&longitude__lte=20"
            f"&_where={urllib.request.quote(box_filter)}",
            page.format(bbox),
            count.format(bbox),
        ),
        Query(
            "radius list (50 km)",
            "/api/v1/incidents/?lat=59.33&lon=18.07&radius_km=50&ordering=-id",
            sql_url + urllib.request.quote(page.format(radius)),  # Datasette's SQL view: the page, no count
            page.format(radius),
            count.format(radius),
        ),
        Query(
            "q search",
            "/api/v1/incidents/?q=malmo&ordering=-id",
            f"{table}&_where={urllib.request.quote(found)}",
            page.format(search),
            count.format(search),
        ),
        Query(
            "stats by country",
            "/api/v1/stats/?group_by=country",
            sql_url + urllib.request.quote(by_country),
            by_country,
        ),
        Query("stats by month", "/api/v1/stats/?group_by=month", sql_url + urllib.request.quote(by_month), by_month),
        Query(
            "stats by country, 2019–2020",
            "/api/v1/stats/?group_by=country&occurred_after=2019-01-01&occurred_before=2020-12-31",
            sql_url + urllib.request.quote(by_country_dated),
            by_country_dated,
        ),
        Query(
            "stats by month, SE",
            "/api/v1/stats/?group_by=month&country=SE",
            sql_url + urllib.request.quote(by_month_se),
            by_month_se,
        ),
        Query(
            "grid over Europe (cell 0.5)",
            "/api/v1/stats/?group_by=grid&cell=0.5&bbox=-25,34,45,72",
            sql_url + urllib.request.quote(grid),
            grid,
        ),
        Query(
            "filtered list, fields=id,title",
            "/api/v1/incidents/?country=SE&occurred_after=2019-01-01&occurred_before=2020-12-31&ordering=-id"
            "&fields=id,title",
            f"{table}&country=SE&occurred_on__gte=2019-01-01&occurred_on__lte=2020-12-31&_col=title",
            page.format(filtered).replace("SELECT *", "SELECT id, title"),
            count.format(filtered),
        ),
        Query(
            "detail by id",
            f"/api/v1/incidents/{detail_id}/",
            f"/bench/incidents_incident/{detail_id}.json?_shape=objects",
            f"SELECT * FROM incidents_incident WHERE id = {detail_id}",
        ),
        Query("framework floor", "/healthz", "/-/versions.json", "SELECT 1"),
    ]


def schema() -> str:
    """A digest of the migrations: a database built before a schema change is rebuilt, not reused."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "incidents" / "migrations").glob("[0-9][0-9][0-9][0-9]_*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def build(size: int) -> Path:
    path = DATA / f"incidents-{size}-schema{schema()}.sqlite3"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    for leftover in DATA.glob(partial.name + "*"):
        leftover.unlink()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{partial}", "SECRET_KEY": "bench-only"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [sys.executable, "manage.py", "generate_synthetic", "--count", str(size)], cwd=ROOT, env=env, check=True
    )
    db = sqlite3.connect(partial)
    db.execute("ANALYZE")
    db.execute("PRAGMA journal_mode=DELETE")  # one self-contained file (the tracker turns WAL on again)
    db.close()
    partial.rename(path)
    return path


def wait_for(url: str) -> None:
    for _ in range(300):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def serve_tracker(database, work: Path, workers: int = 3, **settings: str) -> subprocess.Popen:
    """Serve `database` (a SQLite file, or a PostgreSQL URL) as deployed; `settings` add environment variables."""
    env = {
        **os.environ,
        "DATABASE_URL": database if isinstance(database, str) else f"sqlite:///{database}",
        "CACHE_URL": f"disk://{work}/cache",
        "SECRET_KEY": "bench-only",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        # As deployed: the throttles count every request in the shared cache (their bookkeeping is part of
        # what is measured); only their rate is set above what wrk sends, so that answers, not 429s, are timed.
        "ANON_THROTTLE_RATE": "10000000/minute",
        "USER_THROTTLE_RATE": "10000000/minute",
        "LOG_LEVEL": "ERROR",
        **settings,
    }
    command = [str(BIN / "gunicorn"), "tracker.wsgi", "--bind", f"127.0.0.1:{TRACKER_PORT}", "--workers", str(workers)]
    server = subprocess.Popen([*command, "--log-level", "error"], cwd=ROOT, env=env)
    wait_for(f"http://127.0.0.1:{TRACKER_PORT}/healthz")
    return server


def serve_datasette(database: Path, work: Path) -> subprocess.Popen:
    copy = work / "bench.sqlite3"  # Datasette names the database after the file
    shutil.copyfile(database, copy)
    command = [str(BIN / "datasette"), "serve", "-i", str(copy), "--port", str(DATASETTE_PORT)]
    command += ["--setting", "suggest_facets", "off", "--setting", "default_facet_size", "0"]
    command += ["--setting", "sql_time_limit_ms", "60000"]  # its default (1 s) stops a grid over Europe at 1M
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(f"http://127.0.0.1:{DATASETTE_PORT}/-/versions.json")
    return server


def load(url: str, connections: int, duration: int) -> dict:
    threads = min(connections, 2)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "-s", str(LUA), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def first_answer(url: str) -> tuple[list[int], float]:
    """The ids a URL answers, and how long its first (cold, uncached) request took in ms."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"{url} answered {error.code}: {error.read()[:300]!r}") from None
    cold_ms = (time.perf_counter() - started) * 1000
    rows = body.get("results") if isinstance(body, dict) else None
    if rows is None and isinstance(body, dict):
        rows = body.get("rows", [body] if "id" in body else [])
    return [row["id"] for row in rows or [] if "id" in row], cold_ms


def raw_sql_ms(database: Path, query: Query, repeat: int = 20) -> float:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            db.execute(query.sql).fetchall()
            if query.count_sql:
                db.execute(query.count_sql).fetchall()
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def measure(size: int, duration: int) -> list[dict]:
    database = build(size)
    with sqlite3.connect(database) as db:
        detail_id = db.execute(f"SELECT max(id) FROM incidents_incident WHERE {PUBLISHED}").fetchone()[0]
    plan = queries(detail_id)
    results = {query.name: {"query": query.name} for query in plan}
    for query in plan:
        results[query.name]["raw_ms"] = raw_sql_ms(database, query)
    for side, serve, port in (("tracker", serve_tracker, TRACKER_PORT), ("datasette", serve_datasette, DATASETTE_PORT)):
        work = Path(tempfile.mkdtemp(prefix=f"bench-{side}-"))
        server = serve(database, work)
        try:
            for query in plan:
                url = f"http://127.0.0.1:{port}{getattr(query, side)}"
                results[query.name][f"{side}_ids"], results[query.name][f"{side}_cold_ms"] = first_answer(url)
                load(url, 1, 1)  # warm up
                results[query.name][f"{side}_c1"] = load(url, 1, duration)
                results[query.name][f"{side}_c4"] = load(url, 4, duration)
        finally:
            server.terminate()
            server.wait(timeout=30)
            shutil.rmtree(work, ignore_errors=True)
    return list(results.values())


# --- PostgreSQL ---------------------------------------------------------------------------------------


def build_postgresql(server: str, size: int) -> str:
    """A PostgreSQL database of `size` synthetic incidents on `server` (built once per schema)."""
    import psycopg

    name = f"tracker_bench_{size}_{schema()}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists is None:
            admin.execute(f"CREATE DATABASE {name}")
    url = f"{server}/{name}"
    if exists is None:
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-only"}
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        command = [sys.executable, "manage.py", "generate_synthetic", "--count", str(size)]
        subprocess.run(command, cwd=ROOT, env=env, check=True)
        with psycopg.connect(url, autocommit=True) as db:
            db.execute("VACUUM ANALYZE")  # statistics, and the visibility map index-only scans need
    return url


def raw_sql_ms_postgresql(url: str, query: Query, repeat: int = 20) -> float | None:
    """The page and count SQL in-process with psycopg; None where the SQL is SQLite's own (FTS, strftime)."""
    import psycopg

    if "MATCH" in query.sql or "strftime" in query.sql:
        return None
    statements = [_with_gist(sql) for sql in (query.sql, query.count_sql) if sql]
    with psycopg.connect(url) as db:
        timings = []
        for _ in range(repeat):
            started = time.perf_counter()
            for statement in statements:
                db.execute(statement).fetchall()
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def _with_gist(sql: str) -> str:
    """SQLite's R*Tree prefilter as PostgreSQL's GiST one (the tracker's own expression, migration 0013)."""
    return re.sub(
        r"id IN \(SELECT id FROM incident_location WHERE max_lon >= (.+?) AND min_lon <= (.+?) "
        r"AND max_lat >= (.+?) AND min_lat <= (.+?)\)",
        r"point(longitude::double precision, latitude::double precision) <@ box(point(\1, \3), point(\2, \4))",
        sql,
    )


def measure_postgresql(server: str, size: int, duration: int, **settings: str) -> list[dict]:
    """The queries on PostgreSQL; `settings` configure the served tracker (e.g. its replicas)."""
    import psycopg

    url = build_postgresql(server, size)
    with psycopg.connect(url) as db:
        detail_id = db.execute(f"SELECT max(id) FROM incidents_incident WHERE {PUBLISHED}").fetchone()[0]
    plan = [query for query in queries(detail_id) if not query.name.startswith("stats")]
    work = Path(tempfile.mkdtemp(prefix="bench-postgresql-"))
    server_process = serve_tracker(url, work, workers=os.cpu_count() or 2, **settings)
    results = []
    try:
        for query in plan:
            address = f"http://127.0.0.1:{TRACKER_PORT}{query.tracker}"
            _, cold_ms = first_answer(address)
            load(address, 1, 1)
            results.append(
                {
                    "query": query.name,
                    "raw_ms": raw_sql_ms_postgresql(url, query),
                    "cold_ms": cold_ms,
                    "c1": load(address, 1, duration),
                    "c4": load(address, 4, duration),
                }
            )
    finally:
        server_process.terminate()
        server_process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    return results


def table_postgresql(size: int, rows: list[dict]) -> str:
    floor = next(row for row in rows if row["query"] == "framework floor")["c1"]["p50_ms"]
    lines = [
        f"### PostgreSQL, {size:,} incidents",
        "",
        "The tracker on PostgreSQL 15 (gunicorn, one worker per core, throttles and cache as deployed); "
        "Datasette serves SQLite only, so this table has no Datasette column. Raw SQL: the same page and count "
        "queries with psycopg (— where the SQL is SQLite's own: FTS5, strftime).",
        "",
        "| query | req/s (c=4) | p50 / p95 ms (c=1) | raw SQL ms | p50 − floor − SQL | first / max ms |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        latency, throughput = row["c1"], row["c4"]
        raw = row["raw_ms"]
        overhead = f"{latency['p50_ms'] - floor - raw:.1f}" if raw is not None else "—"
        raw_text = f"{raw:.2f}" if raw is not None else "—"
        errors = latency["errors"] + throughput["errors"]
        lines.append(
            f"| {row['query']} | {throughput['rps']:.0f}{f' (errors: {errors})' if errors else ''} "
            f"| {latency['p50_ms']:.1f} / {latency['p95_ms']:.1f} | {raw_text} | {overhead} "
            f"| {row['cold_ms']:.0f} / {max(latency['max_ms'], throughput['max_ms']):.0f} |"
        )
    return "\n".join(lines)


def writes(database: Path, count: int = 200) -> dict:
    """A single-incident create through the API as deployed (gunicorn, throttles and cache on), `count` times
    one after the other, on a copy of the database: p50 and p95 in ms. Each create has a place (geocoded by
    the offline gazetteer), two weapons, a new source and a tag, and stores its record."""
    work = Path(tempfile.mkdtemp(prefix="bench-writes-"))
    copy = work / "db.sqlite3"
    shutil.copyfile(database, copy)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{copy}", "SECRET_KEY": "bench-only"}
    made = subprocess.run(
        [sys.executable, "manage.py", "create_api_user", "bench-writer", "--role", "editor"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    token = made.stdout.strip().splitlines()[-1]
    server = serve_tracker(copy, work)
    timings = []
    try:
        for number in range(count):
            body = {
                "title": f"Synthetic write {number}",
                "incident_type": "seizure",
                "occurred_on": "2023-05-01",
                "country": "SE",
                "place": "Malmö",
                "status": "published",
                "verification": "reported",
                "weapons": [{"category": "pistol", "quantity": 2}, {"category": "grenade", "quantity": 3}],
                "sources": [{"url": f"https://synthetic.example.org/write/{number}", "publisher": "Synthetic"}],
                "tags": ["synthetic"],
            }
            request = urllib.request.Request(
                f"http://127.0.0.1:{TRACKER_PORT}/api/v1/incidents/",
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
                method="POST",
            )
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
            timings.append((time.perf_counter() - started) * 1000)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    timings.sort()
    return {"p50_ms": statistics.median(timings), "p95_ms": timings[int(len(timings) * 0.95)]}


def csv_export(database: Path) -> dict:
    """`export_incidents --format csv` of every incident: its time and its peak resident memory."""
    output = Path(tempfile.mkdtemp(prefix="bench-export-")) / "incidents.csv"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "bench-only"}
    command = [sys.executable, "manage.py", "export_incidents", "--format", "csv", "--output", str(output)]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise RuntimeError("export_incidents failed")
    megabytes = output.stat().st_size / 2**20
    shutil.rmtree(output.parent)
    return {"seconds": seconds, "peak_rss_mb": usage.ru_maxrss / 1024, "file_mb": megabytes}


def uncached_stats(database: Path) -> str:
    """bench/stats.py's table: each `stats/` aggregate computed without the cache (median of 3)."""
    command = [sys.executable, str(ROOT / "bench" / "stats.py"), str(database)]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def table(size: int, rows: list[dict], export: dict, written: dict | None = None) -> str:
    floor = next(row for row in rows if row["query"] == "framework floor")["tracker_c1"]["p50_ms"]
    lines = [
        f"### {size:,} incidents",
        "",
        "| query | tracker req/s (c=4) | Datasette req/s (c=4) | tracker / Datasette | tracker p50 / p95 ms (c=1) "
        "| Datasette p50 / p95 ms (c=1) | raw SQL ms | tracker p50 − floor − SQL | tracker first / max ms "
        "| same ids |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        tracker, datasette = row["tracker_c4"], row["datasette_c4"]
        latency, other = row["tracker_c1"], row["datasette_c1"]
        overhead = latency["p50_ms"] - floor - row["raw_ms"]
        if row["query"].startswith(("stats", "framework")):
            same = "—"
        else:
            same = "yes" if row["tracker_ids"] == row["datasette_ids"] else "NO"
        errors = tracker["errors"] + datasette["errors"] + latency["errors"] + other["errors"]
        if errors:
            same += f" (errors: {errors})"
        # Datasette may answer no request at all within the run (a query slower than its duration)
        ratio = f"{tracker['rps'] / datasette['rps']:.2f}×" if datasette["rps"] else "∞ (Datasette: none in the run)"
        lines.append(
            f"| {row['query']} | {tracker['rps']:.0f} | {datasette['rps']:.0f} | {ratio} "
            f"| {latency['p50_ms']:.1f} / {latency['p95_ms']:.1f} | {other['p50_ms']:.1f} / {other['p95_ms']:.1f} "
            f"| {row['raw_ms']:.2f} | {overhead:.1f} "
            f"| {row['tracker_cold_ms']:.0f} / {max(latency['max_ms'], tracker['max_ms']):.0f} | {same} |"
        )
    lines += [
        "",
        f"CSV export of all {size:,} incidents as an editor (`export_incidents --format csv`): "
        f"{export['seconds']:.1f} s, {size / export['seconds']:,.0f} rows/s, {export['file_mb']:.0f} MB written, "
        f"peak RSS {export['peak_rss_mb']:.0f} MB.",
    ]
    if written:
        lines.append(
            f"A single-incident create through the API (a place, two weapons, a new source, a tag; its record "
            f"stored in the same transaction), 200 one after the other: p50 {written['p50_ms']:.1f} ms, "
            f"p95 {written['p95_ms']:.1f} ms."
        )
    return "\n".join(lines)


def versions() -> str:
    def version(command: list[str]) -> str:
        try:
            return subprocess.run(command, capture_output=True, text=True).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"

    import django
    import rest_framework

    return (
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, Django {django.get_version()}, "
        f"DRF {rest_framework.VERSION}, {version([str(BIN / 'gunicorn'), '--version'])}, "
        f"{version([str(BIN / 'datasette'), '--version'])}, {version(['wrk', '--version'])}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000" + (",1000000" if os.environ.get("BENCH_1M") else ""))
    parser.add_argument("--duration", type=int, default=5, help="seconds of load per query and concurrency")
    parser.add_argument(
        "--postgresql",
        default=os.environ.get("BENCH_POSTGRESQL", ""),
        help="a PostgreSQL server URL without a database name (postgres://user@host:port); adds its rows",
    )
    parser.add_argument("--postgresql-sizes", default="100000")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    sections = []
    for size in (int(part) for part in args.sizes.split(",")):
        rows = measure(size, args.duration)
        database = build(size)
        sections.append(table(size, rows, csv_export(database), writes(database)))
        sections.append(
            f"`stats/` computed without its cache at {size:,} incidents (the first request after a write; "
            f"published incidents, median of 3; bench/stats.py):\n\n{uncached_stats(database)}"
        )
        print("\n\n".join(sections[-2:]), flush=True)  # the table and the uncached stats of this size
    if args.postgresql:
        for size in (int(part) for part in args.postgresql_sizes.split(",")):
            sections.append(table_postgresql(size, measure_postgresql(args.postgresql, size, args.duration)))
            print(sections[-1], flush=True)
    cores = os.cpu_count()
    header = (
        "# Benchmark results\n\n"
        f"One run of `make bench` on {datetime.date.today().isoformat()}: {platform.machine()}, {cores} cores, "
        f"{platform.system()} {platform.release()}.\n{versions()}.\n\n"
        "The same SQLite file of synthetic incidents served by the tracker (gunicorn, 3 sync workers, "
        "DEBUG off) and by Datasette (`-i` immutable, facet suggestions off), one after the other, driven by "
        f"wrk over loopback for {args.duration} s per query at 1 and 4 connections. The tracker answers full "
        "records (weapons, sources, actors, tags, exact count); Datasette answers flat rows. Raw SQL: the "
        "tracker's page and count queries run in-process with Python's sqlite3 (median of 20). The floor is "
        "the tracker's `/healthz` (Django, one `SELECT 1`); Datasette's is `/-/versions.json`.\n\n"
    )
    results = ROOT / "bench" / "RESULTS.md"
    kept = _marked_sections(results.read_text()) if results.exists() else []
    results.write_text(header + "\n\n".join(sections + kept) + "\n")


def write_marked_section(name: str, section: str) -> None:
    """Put `section` between the markers `<!-- name: start/end -->` of RESULTS.md (replacing what was there);
    `make bench` keeps such sections when it rewrites the file."""
    results = ROOT / "bench" / "RESULTS.md"
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    start, end = f"<!-- {name}: start -->", f"<!-- {name}: end -->"
    block = f"{start}\n{section}\n{end}"
    if start in text:
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, text, flags=re.DOTALL)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    results.write_text(text)


def _marked_sections(text: str) -> list[str]:
    """The sections other scripts keep in RESULTS.md between their own markers (worst cases, profiles)."""
    pattern = r"<!-- ([\w-]+): start -->.*?<!-- \1: end -->"
    return [match.group(0) for match in re.finditer(pattern, text, flags=re.DOTALL)]


if __name__ == "__main__":
    main()
