"""Dataset releases (API.md "Releases and feeds"): packages that Frictionless validates and pandas joins,
byte-identical from the same data, never changed once made, listing exactly what changed by uid, and
served as immutable files."""

import datetime
import io
import shutil
import stat
from pathlib import Path

import pandas
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from frictionless import Package

from incidents import releases, services
from incidents.choices import Status
from incidents.models import Incident, Release, Source
from tests.factories import cite, make_actor, make_incident, make_source

pytestmark = pytest.mark.django_db

FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "sourced_incidents.json"


@pytest.fixture(autouse=True)
def releases_dir(settings, tmp_path):
    settings.RELEASES_DIR = tmp_path / "releases"
    return settings.RELEASES_DIR


@pytest.fixture
def loaded():
    call_command("loaddata", str(FIXTURE), verbosity=0)
    call_command("rebuild_records", "--stale", verbosity=0)


def make_release() -> Release:
    call_command("make_release", stdout=io.StringIO())
    return Release.objects.first()


def package_dir(release: Release) -> Path:
    return releases.release_directory(release.version)


def validate(directory: Path):
    return Package(str(directory / "datapackage.json")).validate()


def csv_table(release: Release, name: str) -> pandas.DataFrame:
    return pandas.read_csv(package_dir(release) / f"{name}.csv", keep_default_na=False, na_values=[""])


# --- The package ----------------------------------------------------------------------------------


def test_a_release_of_the_fixtures_is_a_valid_data_package_with_every_key_resolving(loaded):
    release = make_release()
    report = validate(package_dir(release))
    assert report.valid, report.flatten(["type", "note"])[:5]
    published = Incident.objects.filter(status=Status.PUBLISHED)
    incidents = csv_table(release, "incidents")
    weapons, citations, sources = (csv_table(release, name) for name in ("weapons", "citations", "sources"))
    assert release.incidents == len(incidents) == published.count() == 41
    assert sorted(incidents["uid"]) == sorted(str(uid) for uid in published.values_list("uid", flat=True))
    assert len(weapons) == sum(incident.weapons.count() for incident in published)
    assert len(citations) == sum(incident.citations.count() for incident in published)
    assert set(citations["source_id"]) == set(sources["id"])
    assert set(weapons["incident_uid"]) <= set(incidents["uid"])
    assert release.version == f"{datetime.date.today().year}.1"
    assert release.changes == {"added": sorted(incidents["uid"]), "changed": [], "removed": []}


