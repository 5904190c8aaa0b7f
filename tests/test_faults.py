"""Real processes on a real file database: concurrent writers, an import killed halfway, backups."""

import json
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests import live

WRITERS = 8
WRITES_EACH = 6


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    work = tmp_path_factory.mktemp("writers")
    env = live.environment(work, ANON_THROTTLE_RATE="100000/minute", USER_THROTTLE_RATE="100000/minute")
    live.manage(env, "migrate", "-v0", timeout=300)
    token = live.manage(env, "create_api_user", "writer", "--role", "editor").stdout.strip().splitlines()[-1]
    with live.gunicorn(env, workers=3) as base:
        yield base, token, work / "db.sqlite3"


def write_incidents(base: str, token: str, writer: int) -> list[tuple[int, object]]:
    answers = []
    for number in range(WRITES_EACH):
        record = {
            "title": f"Writer {writer} incident {number}",
            "incident_type": "seizure",
            "occurred_on": "2022-10-30",
            "country": "SE",
            "status": "published",
            "weapons": [{"category": "rifle", "quantity": number}],
            "sources": [{"url": f"https://example.org/w{writer}/{number}", "publisher": "Concurrency Daily"}],
            "tags": ["concurrent", f"writer-{writer}"],
        }
        status, _, body = live.call("POST", f"{base}/api/v1/incidents/", record, Authorization=f"Token {token}")
        answers.append((status, body))
    return answers


def test_concurrent_writers_on_sqlite_all_land_once(served):
    base, token, database = served
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        results = list(pool.map(lambda writer: write_incidents(base, token, writer), range(WRITERS)))
    answers = [answer for result in results for answer in result]
    assert [status for status, _ in answers] == [201] * (WRITERS * WRITES_EACH), answers
    with sqlite3.connect(database) as db:
        titles = [row[0] for row in db.execute("SELECT title FROM incidents_incident")]
        assert sorted(titles) == sorted(f"Writer {w} incident {n}" for w in range(WRITERS) for n in range(WRITES_EACH))
        assert db.execute("SELECT count(*) FROM incidents_source").fetchone()[0] == WRITERS * WRITES_EACH
        assert db.execute("SELECT count(*) FROM incidents_tag").fetchone()[0] == 1 + WRITERS
        assert db.execute("SELECT count(*) FROM incidents_historicalincident").fetchone()[0] == len(titles)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# --- Concurrent first citations of the same new URLs ------------------------------------------------

RACERS, RACES_EACH = 8, 10
RACED_URLS = [f"https://news.example.org/raced/{number}" for number in range(3)]


def cite_the_raced_urls(base: str, token: str, racer: int) -> list[tuple[int, object]]:
    answers = []
    for number in range(RACES_EACH):
        record = {
            "title": f"Racer {racer} incident {number}",
            "incident_type": "seizure",
            "occurred_on": "2023-01-05",
            "country": "DK",
            "status": "published",
            "sources": [{"url": url, "publisher": "Raced News"} for url in RACED_URLS],
        }
        status, _, body = live.call("POST", f"{base}/api/v1/incidents/", record, Authorization=f"Token {token}")
        answers.append((status, body))
    return answers


@pytest.mark.parametrize("kind", live.BACKENDS)
def test_concurrent_first_citations_of_one_url_share_one_source(tmp_path, kind):
    """API.md: the same article cited by two incidents is one source, also when both write at once."""
    with live.fresh_database(kind, tmp_path / "raced") as (env, query, _):
        env = {**env, "ANON_THROTTLE_RATE": "off", "USER_THROTTLE_RATE": "off"}
        token = live.manage(env, "create_api_user", "racer", "--role", "editor").stdout.splitlines()[-1]
        with live.gunicorn(env, workers=4) as base, ThreadPoolExecutor(max_workers=RACERS) as pool:
            results = list(pool.map(lambda racer: cite_the_raced_urls(base, token, racer), range(RACERS)))
        answers = [answer for result in results for answer in result]
        assert [status for status, _ in answers] == [201] * (RACERS * RACES_EACH), answers
        assert sorted(row[0] for row in query("SELECT url FROM incidents_source")) == RACED_URLS
        assert query("SELECT count(*) FROM incidents_citation")[0][0] == RACERS * RACES_EACH * len(RACED_URLS)


# --- An import killed halfway ---------------------------------------------------------------------


def import_file(path, count: int) -> None:
    rows = [
        {
            "uid": str(uuid.UUID(int=number + 1)),
            "title": f"Imported {number}",
            "incident_type": "recovery",
            "occurred_on": "2021-03-01",
            "country": "NL",
            "status": "published",
            "weapons": [{"category": "grenade", "quantity": 1}],
            "sources": [{"url": f"https://example.org/import/{number % 500}", "publisher": "Import Weekly"}],
            "tags": ["imported"],
        }
        for number in range(count)
    ]
    path.write_text(json.dumps(rows))


def snapshot(env) -> dict:
    records = json.loads(live.manage(env, "export_incidents", "--format", "json").stdout)
    return {
        record["uid"]: {key: value for key, value in record.items() if key not in ("id", "created_at", "updated_at")}
        | {"sources": [{k: v for k, v in s.items() if k != "id"} for s in record["sources"]]}
        for record in records
    }


@pytest.mark.parametrize("kind", live.BACKENDS)
def test_an_import_killed_halfway_leaves_a_sound_database_and_a_rerun_converges(tmp_path, kind):
    rows = tmp_path / "rows.json"
    import_file(rows, 6000)
    with live.fresh_database(kind, tmp_path / "killed") as (env, query, sound):
        importing = subprocess.Popen(
            [sys.executable, "manage.py", "import_incidents", str(rows)],
            cwd=live.ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        landed = 0
        while not landed and importing.poll() is None:  # kill it as soon as one batch has committed
            time.sleep(0.05)
            landed = query("SELECT count(*) FROM incidents_incident")[0][0]
        importing.send_signal(signal.SIGKILL)
        importing.wait()

        count = query("SELECT count(*) FROM incidents_incident")[0][0]
        assert 0 < count < 6000
        assert count % 1000 == 0  # whole batches only
        assert sound()

        rerun = live.manage(env, "import_incidents", str(rows), timeout=600)
        assert f"{6000 - count} created, 0 updated, {count} unchanged, 0 rejected" in rerun.stdout
        recovered = snapshot(env)
    with live.fresh_database("sqlite", tmp_path / "clean") as (env, _, _):
        live.manage(env, "import_incidents", str(rows), timeout=600)
        assert recovered == snapshot(env)
