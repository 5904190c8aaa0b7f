"""`make backup` and `make restore` round-trip the whole database: records, history, users."""

import json
import subprocess
import uuid

import pytest

from tests import live


def rows_file(path, count: int, start: int):
    path.write_text(
        json.dumps(
            [
                {
                    "uid": str(uuid.UUID(int=start + number)),
                    "title": f"Backed up {start + number}",
                    "incident_type": "theft",
                    "occurred_on": "2020-02-02",
                    "country": "FI",
                    "status": "published",
                    "weapons": [{"category": "pistol", "quantity": 2}],
                    "sources": [{"url": f"https://example.org/backup/{start + number}", "publisher": "Archive"}],
                    "actors": [{"name": "Someone", "kind": "individual"}],
                    "tags": ["backup"],
                }
                for number in range(count)
            ]
        )
    )
    return path


def state(env, query) -> dict:
    tables = ("incidents_incident", "incidents_historicalincident", "incidents_historicalweaponitem", "auth_user")
    return {
        "records": json.loads(live.manage(env, "export_incidents", "--format", "json").stdout),
        "rows": {table: query(f"SELECT count(*) FROM {table}")[0][0] for table in tables},
    }


def make(env, *targets: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", *targets], cwd=live.ROOT, env=env, check=True, capture_output=True, text=True)


@pytest.mark.parametrize("kind", live.BACKENDS)
def test_make_backup_then_make_restore_brings_back_the_whole_database(tmp_path, kind):
    with live.fresh_database(kind, tmp_path / "db") as (env, query, _):
        live.manage(env, "import_incidents", str(rows_file(tmp_path / "a.json", 120, 1)), timeout=300)
        live.manage(env, "create_api_user", "kept-editor", "--role", "editor")
        before = state(env, query)
        backup = tmp_path / "backups" / "tracker.backup"

        make(env, "backup", f"BACKUP={backup}")
        assert backup.stat().st_size > 0
        live.manage(env, "import_incidents", str(rows_file(tmp_path / "b.json", 30, 1000)), timeout=300)
        live.manage(env, "create_api_user", "later-user")
        assert state(env, query) != before

        make(env, "restore", f"BACKUP={backup}")
        assert state(env, query) == before


def test_make_restore_needs_a_backup_named(tmp_path):
    result = subprocess.run(["make", "restore"], cwd=live.ROOT, capture_output=True, text=True)
    assert result.returncode != 0
    assert "usage: make restore BACKUP=file" in result.stderr
