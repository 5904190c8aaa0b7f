"""export_incidents and import_incidents, and POST incidents/import/: round trips, idempotence, bad rows."""

import csv
import datetime
import io
import json
import uuid
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone

from incidents import geocoding
from incidents.changesets import current_data_version
from incidents.importing import import_records, read_records
from incidents.models import (
    Actor,
    Citation,
    Incident,
    IncidentActor,
    IncidentTag,
    Source,
    Tag,
    WeaponItem,
    WeaponSerial,
)
from tests.factories import cite, make_actor, make_incident, make_source

pytestmark = pytest.mark.django_db
IMPORT_URL = "/api/v1/incidents/import/"
HISTORY_MODELS = (Incident, WeaponItem, Citation, Source, Actor, IncidentActor, IncidentTag)


def build_varied_data():
    """Incidents that exercise every part of a record: statuses, precisions, provenance, nulls, formulas."""
    graded = make_source(
        url="https://yle.fi/a/graded",
        title="Poliisi: aseita löytyi",
        publisher="Yle",
        reliability="B",
        archived_url="https://web.archive.org/web/2022/https://yle.fi/a/graded",
        archived_at=datetime.datetime(2022, 11, 2, 8, 30, 15, 123456, tzinfo=datetime.UTC),
    )
    bare = make_source(url="https://example.org/bare", title="", publisher="=HYPERLINK(evil)", published_on=None)
    gang = make_actor(name="Bandidos MC", kind="motorcycle_gang")
    person = make_actor(name="Matti Meikäläinen", kind="individual")
    first = make_incident(
        published=True,
        title="=SUM(1+1) anti-tank weapons in a shed",
        summary="-5 rifles, said police.\nSecond line, with a comma.",
        place="Helsinki",
        admin1="Uusimaa",
        citations=[
            cite(graded, excerpt="Löytyi", excerpt_language="fi", credibility=2),
            cite(bare, stance="disputes", credibility=5),
        ],
        weapons=[
            {"category": "anti_tank_weapon", "quantity": 4, "suspected_origin": "US", "description": "AT4"},
            {"category": "ammunition", "quantity": None, "markings": "@lot 7", "serials": ["=AB-1", "ab 2"]},
        ],
        actors=[gang, person],
        tags=["ukraine-aid", "nbi"],
    )
    second = make_incident(
        status="archived",
        country="SE",
        occurred_on=datetime.date(2021, 6, 1),
        date_precision="month",
        latitude=Decimal("59.329323"),
        longitude=Decimal("18.068581"),
        verification="disputed",
        citations=[cite(graded)],
    )
    third = make_incident(country="DK", place="Hellerup", incident_type="claim", date_precision="year")
    return [first, second, third]


def normalised(records: list[dict]) -> dict:
    """Records by uid without what is local to one database (ids, versions, times of writing)."""
    result = {}
    for record in records:
        record = {k: v for k, v in record.items() if k not in ("id", "version", "created_at", "updated_at")}
        record["sources"] = [{k: v for k, v in s.items() if k != "id"} for s in record["sources"]]
        record["actors"] = [{k: v for k, v in a.items() if k != "id"} for a in record["actors"]]
        result[record["uid"]] = record
    return result


def export(tmp_path, export_format: str, *filters: str) -> str:
    path = tmp_path / f"export.{export_format}"
    call_command("export_incidents", "--format", export_format, "--output", str(path), *filters)
    return path.read_text(encoding="utf-8")


def json_export(tmp_path, *filters) -> list[dict]:
    return json.loads(export(tmp_path, "json", *filters))


def empty_the_database():
    Incident.objects.all().delete()
    Source.objects.all().delete()
    Actor.objects.all().delete()
    Tag.objects.all().delete()


def table_counts() -> dict:
    return {model.__name__: model.objects.count() for model in (*HISTORY_MODELS, Tag)}


def history_counts() -> dict:
    return {model.__name__: model.history.count() for model in HISTORY_MODELS}


