"""Versioned, citable releases of the published data (API.md "Releases and feeds").

A release is a Frictionless Data Package written once under `RELEASES_DIR/<version>/`: flat tables joinable
by keys (`incidents.csv`, `weapons.csv`, `citations.csv`, `sources.csv`, each with a Table Schema in
`datapackage.json`), the incidents with coordinates as `incidents.geojson`, and `CHANGES.md`. Its rows are
the public records (`incidents.records`) flattened, so a release shows exactly what the API shows anyone:
published incidents only, and no actor at all (an individual's name can never leak). Nothing in the files
depends on when or where the package was made (rows by id, no clock), so the same data gives the same bytes.

What changed since the previous release is decided per incident `uid`: an incident is *changed* when any
of its rows differ (its own, its weapons', its citations' or a cited source's), and the previous rows are
read back from the previous package itself, so the package on disk is the reference.
"""

import csv
import hashlib
import io
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from django.conf import settings
from django.db import IntegrityError
from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from incidents import records
from incidents.changesets import current_data_version
from incidents.choices import (
    DatePrecision,
    GeoPrecision,
    IncidentType,
    QuantityPrecision,
    Reliability,
    SourceType,
    Stance,
    Verification,
    WeaponCategory,
)
from incidents.encoding import dumps
from incidents.limits import MAX_QUANTITY
from incidents.models import Release
from incidents.selectors import incidents_visible
from incidents.shapes import PUBLIC

PACKAGE_NAME = "arms-diversion-incidents"
LICENCE = {
    "name": "CC-BY-4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
    "title": "Creative Commons Attribution 4.0",
}
VERSION_PATTERN = r"[0-9]{4}\.[1-9][0-9]{0,5}"
ATTEMPTS = 3  # writes that land while a package is being written make it start over, this many times


class ReleaseError(Exception):
    """A release that cannot be made (said in words for an editor)."""


# --- The tables ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # a Table Schema type
    description: str
    constraints: dict = field(default_factory=dict)
    format: str = ""

    def descriptor(self) -> dict:
        described = {"name": self.name, "type": self.type, "description": self.description}
        if self.format:
            described["format"] = self.format
        if self.constraints:
            described["constraints"] = self.constraints
        return described


def _enum(choices, *, required: bool = False) -> dict:
    return {"required": required, "enum": list(choices.values)} if required else {"enum": list(choices.values)}


REQUIRED = {"required": True}
UID = Column("uid", "string", "the incident's stable identifier (UUID), the same in every release", REQUIRED, "uuid")
INCIDENT_UID = Column("incident_uid", "string", "the incident (incidents.uid)", REQUIRED, "uuid")
COUNTRY_CODE = {"pattern": "[A-Z]{2}"}