def test_the_validator_does_check_keys_and_hashes(loaded, tmp_path):
    """The validation above means something: a weapon of no incident, or an edited file, is refused."""
    release = make_release()
    broken = tmp_path / "broken"
    shutil.copytree(package_dir(release), broken)
    for path in broken.iterdir():
        path.chmod(0o644)
    lines = (broken / "weapons.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = "00000000-0000-0000-0000-000000000000" + lines[1][36:]
    (broken / "weapons.csv").write_text("".join(lines), encoding="utf-8")
    errors = {row[0] for row in validate(broken).flatten(["type"])}
    assert {"foreign-key", "hash-count"} <= errors


def test_the_same_data_gives_the_same_bytes(loaded, tmp_path):
    release = make_release()
    again = tmp_path / "again"
    again.mkdir()
    releases.write_package(again, release.version, previous=None)
    for name in releases.FILES:
        assert (again / name).read_bytes() == (package_dir(release) / name).read_bytes(), name
    # A second release of unchanged data: the same tables, and nothing added, changed or removed.
    second = make_release()
    assert second.changes == {"added": [], "changed": [], "removed": []}
    for name in releases.DATA_FILES:
        assert (package_dir(second) / name).read_bytes() == (package_dir(release) / name).read_bytes(), name
    assert "The first release" not in (package_dir(second) / "CHANGES.md").read_text()


def test_pandas_joins_incidents_and_weapons_into_the_weapon_category_stats(loaded, anon_client):
    release = make_release()
    incidents, weapons = csv_table(release, "incidents"), csv_table(release, "weapons")
    joined = incidents[["uid"]].merge(weapons, left_on="uid", right_on="incident_uid", how="left")
    joined["approximate"] = joined["quantity"].where(joined["quantity_precision"].isin(["approximate", "at_least"]))
    by_category = joined.groupby("category", dropna=False).agg(
        incidents=("uid", "nunique"), weapons=("quantity", "sum"), weapons_approximate=("approximate", "sum")
    )
    from_release = {
        (None if pandas.isna(category) else category): (row.incidents, int(row.weapons), int(row.weapons_approximate))
        for category, row in by_category.iterrows()
    }
    stats = anon_client.get("/api/v1/stats/", {"group_by": "weapon_category"}).json()
    from_api = {row["key"]: (row["incidents"], row["weapons"], row["weapons_approximate"]) for row in stats["results"]}
    assert from_release == from_api
    assert len(from_api) >= 8
    assert stats["total"]["incidents"] == len(incidents)
    assert stats["total"]["weapons"] == incidents["weapons_total"].sum()


def test_drafts_and_the_names_of_individuals_never_appear(editor_user, tmp_path):
    make_incident(editor_user, title="A draft nobody may see", status=Status.DRAFT)
    person = make_actor(editor_user, name="Private Person Name", kind="individual")
    make_incident(editor_user, published=True, title="Published with a person", actors=[person])
    release = make_release()
    assert release.incidents == 1
    everything = b"".join((package_dir(release) / name).read_bytes() for name in releases.FILES)
    assert b"Published with a person" in everything
    assert b"A draft nobody may see" not in everything
    assert b"Private Person Name" not in everything


def test_a_second_release_lists_exactly_what_was_added_changed_and_removed(editor_user):
    shared_source = make_source(editor_user)
    kept = make_incident(editor_user, published=True)
    retitled = make_incident(editor_user, published=True)
    cites_edited_source = make_incident(editor_user, published=True, citations=[cite(shared_source)])
    unpublished = make_incident(editor_user, published=True)
    deleted = make_incident(editor_user, published=True)
    draft = make_incident(editor_user)
    first = make_release()
    assert first.incidents == 5

    added = make_incident(editor_user, published=True)
    services.incident_update(incident=retitled, user=editor_user, data={"title": "A better title"})
    services.source_update(source=shared_source, user=editor_user, data={"title": "Corrected headline"})
    services.incident_update(incident=unpublished, user=editor_user, data={"status": Status.ARCHIVED})
    services.incident_delete(incident=deleted, user=editor_user)
    services.incident_update(incident=draft, user=editor_user, data={"title": "Still a draft"})

    second = make_release()
    assert second.changes == {
        "added": [str(added.uid)],
        "changed": sorted([str(retitled.uid), str(cites_edited_source.uid)]),
        "removed": sorted([str(unpublished.uid), str(deleted.uid)]),
    }
    assert str(kept.uid) in set(csv_table(second, "incidents")["uid"])
    changes_md = (package_dir(second) / "CHANGES.md").read_text()
    assert f"Changes since release {first.version}." in changes_md
    assert f"- {added.uid} {added.title}" in changes_md
    assert f"- {deleted.uid} {deleted.title}" in changes_md  # a removed incident named by its old title
    described = Package(str(package_dir(second) / "datapackage.json"))
    assert described.custom["changes"] == second.changes
    assert described.custom["previous_version"] == first.version
    assert validate(package_dir(second)).valid


def test_a_release_is_read_only_and_never_overwritten(editor_user):
    make_incident(editor_user, published=True)
    release = make_release()
    directory = package_dir(release)
    assert sorted(path.name for path in directory.iterdir()) == sorted(releases.FILES)
    for path in [directory, *directory.iterdir()]:
        assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), path
    year = datetime.date.today().year
    (Path(settings.RELEASES_DIR) / f"{year}.2").mkdir()  # the next version's directory, made by hand
    with pytest.raises(CommandError, match="never overwritten"):
        call_command("make_release")
    assert Release.objects.count() == 1


