"""An incident's record, defined once and built once.

`record()` is the one definition of what API.md "What is recorded" shows of an incident, for each audience
(the public, editors: only an individual's name differs). The services build every record they touch in
the write's own transaction and store it, encoded, in `IncidentRecord`: as JSON, and as the CSV row an
export writes. Reads then assemble stored bytes (a page of the list is a join of byte strings), and only a
record that is missing or older than its incident (data loaded around the services, `loaddata`) is built
on the fly, in memory: a read never writes. `audit()` compares every stored record with a fresh build.
"""

import csv
import datetime
import functools
import io
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, QuerySet
from django_countries.fields import Country

from incidents import rollups
from incidents.encoding import dumps
from incidents.models import Citation, Incident, IncidentActor, IncidentRecord, IncidentTag, WeaponItem
from incidents.prepared import Prepared
from incidents.shapes import (
    AUDIENCES,
    CITATION_FIELDS,
    CITATION_KEYS,
    EDITOR,
    PUBLIC,
    RECORD_FIELDS,
    SOURCE_FIELDS,
    WEAPON_FIELDS,
    shown_actor_name,
)

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection): such text is prefixed
# with `'`, which the import strips again (API.md "Formats").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# The incident's own columns a record reads (its relations come from the four queries of `_relations`).
INCIDENT_COLUMNS = (
    "id",
    "uid",
    "version",
    "title",
    "summary",
    "incident_type",
    "occurred_on",
    "date_precision",
    "reported_on",
    "country",
    "admin1",
    "place",
    "latitude",
    "longitude",
    "geo_precision",
    "geocode_provider",
    "geocode_query",
    "geocoded_at",
    "geocode_warning",
    "verification",
    "status",
    "weapons_total",
    "created_at",
    "updated_at",
)
CHUNK = 500  # incidents loaded per round of queries (well under every database's parameter limit)
# Raise whenever `record()` or the encodings change what they write: stored records of another codec are
# stale (read as missing, rebuilt by `rebuild_records`), as are those of another version of the incident.
CODEC = 2  # 2: weapons carry `serials`


@dataclass
class Parts:
    """What a record is made of: the incident's columns and its relations, as plain values."""

    columns: dict
    weapons: list = field(default_factory=list)  # WEAPON_FIELDS
    citations: list = field(default_factory=list)  # CITATION_KEYS
    actors: list = field(default_factory=list)  # (id, name, kind), named actors by name, then individuals by id
    tags: list = field(default_factory=list)  # slugs


# --- The definition ------------------------------------------------------------------------------


def record(parts: Parts, audience: str) -> dict:
    """The record of API.md "What is recorded", as `audience` reads it, in plain JSON values."""
    row = parts.columns
    return {
        "id": row["id"],
        "uid": str(row["uid"]),
        "version": row["version"],
        "title": row["title"],
        "summary": row["summary"],
        "incident_type": row["incident_type"],
        "occurred_on": row["occurred_on"].isoformat(),
        "date_precision": row["date_precision"],
        "reported_on": _date(row["reported_on"]),
        "country": row["country"],
        "country_name": country_name(row["country"]),
        "admin1": row["admin1"],
        "place": row["place"],
        "latitude": _coordinate(row["latitude"]),
        "longitude": _coordinate(row["longitude"]),
        "geo_precision": row["geo_precision"],
        "geocode": _geocode(row),
        "verification": row["verification"],
        "status": row["status"],
        "weapons": [_weapon(values) for values in parts.weapons],
        "weapons_total": row["weapons_total"],
        "actors": [
            {"id": actor_id, "name": shown_actor_name(name, kind, audience), "kind": kind}
            for actor_id, name, kind in parts.actors
        ],
        "tags": list(parts.tags),
        "sources": [_citation(values) for values in parts.citations],
        "created_at": _moment(row["created_at"]),
        "updated_at": _moment(row["updated_at"]),
    }


def actor_order(actor_id: int, name: str, kind: str) -> tuple:
    """Where an actor stands in a record's list: named actors by name, then individuals by id. An
    individual's name is hidden from the public, so it must not decide the order either (its place among
    named neighbours would bound it); one order for every audience keeps the records alike."""
    hidden = shown_actor_name(name, kind, PUBLIC) is None
    return (hidden, "" if hidden else name, actor_id)


@functools.cache
def country_name(code: str) -> str:
    """A country's English name (the API's only language), looked up once per code."""
    return Country(code=code).name


def _weapon(values: tuple) -> dict:
    weapon = dict(zip(WEAPON_FIELDS, values, strict=True))
    weapon["suspected_origin"] = str(weapon["suspected_origin"]) if weapon["suspected_origin"] else None
    return weapon


def _citation(values: tuple) -> dict:
    citation = dict(zip(CITATION_KEYS, values, strict=True))
    citation["published_on"] = _date(citation["published_on"])
    citation["archived_at"] = _moment(citation["archived_at"])
    return citation


def _geocode(row: dict) -> dict | None:
    if not row["geocode_provider"]:
        return None
    return {
        "provider": row["geocode_provider"],
        "query": row["geocode_query"],
        "geocoded_at": _moment(row["geocoded_at"]),
        "warning": row["geocode_warning"] or None,
    }