TABLES: dict[str, tuple[Column, ...]] = {
    "incidents": (
        UID,
        Column("id", "integer", "the incident's id in the API (incidents/{id}/)", {"required": True, "unique": True}),
        Column("version", "integer", "the record's version in the API", {"required": True, "minimum": 1}),
        Column("title", "string", "", REQUIRED),
        Column("summary", "string", "what the sources say, in neutral words"),
        Column("incident_type", "string", "", _enum(IncidentType, required=True)),
        Column("occurred_on", "date", "a month- or year-precise date is its first day", REQUIRED),
        Column("date_precision", "string", "", _enum(DatePrecision, required=True)),
        Column("reported_on", "date", "the earliest publication date of a supporting source"),
        Column("country", "string", "ISO 3166-1 alpha-2", {"required": True, **COUNTRY_CODE}),
        Column("country_name", "string", "English name of the country"),
        Column("admin1", "string", "region or county"),
        Column("place", "string", "locality"),
        Column("latitude", "number", "WGS84", {"minimum": -90, "maximum": 90}),
        Column("longitude", "number", "WGS84", {"minimum": -180, "maximum": 180}),
        Column("geo_precision", "string", "what the coordinates stand for", _enum(GeoPrecision)),
        Column("geocode_provider", "string", "who gave the coordinates: manual, gazetteer (GeoNames), nominatim"),
        Column("geocode_query", "string", "what was looked up"),
        Column("geocoded_at", "datetime", "when it was looked up (UTC)"),
        Column("geocode_warning", "string", "e.g. coordinates outside the country"),
        Column("verification", "string", "", _enum(Verification, required=True)),
        Column("weapons_total", "integer", "sum of the known quantities", {"required": True, "minimum": 0}),
        Column("tags", "string", "tag slugs, separated by spaces"),
        Column("created_at", "datetime", "UTC", REQUIRED),
        Column("updated_at", "datetime", "UTC", REQUIRED),
    ),
    "weapons": (
        INCIDENT_UID,
        Column("weapon_index", "integer", "position in the incident's weapons, from 0 (as in the API)", REQUIRED),
        Column("category", "string", "", _enum(WeaponCategory, required=True)),
        Column("description", "string", ""),
        Column("quantity", "integer", "empty when unknown", {"minimum": 0, "maximum": MAX_QUANTITY}),
        Column("quantity_precision", "string", "", _enum(QuantityPrecision, required=True)),
        Column("suspected_origin", "string", "ISO 3166-1 alpha-2", COUNTRY_CODE),
        Column("markings", "string", "as recorded, free text"),
        Column("serials", "array", "serial numbers as recorded, a JSON list (compared upper-case, letters and digits)"),
    ),
    "citations": (
        INCIDENT_UID,
        Column("source_id", "integer", "the source (sources.id)", REQUIRED),
        Column("stance", "string", "of the source toward the incident", _enum(Stance, required=True)),
        Column("credibility", "integer", "1 (confirmed) to 6 (cannot be judged)", {"minimum": 1, "maximum": 6}),
        Column("excerpt", "string", ""),
        Column("excerpt_language", "string", "ISO 639-1; other than the source's language: a translation"),
    ),
    "sources": (
        Column("id", "integer", "the source's id in the API (sources/{id}/)", {"required": True, "unique": True}),
        Column("url", "string", "", {"required": True, "unique": True}, "uri"),
        Column("title", "string", ""),
        Column("publisher", "string", "", REQUIRED),
        Column("published_on", "date", ""),
        Column("source_type", "string", "", _enum(SourceType, required=True)),
        Column("language", "string", "ISO 639-1"),
        Column("reliability", "string", "Admiralty scale, A (reliable) to F (cannot be judged)", _enum(Reliability)),
        Column("archived_url", "string", "an archived copy", {}, "uri"),
        Column("archived_at", "datetime", "UTC"),
    ),
}
KEYS = {
    "incidents": {"primaryKey": ["uid"]},
    "weapons": {
        "primaryKey": ["incident_uid", "weapon_index"],
        "foreignKeys": [{"fields": ["incident_uid"], "reference": {"resource": "incidents", "fields": ["uid"]}}],
    },
    "citations": {
        "primaryKey": ["incident_uid", "source_id"],
        "foreignKeys": [
            {"fields": ["incident_uid"], "reference": {"resource": "incidents", "fields": ["uid"]}},
            {"fields": ["source_id"], "reference": {"resource": "sources", "fields": ["id"]}},
        ],
    },
    "sources": {"primaryKey": ["id"]},
}
TITLES = {
    "incidents": "Published incidents, one row each",
    "weapons": "Weapons of each incident, one row each",
    "citations": "Sources cited by each incident, with stance and credibility",
    "sources": "Every source cited by a released incident",
}
DATA_FILES = [f"{name}.csv" for name in TABLES] + ["incidents.geojson"]
FILES = ["datapackage.json", *DATA_FILES, "CHANGES.md"]


@dataclass
class Rows:
    """One incident's rows in every table, from its public record."""

    incident: dict
    weapons: list[dict]
    citations: list[dict]
    sources: list[dict]


def rows_of(built: dict) -> Rows:
    geocode = built["geocode"] or {}
    incident = {
        **{column.name: built.get(column.name) for column in TABLES["incidents"]},
        "geocode_provider": geocode.get("provider"),
        "geocode_query": geocode.get("query"),
        "geocoded_at": geocode.get("geocoded_at"),
        "geocode_warning": geocode.get("warning"),
        "tags": " ".join(built["tags"]),
    }
    uid = built["uid"]
    weapons = [{"incident_uid": uid, "weapon_index": index, **weapon} for index, weapon in enumerate(built["weapons"])]
    citations = [
        {"incident_uid": uid, "source_id": cited["id"], **{c.name: cited[c.name] for c in TABLES["citations"][2:]}}
        for cited in built["sources"]
    ]
    sources = [{column.name: cited[column.name] for column in TABLES["sources"]} for cited in built["sources"]]
    return Rows(incident, weapons, citations, sources)