def test_writes_during_the_release_make_it_start_over(editor_user, monkeypatch):
    incident = make_incident(editor_user, published=True, title="Before")
    real_write_tables = releases.write_tables
    calls = []

    def write_tables_racing_an_edit(directory, built_records):
        package = real_write_tables(directory, built_records)
        if not calls:  # an editor saves while the first attempt is being written
            services.incident_update(incident=incident, user=editor_user, data={"title": "After"})
        calls.append(directory)
        return package

    monkeypatch.setattr(releases, "write_tables", write_tables_racing_an_edit)
    release = make_release()
    assert len(calls) == 2
    assert list(csv_table(release, "incidents")["title"]) == ["After"]
    assert not list(Path(settings.RELEASES_DIR).glob(".incomplete-*"))


def test_a_release_whose_predecessor_lost_its_files_is_refused(editor_user):
    make_incident(editor_user, published=True)
    first = make_release()
    package_dir(first).chmod(0o755)
    shutil.rmtree(package_dir(first))
    with pytest.raises(CommandError, match=f"files of the previous release {first.version} are missing"):
        call_command("make_release")


# --- Served ---------------------------------------------------------------------------------------


def test_releases_are_listed_newest_first_with_their_files_and_how_to_cite(editor_user, anon_client):
    make_incident(editor_user, published=True)
    first = make_release()
    listed = anon_client.get("/api/v1/releases/")
    etag = listed["ETag"]
    assert anon_client.get("/api/v1/releases/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    second = make_release()
    listed = anon_client.get("/api/v1/releases/", HTTP_IF_NONE_MATCH=etag)
    assert listed.status_code == 200  # a new release is a new list, though no incident changed
    body = listed.json()
    assert [item["version"] for item in body["results"]] == [second.version, first.version]
    item = body["results"][1]
    assert item["incidents"] == 1
    assert item["sha256"] == releases.sha256_of(package_dir(first) / "datapackage.json")
    assert [entry["name"] for entry in item["files"]] == releases.FILES
    assert item["files"][1]["url"] == f"http://testserver/api/v1/releases/{first.version}/incidents.csv"
    assert f"dataset release {first.version}" in item["how_to_cite"]
    assert f"http://testserver/api/v1/releases/{first.version}/" in item["how_to_cite"]
    detail = anon_client.get(f"/api/v1/releases/{first.version}/").json()
    assert detail == item
    root = anon_client.get("/api/v1/").json()
    assert root["latest_release"] == f"http://testserver/api/v1/releases/{second.version}/"
    assert "dataset release" in root["how_to_cite"]


def test_a_file_is_streamed_with_its_hash_as_etag_and_cached_for_a_year(editor_user, anon_client):
    make_incident(editor_user, published=True)
    release = make_release()
    url = f"/api/v1/releases/{release.version}/incidents.csv"
    response = anon_client.get(url, HTTP_ACCEPT="application/json")  # the file's own type, whatever is asked
    body = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert body == (package_dir(release) / "incidents.csv").read_bytes()
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Length"] == str(len(body))
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["ETag"] == f'"{releases.sha256_of(package_dir(release) / "incidents.csv")}"'
    assert anon_client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    described = anon_client.get(f"/api/v1/releases/{release.version}/datapackage.json")
    assert described["Content-Type"] == "application/json"
    assert b"".join(described.streaming_content).startswith(b"{")


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/v1/releases/2020.1/", 404),
        ("/api/v1/releases/2020.1/incidents.csv", 404),
        ("/api/v1/releases/{version}/nothing.csv", 404),
        ("/api/v1/releases/{version}/../datapackage.json", 404),
        ("/api/v1/releases/{version}/incidents.csv?download=1", 400),
        ("/api/v1/releases/?country=FI", 400),
        ("/api/v1/releases/{version}/?fields=version", 400),
    ],
)
def test_what_is_not_a_release_or_its_file(editor_user, anon_client, url, status):
    make_incident(editor_user, published=True)
    release = make_release()
    assert anon_client.get(url.format(version=release.version)).status_code == status