def _date(day: datetime.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _moment(moment: datetime.datetime | None) -> str | None:
    """As DRF writes a date-time: ISO 8601 in UTC, with `Z`."""
    if moment is None:
        return None
    text = moment.astimezone(datetime.UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _coordinate(value) -> float | None:
    return None if value is None else float(value)


# --- Encodings -----------------------------------------------------------------------------------


def encode_json(built: dict) -> bytes:
    return dumps(built)


def csv_header(fields: Iterable[str] = RECORD_FIELDS) -> bytes:
    return _csv_line(list(fields))


def encode_csv(built: dict, fields: Iterable[str] = RECORD_FIELDS) -> bytes:
    """One CSV row: nested lists and objects as JSON text in their cells, spreadsheet formulas guarded."""
    return _csv_line([csv_cell(built.get(name)) for name in fields])


def csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, list | dict):
        return dumps(value).decode()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


_csv = threading.local()  # one buffer and writer per thread: making them for every row cost more than the row


def _csv_line(cells: list) -> bytes:
    if not hasattr(_csv, "writer"):
        _csv.buffer = io.StringIO()
        _csv.writer = csv.writer(_csv.buffer)
    _csv.buffer.seek(0)
    _csv.buffer.truncate()
    _csv.writer.writerow(cells)
    return _csv.buffer.getvalue().encode()


# --- Building from the database --------------------------------------------------------------------


def parts_of(incident_ids: Iterable[int]) -> dict[int, Parts]:
    """The parts of these incidents' records, in five queries of plain values per chunk of ids."""
    found: dict[int, Parts] = {}
    ids = list(incident_ids)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        rows = Incident.objects.filter(pk__in=chunk).values(*INCIDENT_COLUMNS)
        parts = {row["id"]: Parts(columns=row) for row in rows}
        _relations(parts)
        found.update(parts)
    return found


# Each relation as plain values: (incident id, *values), in the record's order.
RELATIONS = {
    "weapons": WeaponItem.objects.order_by("id").values_list("incident_id", *WEAPON_FIELDS),
    "citations": Citation.objects.order_by("id").values_list(
        "incident_id", "source_id", *(f"source__{name}" for name in SOURCE_FIELDS), *CITATION_FIELDS
    ),
    "actors": IncidentActor.objects.values_list("incident_id", "actor_id", "actor__name", "actor__kind"),
    "tags": IncidentTag.objects.order_by("tag__slug").values_list("incident_id", "tag__slug"),
}


def _relations(parts: dict[int, Parts]) -> None:
    if not parts:
        return
    for name, query in RELATIONS.items():
        for incident_id, *values in query.filter(incident_id__in=list(parts)):
            getattr(parts[incident_id], name).append(tuple(values))
    for each in parts.values():
        each.tags = [slug for (slug,) in each.tags]
        each.actors.sort(key=lambda actor: actor_order(*actor))


@dataclass
class Encoded:
    """One incident's stored record: its version, and JSON and CSV bytes per audience (the editors' only
    where they differ from the public's, that is when an individual is named)."""

    incident_id: int
    version: int
    json: dict[str, bytes]
    csv: dict[str, bytes]
    contribution: dict[tuple, tuple]  # to the rollups (`incidents.rollups`)

    def row(self) -> IncidentRecord:
        differs = self.json[EDITOR] != self.json[PUBLIC]
        return IncidentRecord(
            incident_id=self.incident_id,
            version=self.version,
            codec=CODEC,
            public_json=self.json[PUBLIC],
            editor_json=self.json[EDITOR] if differs else None,
            public_csv=self.csv[PUBLIC],
            editor_csv=self.csv[EDITOR] if differs else None,
        )


def encoded(parts: Parts) -> Encoded:
    public = record(parts, PUBLIC)
    # The audiences differ only where an individual is named: otherwise the editors read the public record.
    names_hidden = any(shown_actor_name(name, kind, PUBLIC) != name for _, name, kind in parts.actors)
    built = {PUBLIC: public, EDITOR: record(parts, EDITOR) if names_hidden else public}
    json = {PUBLIC: encode_json(public)}
    csv_row = {PUBLIC: encode_csv(public)}
    json[EDITOR] = encode_json(built[EDITOR]) if names_hidden else json[PUBLIC]
    csv_row[EDITOR] = encode_csv(built[EDITOR]) if names_hidden else csv_row[PUBLIC]
    return Encoded(
        incident_id=parts.columns["id"],
        version=parts.columns["version"],
        json=json,
        csv=csv_row,
        contribution=rollups.contribution(built[EDITOR]),
    )


def store(incident_ids: Iterable[int]) -> int:
    """Build and store the records of these incidents (call inside the write's transaction), and move the
    rollups from the old records' contributions to the new ones'; returns how many were stored. Incidents
    that no longer exist are skipped (their records, and contributions, went with them)."""
    ids = sorted(set(incident_ids))
    stored = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        built = [encoded(parts) for parts in parts_of(chunk).values()]
        old = IncidentRecord.objects.filter(incident_id__in=chunk).values_list("editor_json", "public_json")
        rollups.apply((rollups.stored_contribution(*bodies) for bodies in old), (each.contribution for each in built))
        rows = [each.row() for each in built]
        IncidentRecord.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["incident"],
            update_fields=["version", "codec", "public_json", "editor_json", "public_csv", "editor_csv"],
        )
        stored += len(rows)
    return stored