def cells(table: str, row: dict) -> list[str]:
    """A row as the CSV file holds it: text, empty for null, a list as JSON."""
    return [_cell(row[column.name]) for column in TABLES[table]]


def _cell(value) -> str:
    if value is None:
        return ""
    return orjson.dumps(value).decode() if isinstance(value, list) else str(value)


# --- Changes since the previous release ---------------------------------------------------------------


def _fingerprint_row(digest, table: str, row_cells: list[str]) -> None:
    digest.update(orjson.dumps([table, row_cells]))


def fingerprint(rows: Rows) -> str:
    """What a later release compares: the incident's rows in every table, as the files hold them."""
    digest = hashlib.sha256()
    _fingerprint_row(digest, "incidents", cells("incidents", rows.incident))
    for weapon in rows.weapons:
        _fingerprint_row(digest, "weapons", _compared_weapon(cells("weapons", weapon)))
    for citation, source in zip(rows.citations, rows.sources, strict=True):
        _fingerprint_row(digest, "citations", cells("citations", citation))
        _fingerprint_row(digest, "sources", cells("sources", source))
    return digest.hexdigest()


SERIALS_AT = [column.name for column in TABLES["weapons"]].index("serials")


def _compared_weapon(row_cells: list[str]) -> list[str]:
    """A weapon's cells as releases compare them: without `serials` when it has none, so that a release
    made before weapons had serials (its weapons.csv has no such column) does not differ for that alone."""
    return row_cells[:SERIALS_AT] if row_cells[SERIALS_AT:] in ([], ["[]"]) else row_cells


def _read_csv(path: Path) -> Iterator[list[str]]:
    with open(path, encoding="utf-8", newline="") as file:
        reader = csv.reader(file)
        next(reader)  # the header
        yield from reader