def run_import(tmp_path, text: str, suffix: str, *args) -> str:
    path = tmp_path / f"import.{suffix}"
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    call_command("import_incidents", str(path), *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.parametrize("export_format", ["json", "csv"])
def test_export_then_import_into_an_empty_database_reproduces_every_record(tmp_path, export_format):
    build_varied_data()
    before = json_export(tmp_path)
    counts = table_counts()
    text = export(tmp_path, export_format)
    empty_the_database()

    output = run_import(tmp_path, text, export_format)

    assert "3 rows: 3 created, 0 updated, 0 unchanged, 0 rejected." in output
    assert normalised(json_export(tmp_path)) == normalised(before)
    assert table_counts() == counts
    # Serials come back as given (a formula-like one unguarded), with their index rows.
    assert WeaponItem.objects.get(category="ammunition").serials == ["=AB-1", "ab 2"]
    assert sorted(WeaponSerial.objects.values_list("normal", flat=True)) == ["AB1", "AB2"]


@pytest.mark.parametrize("export_format", ["json", "csv"])
def test_importing_the_same_file_again_changes_nothing_and_writes_no_history(tmp_path, export_format):
    build_varied_data()
    text = export(tmp_path, export_format)
    empty_the_database()
    run_import(tmp_path, text, export_format)
    versions = dict(Incident.objects.values_list("uid", "version"))
    history, data_version = history_counts(), current_data_version()

    output = run_import(tmp_path, text, export_format)

    assert "3 rows: 0 created, 0 updated, 3 unchanged, 0 rejected." in output
    assert dict(Incident.objects.values_list("uid", "version")) == versions
    assert history_counts() == history
    assert current_data_version() == data_version


def test_csv_export_guards_formulas_and_import_strips_the_guard(tmp_path):
    build_varied_data()
    rows = list(csv.DictReader(io.StringIO(export(tmp_path, "csv", "--country", "FI"))))
    assert rows[0]["title"] == "'=SUM(1+1) anti-tank weapons in a shed"
    assert rows[0]["summary"].startswith("'-5 rifles")
    assert json.loads(rows[0]["sources"])[1]["publisher"] == "=HYPERLINK(evil)"  # JSON text: starts with [
    (_, record), *_ = read_records(export(tmp_path, "csv", "--country", "FI"))
    assert record["title"] == "=SUM(1+1) anti-tank weapons in a shed"


def test_export_applies_the_api_filters_and_shows_the_editors_view(tmp_path):
    build_varied_data()
    records = json_export(tmp_path, "--country", "fi,se")
    assert sorted(r["country"] for r in records) == ["FI", "SE"]  # an archived one too: every status
    finnish = next(r for r in records if r["country"] == "FI")
    assert {"name": "Matti Meikäläinen", "kind": "individual"}.items() <= finnish["actors"][1].items()
    geojson = json.loads(export(tmp_path, "geojson"))
    assert geojson["type"] == "FeatureCollection"
    # Helsinki from the gazetteer, Stockholm typed by hand; Hellerup is unknown to the gazetteer (no point).
    assert [f["geometry"]["coordinates"] for f in geojson["features"]] == [[24.93545, 60.16952], [18.068581, 59.329323]]


def test_export_refuses_a_bad_filter_naming_it(tmp_path):
    with pytest.raises(CommandError, match="--occurred_after"):
        call_command("export_incidents", "--occurred_after", "30.10.2022", "--output", str(tmp_path / "x.json"))


def good_row(**overrides) -> dict:
    row = {
        "uid": str(uuid.uuid4()),
        "title": "Rifles found in a car",
        "incident_type": "seizure",
        "occurred_on": "2022-10-30",
        "country": "SE",
        "status": "published",
        "sources": [{"url": f"https://example.org/{uuid.uuid4()}", "publisher": "Example"}],
    }
    row.update(overrides)
    return row


def test_bad_rows_are_reported_with_row_and_field_and_the_rest_is_imported(tmp_path, editor_user):
    stored = make_source(url="https://example.org/stored", title="Stored title")
    rows = [
        good_row(title="Good one"),
        good_row(country="XX"),
        good_row(occurred_on=(timezone.localdate() + datetime.timedelta(days=3)).isoformat()),
        good_row(sources=[]),
        good_row(weapons=[{"category": "rifle", "quantity": -1}]),
        good_row(colour="red"),
        good_row(uid="not-a-uuid"),
        good_row(sources=[{"url": stored.url, "title": "Another title", "publisher": stored.publisher}]),
        good_row(title="Good two", sources=[{"url": stored.url}], weapons=[{"category": "pistol", "quantity": 2}]),
        good_row(sources=[{"url": "https://example.org/new-but-bad-row", "publisher": "X"}], latitude=95, longitude=0),
    ]
    report = import_records(list(enumerate(rows, start=1)), user=editor_user)

    problems = {(e.row, e.field) for e in report.errors}
    assert problems == {
        (2, "country"),
        (3, "occurred_on"),
        (4, "sources"),
        (5, "weapons[0].quantity"),
        (6, "colour"),
        (7, "uid"),
        (8, "sources[0].title"),
        (10, "latitude"),
    }
    assert (report.created, report.rejected_rows) == (2, 8)
    assert sorted(Incident.objects.values_list("title", flat=True)) == ["Good one", "Good two"]
    assert not Source.objects.filter(url="https://example.org/new-but-bad-row").exists()
    assert Source.objects.get(pk=stored.pk).title == "Stored title"


def test_a_uid_twice_in_one_file_is_reported_on_the_second_row():
    row = good_row()
    report = import_records([(1, row), (2, {**row, "title": "Changed"})], user=None)
    assert [(e.row, e.field) for e in report.errors] == [(2, "uid")]
    assert "row 1" in report.errors[0].message
    assert Incident.objects.get().title == "Rifles found in a car"


def test_a_csv_with_unknown_columns_or_bad_json_cells_is_reported(tmp_path):
    with pytest.raises(CommandError, match="Unknown columns: colour"):
        run_import(tmp_path, "title,colour\nx,red\n", "csv")
    text = "uid,title,incident_type,occurred_on,country,status,weapons\n,x,seizure,2022-01-01,FI,draft,[{oops\n"
    (_, record), *_ = read_records(text)
    report = import_records([(2, record)], user=None)
    assert [(e.row, e.field) for e in report.errors] == [(2, "weapons")]


def test_dry_run_reports_and_writes_nothing(tmp_path):
    text = json.dumps([good_row(), good_row(country="XX")])
    counts, data_version = table_counts(), current_data_version()
    output = run_import(tmp_path, text, "json", "--dry-run")
    assert "would have 2 rows: 1 created, 0 updated, 0 unchanged, 1 rejected" in output
    assert table_counts() == counts
    assert current_data_version() == data_version


def test_a_changed_row_updates_the_incident_through_the_services_with_history(tmp_path, editor_user):
    row = good_row()
    import_records([(1, row)], user=editor_user)
    incident = Incident.objects.get()
    report = import_records([(1, {**row, "verification": "corroborated"})], user=editor_user)
    assert (report.updated, report.unchanged) == (1, 0)
    incident.refresh_from_db()
    assert (incident.verification, incident.version) == ("corroborated", 2)
    assert incident.history.first().history_user == editor_user


def test_bulk_created_rows_carry_one_change_id_and_the_importing_user(editor_user):
    import_records([(1, good_row(weapons=[{"category": "rifle", "quantity": 3}], tags=["bulk"]))], user=editor_user)
    incident = Incident.objects.get()
    rows = [incident.history.get(), incident.weapons.get().history.get(), IncidentTag.history.get()]
    assert {row.change_id for row in rows} != {None}
    assert len({row.change_id for row in rows}) == 1
    assert {row.history_user for row in rows} == {editor_user}
    assert incident.weapons_total == 3
    assert incident.reported_on is None
    assert "rifles found in a car" in incident.search_text


def test_import_geocodes_from_the_offline_gazetteer_and_leaves_the_rest_for_geocode_incidents(settings):
    row = good_row(place="Göteborg", sources=[{"url": "https://example.org/g", "publisher": "P"}])
    import_records([(1, row)], user=None)
    placed = Incident.objects.get()
    assert placed.geocode_provider == "gazetteer"
    assert (round(placed.latitude), round(placed.longitude)) == (58, 12)

    settings.GEOCODER = "nominatim"
    settings.GEOCODER_USER_AGENT = "tracker-tests/1 (tests@example.org)"
    asked = []
    original = geocoding._geocode
    geocoding._geocode = lambda *args: asked.append(args)
    try:
        report = import_records([(1, good_row(place="Malmö", country="SE"))], user=None)
    finally:
        geocoding._geocode = original
    assert asked == []  # no networked provider during an import
    assert report.without_coordinates == 1
    unplaced = Incident.objects.get(place="Malmö")
    assert not unplaced.has_coordinates
    assert Incident.objects.filter(place__gt="", latitude__isnull=True).get() == unplaced  # geocode_incidents' pick


def test_exported_geocode_provenance_and_status_are_kept(tmp_path):
    manual = make_incident(latitude=Decimal("60.1"), longitude=Decimal("24.9"), status="draft")
    text = export(tmp_path, "json")
    empty_the_database()
    run_import(tmp_path, text, "json")
    copy = Incident.objects.get(uid=manual.uid)
    assert (copy.geocode_provider, copy.geocoded_at, copy.status) == ("manual", manual.geocoded_at, "draft")


# --- The endpoint ---------------------------------------------------------------------------------


def csv_of(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v) if isinstance(v, list) else v for k, v in row.items()})
    return buffer.getvalue().encode()


