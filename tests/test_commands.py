"""Management commands: create_api_user and the fixture loader."""

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from django.urls import reverse
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from incidents.management.commands import load_sourced_fixtures
from incidents.models import Incident
from incidents.selectors import is_editor
from tests.factories import make_incident

pytestmark = pytest.mark.django_db


def run(*args) -> list[str]:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip().splitlines()


def test_create_api_user_reader_prints_its_token_on_the_last_line():
    lines = run("create_api_user", "alice")
    user = get_user_model().objects.get(username="alice")
    assert lines[-1] == Token.objects.get(user=user).key
    assert not is_editor(user)
    assert not user.is_staff
    assert not user.has_usable_password()


def test_create_api_user_editor_can_use_the_admin_and_the_token():
    lines = run("create_api_user", "bob", "--role", "editor", "--password", "a-long-admin-password")
    user = get_user_model().objects.get(username="bob")
    assert is_editor(user)
    assert user.is_staff and user.check_password("a-long-admin-password")
    assert user.has_perm("incidents.change_incident")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {lines[-1]}")
    draft = make_incident()
    assert client.get(reverse("incident-detail", args=[draft.pk])).status_code == status.HTTP_200_OK
    # The admin's login passes its request, which django-axes (the login throttle) needs to count by client.
    assert APIClient().login(request=HttpRequest(), username="bob", password="a-long-admin-password")


def test_create_api_user_editor_without_password_gets_a_random_one_printed_before_the_token():
    lines = run("create_api_user", "carol", "--role", "editor")
    user = get_user_model().objects.get(username="carol")
    password = lines[0].rsplit(": ", 1)[1]
    assert user.check_password(password)
    assert lines[-1] == Token.objects.get(user=user).key


def test_create_api_user_again_changes_the_role_and_keeps_the_token():
    first = run("create_api_user", "dave", "--role", "editor")[-1]
    second = run("create_api_user", "dave", "--role", "reader")[-1]
    user = get_user_model().objects.get(username="dave")
    assert first == second
    assert not is_editor(user) and not user.is_staff


def test_create_api_user_rejects_an_unknown_role():
    with pytest.raises(CommandError, match="invalid choice: 'admin'"):
        call_command("create_api_user", "eve", "--role", "admin", stderr=io.StringIO())
    assert not get_user_model().objects.filter(username="eve").exists()


def write_fixture(directory, title: str) -> None:
    record = {
        "model": "incidents.incident",
        "pk": 1,
        "fields": {
            "uid": "6f1c1f8e-8f5a-4d8e-9a57-0e6cbe0c0001",
            "title": title,
            "incident_type": "claim",
            "occurred_on": "2022-10-30",
            "country": "FI",
            "status": "draft",
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        },
    }
    (directory / "incidents.json").write_text(json.dumps([record]))


@pytest.mark.no_records_audit  # an editor's edit, written around the services to stand for one
def test_fixture_loader_loads_into_an_empty_database_only(tmp_path, monkeypatch):
    monkeypatch.setattr(load_sourced_fixtures, "FIXTURES_DIR", tmp_path)
    write_fixture(tmp_path, "From the fixture")
    run("load_sourced_fixtures")
    assert list(Incident.objects.values_list("title", flat=True)) == ["From the fixture"]

    Incident.objects.update(title="Edited by an editor")
    write_fixture(tmp_path, "From the fixture, again")
    assert run("load_sourced_fixtures") == ["Data already present: fixtures not loaded, nothing overwritten."]
    assert list(Incident.objects.values_list("title", flat=True)) == ["Edited by an editor"]


def test_audit_data_finds_a_source_missing_from_the_research_notes(tmp_path):
    from tests.factories import make_source

    noted = make_source(url="https://news.example.org/noted")
    research = tmp_path / "notes.md"
    research.write_text(f"| 1 | a record | {noted.url} |\n")
    assert run("audit_data", "--research-file", str(research)) == ["0 findings."]
    unnoted = make_source(url="https://news.example.org/not-in-the-notes")
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 finding"):
        call_command("audit_data", "--research-file", str(research), stdout=out)
    assert out.getvalue().strip() == f"source {unnoted.pk}: URL not in notes.md: {unnoted.url}"


def test_progress_off_a_terminal_is_a_plain_line_with_count_rate_and_time():
    from incidents.progress import Progress

    stream = io.StringIO()  # not a terminal, like a log file or cron's mail
    with Progress(3, "import", "row", stream=stream, every=0) as progress:
        progress.update(2)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in stream.getvalue()
    assert lines[0].startswith("import: 2/3 rows (67%), ") and lines[0].endswith(" s elapsed")
    assert lines[1].startswith("import: 2/3 rows (67%), ")
    assert " rows/s, " in lines[1]


def test_the_import_command_reports_progress_when_its_output_is_not_a_terminal(tmp_path):
    import subprocess
    import sys

    from tests import live

    work = tmp_path / "work"
    work.mkdir()
    env = live.environment(work)
    live.manage(env, "migrate", "-v0", timeout=300)
    rows = [
        {"title": f"Row {n}", "incident_type": "seizure", "occurred_on": "2022-10-30", "country": "FI"}
        for n in range(3)
    ]
    (tmp_path / "rows.json").write_text(json.dumps(rows))
    done = subprocess.run(
        [sys.executable, "manage.py", "import_incidents", str(tmp_path / "rows.json")],
        cwd=live.ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "import: 3/3 rows (100%)" in done.stderr


def test_commands_need_no_secret_in_the_environment_but_a_served_deployment_does(tmp_path):
    import os
    import subprocess
    import sys

    from tests import live

    env = {key: value for key, value in live.environment(tmp_path).items() if key not in ("SECRET_KEY", "DEBUG")}
    env.pop("TRACKER_COMMAND_LINE", None)
    checked = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=live.ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert checked.returncode == 0, checked.stderr
    assert (live.ROOT / ".secret_key").stat().st_mode & 0o077 == 0  # readable by its owner only
    served = subprocess.run(
        [sys.executable, "-c", "import tracker.wsgi"],
        cwd=live.ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "tracker.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert served.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in served.stderr
    assert os.environ.get("TRACKER_COMMAND_LINE") in (None, "1")