def fingerprints_of_package(directory: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The fingerprint and the title of each incident of a package on disk, computed as `fingerprint`."""
    digests, titles = {}, {}
    title_at = [column.name for column in TABLES["incidents"]].index("title")
    for row_cells in _read_csv(directory / "incidents.csv"):
        digests[row_cells[0]] = digest = hashlib.sha256()
        _fingerprint_row(digest, "incidents", row_cells)
        titles[row_cells[0]] = row_cells[title_at]
    for row_cells in _read_csv(directory / "weapons.csv"):
        _fingerprint_row(digests[row_cells[0]], "weapons", _compared_weapon(row_cells))
    sources = {row_cells[0]: row_cells for row_cells in _read_csv(directory / "sources.csv")}
    for row_cells in _read_csv(directory / "citations.csv"):
        _fingerprint_row(digests[row_cells[0]], "citations", row_cells)
        _fingerprint_row(digests[row_cells[0]], "sources", sources[row_cells[1]])
    return {uid: digest.hexdigest() for uid, digest in digests.items()}, titles


def changes_between(previous: dict[str, str], current: dict[str, str]) -> dict[str, list[str]]:
    return {
        "added": sorted(current.keys() - previous.keys()),
        "changed": sorted(uid for uid in current.keys() & previous.keys() if current[uid] != previous[uid]),
        "removed": sorted(previous.keys() - current.keys()),
    }


# --- Writing a package -----------------------------------------------------------------------------


@dataclass
class Package:
    """What writing a package found: how many incidents, their titles and fingerprints, the data's age."""

    incidents: int = 0
    fingerprints: dict[str, str] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    data_as_of: str | None = None


def published_records() -> Iterator[dict]:
    """Every published incident's public record, by id."""
    for _, _, _, body in records.in_chunks(incidents_visible(PUBLIC).order_by("id"), PUBLIC):
        yield orjson.loads(body)


def write_tables(directory: Path, built_records: Iterable[dict]) -> Package:
    """Write the four CSV files and the GeoJSON of the records, streaming; sources last (each once, by id)."""
    package = Package()
    sources: dict[int, dict] = {}
    writers, files = {}, []
    try:
        for table in ("incidents", "weapons", "citations"):
            files.append(open(directory / f"{table}.csv", "w", encoding="utf-8", newline=""))
            writers[table] = csv.writer(files[-1])
            writers[table].writerow([column.name for column in TABLES[table]])
        geojson = open(directory / "incidents.geojson", "wb")
        files.append(geojson)
        geojson.write(b'{"type":"FeatureCollection","features":[')
        separator = b"\n"
        for built in built_records:
            rows = rows_of(built)
            writers["incidents"].writerow(cells("incidents", rows.incident))
            writers["weapons"].writerows(cells("weapons", weapon) for weapon in rows.weapons)
            writers["citations"].writerows(cells("citations", citation) for citation in rows.citations)
            sources.update((source["id"], source) for source in rows.sources)
            package.incidents += 1
            package.fingerprints[built["uid"]] = fingerprint(rows)
            package.titles[built["uid"]] = built["title"]
            package.data_as_of = max(package.data_as_of or "", built["updated_at"])
            if built["latitude"] is not None:
                feature = {
                    "type": "Feature",
                    "id": built["uid"],
                    "geometry": {"type": "Point", "coordinates": [built["longitude"], built["latitude"]]},
                    "properties": rows.incident,
                }
                geojson.write(separator + dumps(feature))
                separator = b",\n"
        geojson.write(b"\n]}\n")
    finally:
        for file in files:
            file.close()
    with open(directory / "sources.csv", "w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow([column.name for column in TABLES["sources"]])
        writer.writerows(cells("sources", sources[source_id]) for source_id in sorted(sources))
    return package


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def descriptor(version: str, package: Package, changes: dict, previous: str | None, directory: Path) -> dict:
    """`datapackage.json`: the package's metadata and a Table Schema for each table, with keys between them."""
    resources = []
    for table, columns in TABLES.items():
        path = directory / f"{table}.csv"
        resources.append(
            {
                "name": table,
                "title": TITLES[table],
                "path": path.name,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "bytes": path.stat().st_size,
                "hash": f"sha256:{sha256_of(path)}",
                "schema": {"fields": [column.descriptor() for column in columns], **KEYS[table]},
            }
        )
    geojson = directory / "incidents.geojson"
    resources.append(
        {
            "name": "incidents-geojson",
            "title": "Published incidents with coordinates, as an RFC 7946 FeatureCollection",
            "path": geojson.name,
            "format": "geojson",
            "mediatype": "application/geo+json",
            "encoding": "utf-8",
            "bytes": geojson.stat().st_size,
            "hash": f"sha256:{sha256_of(geojson)}",
        }
    )
    return {
        "profile": "data-package",
        "name": PACKAGE_NAME,
        "title": f"Arms-diversion incident tracker, release {version}",
        "description": (
            "Reported arms-diversion incidents with their weapons, sources (with stance, reliability and "
            "credibility), verification state and the provenance of their coordinates. Published incidents "
            "only. Each cited article belongs to its publisher; cite the sources for the facts they report."
        ),
        "version": version,
        "licenses": [LICENCE],
        "keywords": ["arms diversion", "small arms", "weapons trafficking"],
        "incidents": package.incidents,
        "data_as_of": package.data_as_of,
        "previous_version": previous,
        "changes": changes,
        "citation": how_to_cite(version),
        "resources": resources,
    }


def changes_text(version: str, package: Package, changes: dict, previous: str | None, old_titles: dict) -> str:
    lines = [f"# Release {version}", ""]
    lines.append(f"{package.incidents} published incidents; data as of {package.data_as_of or 'no data'}.")
    lines.append(f"Changes since release {previous}." if previous else "The first release.")
    headings = {"added": "Added", "changed": "Changed", "removed": "Removed"}
    for kind, heading in headings.items():
        lines += ["", f"## {heading} ({len(changes[kind])})", ""]
        titles = old_titles if kind == "removed" else package.titles
        lines += [f"- {uid} {titles.get(uid, '')}".rstrip() for uid in changes[kind]]
    return "\n".join(lines) + "\n"


def write_package(directory: Path, version: str, previous: Release | None) -> tuple[Package, dict]:
    """Write a whole package of the published data into the empty `directory`; answers what it holds and
    its changes since `previous` (a release whose package is on disk)."""
    old_fingerprints, old_titles = {}, {}
    if previous is not None:
        old_directory = release_directory(previous.version)
        if not (old_directory / "incidents.csv").exists():
            raise ReleaseError(
                f"The files of the previous release {previous.version} are missing from {old_directory}."
            )
        old_fingerprints, old_titles = fingerprints_of_package(old_directory)
    package = write_tables(directory, published_records())
    changes = changes_between(old_fingerprints, package.fingerprints)
    previous_version = previous.version if previous else None
    (directory / "CHANGES.md").write_text(
        changes_text(version, package, changes, previous_version, old_titles), encoding="utf-8"
    )
    described = descriptor(version, package, changes, previous_version, directory)
    (directory / "datapackage.json").write_bytes(
        orjson.dumps(described, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    )
    return package, changes


# --- Making a release -------------------------------------------------------------------------------


def release_directory(version: str) -> Path:
    return Path(settings.RELEASES_DIR) / version


def next_version() -> tuple[int, int]:
    year = timezone.now().year
    latest = Release.objects.filter(year=year).aggregate(Max("number"))["number__max"] or 0
    return year, latest + 1


def make(*, user=None) -> Release:
    """Make the next release: write its package, make it read-only, and index it. Writes that land while it
    is written make it start over; a version whose directory exists is never overwritten."""
    root = Path(settings.RELEASES_DIR)
    root.mkdir(parents=True, exist_ok=True)
    year, number = next_version()
    version = f"{year}.{number}"
    final = release_directory(version)
    if final.exists():
        raise ReleaseError(f"{final} exists already; a release is never overwritten.")
    previous = Release.objects.first()
    for _ in range(ATTEMPTS):
        data_version = current_data_version()
        incomplete = Path(tempfile.mkdtemp(prefix=f".incomplete-{version}-", dir=root))
        try:
            package, changes = write_package(incomplete, version, previous)
        except BaseException:
            shutil.rmtree(incomplete, ignore_errors=True)
            raise
        if current_data_version() == data_version:
            break
        shutil.rmtree(incomplete, ignore_errors=True)
    else:
        raise ReleaseError(f"The data changed while the release was written, {ATTEMPTS} times; try again later.")
    files = [
        {"name": name, "bytes": (incomplete / name).stat().st_size, "sha256": sha256_of(incomplete / name)}
        for name in FILES
    ]
    for name in FILES:
        (incomplete / name).chmod(0o444)
    try:
        os.rename(incomplete, final)  # refuses when another release took the version meanwhile
    except OSError:
        shutil.rmtree(incomplete, ignore_errors=True)
        raise ReleaseError(f"{final} was made by someone else meanwhile; a release is never overwritten.") from None
    final.chmod(0o555)
    try:
        return Release.objects.create(
            version=version,
            year=year,
            number=number,
            created_by=getattr(user, "username", "") or "",
            data_as_of=parse_datetime(package.data_as_of) if package.data_as_of else None,
            incidents=package.incidents,
            sha256=files[0]["sha256"],
            changes=changes,
            files=files,
        )
    except BaseException as error:
        # Not indexed, so not made: its files go too (a later `make` would otherwise refuse the version).
        final.chmod(0o755)
        shutil.rmtree(final, ignore_errors=True)
        if isinstance(error, IntegrityError):
            raise ReleaseError(f"Release {version} was recorded by someone else meanwhile.") from None
        raise


def how_to_cite(version: str, url: str = "") -> str:
    return (
        f"Arms-diversion incident tracker, dataset release {version} (Frictionless Data Package, CC BY 4.0), "
        f"{url or '<URL of releases/' + version + '/>'}, accessed <date>. Cite the incidents' own sources for "
        "the facts they report."
    )


def open_file(release: Release, name: str) -> tuple[io.BufferedReader, dict] | None:
    """A file of a release, opened, with its listing; None when the release has no such file."""
    listed = next((entry for entry in release.files if entry["name"] == name), None)
    if listed is None:
        return None
    path = release_directory(release.version) / name
    return (open(path, "rb"), listed) if path.is_file() else None


def latest() -> Release | None:
    return Release.objects.first()