def upload(client, content: bytes, name: str, query: str = ""):
    return client.post(IMPORT_URL + query, {"file": SimpleUploadedFile(name, content)})


def test_import_endpoint_is_for_editors_only(anon_client, reader_client):
    content = csv_of([good_row()])
    assert upload(anon_client, content, "a.csv").status_code == 401
    assert upload(reader_client, content, "a.csv").status_code == 403
    assert Incident.objects.count() == 0


def test_import_endpoint_answers_the_report_for_a_csv_upload(editor_client):
    response = upload(editor_client, csv_of([good_row(), good_row(country="XX")]), "rows.csv")
    assert response.status_code == 200
    body = response.json()
    assert (body["rows"], body["created"], body["rejected_rows"]) == (2, 1, 1)
    assert body["errors"] == [{"row": 3, "field": "country", "message": body["errors"][0]["message"]}]
    assert "XX" in body["errors"][0]["message"]


def test_import_endpoint_takes_a_json_body_and_a_dry_run(editor_client):
    response = editor_client.post(IMPORT_URL + "?dry_run=true", [good_row()], format="json")
    assert response.status_code == 200
    assert (response.json()["created"], response.json()["dry_run"]) == (1, True)
    assert Incident.objects.count() == 0
    assert editor_client.post(IMPORT_URL, [good_row()], format="json").json()["created"] == 1
    assert Incident.objects.count() == 1


def test_import_endpoint_refuses_more_than_5000_rows_and_writes_nothing(editor_client):
    rows = [good_row(status="draft", sources=[]) for _ in range(5001)]
    response = editor_client.post(IMPORT_URL, rows, format="json")
    assert response.status_code == 400
    assert "5000" in response.json()["file"][0]
    assert Incident.objects.count() == 0


@pytest.mark.parametrize(
    ("query", "content", "field"),
    [
        ("?colour=red", b"[]", "colour"),
        ("?dry_run=maybe", b"[]", "dry_run"),
        ("", b"[{", "file"),
        ("", b"\xff\xfe\x00", "file"),
        ("", b'{"a": 1}', "file"),
    ],
)
def test_import_endpoint_answers_400_for_a_bad_request(editor_client, query, content, field):
    response = upload(editor_client, content, "f.json", query)
    assert response.status_code == 400
    assert field in response.json()