def stale_ids() -> list[int]:
    """Incidents whose stored record is missing, older than the incident, or built by another codec (data
    loaded around the services, a restore from an older release, a change of the record's definition)."""
    current = IncidentRecord.objects.filter(incident_id=OuterRef("pk"), version=OuterRef("version"), codec=CODEC)
    return list(Incident.objects.filter(~Exists(current)).order_by("pk").values_list("pk", flat=True))


# --- Reading ---------------------------------------------------------------------------------------


ENCODINGS = {"json": encode_json, "csv": encode_csv}


def stored_json(pairs: list[tuple[int, int]], audience: str) -> list[bytes]:
    """The JSON of each (incident id, version), in the order given: stored bytes where they are current,
    else built now (in memory only: a read never writes)."""
    return _stored_or_built(pairs, audience, "json")


def stored_csv(pairs: list[tuple[int, int]], audience: str) -> list[bytes]:
    """The CSV row of each (incident id, version), as `stored_json`."""
    return _stored_or_built(pairs, audience, "csv")


def _stored_or_built(pairs: list[tuple[int, int]], audience: str, encoding: str) -> list[bytes]:
    column = f"{'editor' if audience == EDITOR else 'public'}_{encoding}"
    versions = dict(pairs)
    found = {}
    for start in range(0, len(pairs), CHUNK):
        chunk = [incident_id for incident_id, _ in pairs[start : start + CHUNK]]
        for incident_id, version, chosen, public in STORED[column].rows(chunk):
            if version == versions[incident_id]:  # the editors' column is empty where it equals the public one
                found[incident_id] = bytes(chosen if chosen is not None else public)
    missing = [incident_id for incident_id, _ in pairs if incident_id not in found]
    for incident_id, parts in parts_of(missing).items():
        found[incident_id] = ENCODINGS[encoding](record(parts, audience))
    return [found[incident_id] for incident_id, _ in pairs if incident_id in found]


# The stored bytes of a chunk of incidents (of this codec), compiled once per chunk size.
STORED = {
    f"{audience}_{encoding}": Prepared(
        f"stored {audience} {encoding}",
        lambda ids, column=f"{audience}_{encoding}", public=f"public_{encoding}": IncidentRecord.objects.filter(
            incident_id__in=ids, codec=CODEC
        ).values_list("incident_id", "version", column, public),
    )
    for audience in AUDIENCES
    for encoding in ENCODINGS
}


def in_chunks(incidents: QuerySet[Incident], audience: str, *, encoding: str = "json") -> Iterator[tuple]:
    """Every incident of a (large) query as (id, latitude, longitude, bytes), a chunk at a time: exports
    read stored bytes without loading a model instance."""
    read = stored_json if encoding == "json" else stored_csv
    rows = incidents.values_list("pk", "version", "latitude", "longitude").iterator(chunk_size=CHUNK)
    chunk: list[tuple] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield from _read_chunk(chunk, audience, read)
            chunk = []
    yield from _read_chunk(chunk, audience, read)


def _read_chunk(chunk: list[tuple], audience: str, read) -> Iterator[tuple]:
    if not chunk:
        return
    encoded_rows = read([(pk, version) for pk, version, _, _ in chunk], audience)
    yield from ((pk, lat, lon, body) for (pk, _, lat, lon), body in zip(chunk, encoded_rows, strict=True))


# --- Audit -----------------------------------------------------------------------------------------


def _plain(value):
    return bytes(value) if isinstance(value, memoryview) else value


def audit(incident_ids: Iterable[int] | None = None) -> list[str]:
    """Every stored record that differs from a fresh build (or is missing, or belongs to no incident)."""
    ids = list(Incident.objects.values_list("pk", flat=True)) if incident_ids is None else list(incident_ids)
    differences = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        stored = {row.incident_id: row for row in IncidentRecord.objects.filter(incident_id__in=chunk)}
        for incident_id, parts in parts_of(chunk).items():
            fresh = encoded(parts).row()
            kept = stored.get(incident_id)
            if kept is None:
                differences.append(f"incident {incident_id}: no stored record")
                continue
            differing = [
                name
                for name in ("version", "codec", "public_json", "editor_json", "public_csv", "editor_csv")
                if _plain(getattr(kept, name)) != getattr(fresh, name)
            ]
            if differing:
                verb = "differs" if len(differing) == 1 else "differ"
                differences.append(f"incident {incident_id}: stored {', '.join(differing)} {verb} from a fresh build")
    if incident_ids is None:
        orphans = IncidentRecord.objects.exclude(incident_id__in=Incident.objects.values("pk")).count()
        if orphans:
            differences.append(f"{orphans} stored records of no incident")
    return differences