def test_editors_make_a_release_in_the_admin_and_nobody_deletes_one(editor_user, client, django_user_model):
    make_incident(editor_user, published=True)
    client.force_login(editor_user)
    page = client.get("/admin/incidents/release/make/")
    assert page.status_code == 200 and b"There is no release yet" in page.content
    response = client.post("/admin/incidents/release/make/", follow=True)
    release = Release.objects.get()
    assert f"Release {release.version} made: 1 incidents" in response.content.decode()
    assert validate(package_dir(release)).valid
    listing = client.get("/admin/incidents/release/")
    assert b"Make a release" in listing.content and release.version.encode() in listing.content
    assert client.post(f"/admin/incidents/release/{release.pk}/delete/").status_code == 403
    outsider = django_user_model.objects.create_user("outsider", password="pw", is_staff=True)
    client.force_login(outsider)
    assert client.post("/admin/incidents/release/make/").status_code == 403
    assert Release.objects.count() == 1


def test_the_dashboard_links_the_latest_release(editor_user, client):
    assert b"No dataset release has been made yet" in client.get("/dashboard/").content
    make_incident(editor_user, published=True)
    release = make_release()
    assert f'href="/api/v1/releases/{release.version}/"'.encode() in client.get("/dashboard/").content


def test_an_edited_source_is_one_changed_row_in_sources_csv(editor_user):
    source = make_source(editor_user)
    make_incident(editor_user, published=True, citations=[cite(source)])
    first = make_release()
    services.source_update(source=source, user=editor_user, data={"title": "Corrected headline"})
    second = make_release()
    titles = {release.version: list(csv_table(release, "sources")["title"]) for release in (first, second)}
    assert titles[first.version] != titles[second.version] == ["Corrected headline"]
    assert Source.objects.get().title == "Corrected headline"


def test_releases_and_their_files_count_against_the_anonymous_rate(editor_user, anon_client, settings):
    make_incident(editor_user, published=True)
    release = make_release()
    settings.ANON_THROTTLE_RATE = "2/minute"
    urls = ["/api/v1/releases/", f"/api/v1/releases/{release.version}/sources.csv"]
    assert [anon_client.get(url).status_code for url in urls] == [200, 200]
    assert [anon_client.get(url).status_code for url in urls] == [429, 429]


def test_serials_change_a_release_only_where_a_weapon_has_some(editor_user):
    """Releases made before weapons had serials have no such column in weapons.csv: an incident whose
    weapons have none is not "changed" for that alone; one given a serial is."""
    armed = make_incident(editor_user, published=True, weapons=[{"category": "rifle", "quantity": 1}])
    first = make_release()
    weapons_csv = package_dir(first) / "weapons.csv"
    lines = weapons_csv.read_text().splitlines()
    assert lines[0].endswith(",markings,serials") and lines[1].endswith(",[]")
    weapons_csv.chmod(0o644)
    weapons_csv.write_text("\n".join(line.rsplit(",", 1)[0] for line in lines) + "\n")  # as an older release

    second = make_release()
    assert second.changes == {"added": [], "changed": [], "removed": []}
    services.incident_update(
        incident=armed, user=editor_user, data={"weapons": [{"category": "rifle", "quantity": 1, "serials": ["R1"]}]}
    )
    third = make_release()
    assert third.changes == {"added": [], "changed": [str(armed.uid)], "removed": []}
    assert list(csv_table(third, "weapons")["serials"]) == ['["R1"]']
