"""Exports of incidents as CSV, GeoJSON or a JSON list: one pipeline, from the stored records, for the API's
streamed formats (API.md "Formats"), the export command and the releases. The whole filtered set is
written a chunk at a time, so memory stays flat whatever the number of rows."""

from collections.abc import Iterator

import orjson
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import QuerySet

from incidents import records
from incidents.encoding import dumps
from incidents.models import Incident
from incidents.shapes import EDITOR, RECORD_FIELDS

FORMATS = ("csv", "geojson", "json")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "geojson": "application/geo+json", "json": "application/json"}


def ensure_within_cap(incidents: QuerySet[Incident], audience: str) -> None:
    """Exports without an editor's credentials hold at most EXPORT_ANON_MAX_ROWS rows (API.md "Formats")."""
    if audience == EDITOR:
        return
    limit = settings.EXPORT_ANON_MAX_ROWS
    count = incidents.count()
    if count > limit:
        raise ValidationError(
            {
                "detail": [
                    f"{count} incidents match; exports without credentials are limited to {limit}. "
                    "Narrow the filters, or page through the JSON list."
                ]
            }
        )


def chunks(incidents: QuerySet[Incident], export_format: str, audience: str, fields=None) -> Iterator[bytes]:
    """The export of every incident of `incidents`, in `export_format`, as `audience` reads it; with
    `fields`, only those keys of each record (CSV columns, GeoJSON properties, JSON keys)."""
    return (body for body, _ in _counted_chunks(incidents, export_format, audience, fields))


def write(incidents: QuerySet[Incident], export_format: str, out, *, audience: str, progress=None) -> int:
    """Write the export to the binary file `out`; returns how many incidents it holds. `progress` (an
    `incidents.progress.Progress`) is told of each chunk written."""
    if connection.vendor == "sqlite":
        # One pass over the whole file: the service's memory map and large page cache (settings) would only
        # fill with pages read once; without them the export's memory stays flat.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA mmap_size=0")
            cursor.execute("PRAGMA cache_size=-8000")
    written = 0
    for body, count in _counted_chunks(incidents, export_format, audience, None):
        out.write(body)
        written += count
        if progress is not None and count:
            progress.update(count)
    return written


def _counted_chunks(incidents, export_format, audience, fields) -> Iterator[tuple[bytes, int]]:
    if export_format == "csv":
        return _csv(incidents, audience, fields)
    if export_format == "geojson":
        return _geojson(incidents.filter(latitude__isnull=False, longitude__isnull=False), audience, fields)
    if export_format == "json":
        return _json_list(incidents, audience, fields)
    raise ValueError(f"no export format {export_format!r}")


def project(body: bytes, fields) -> dict:
    """A stored record reduced to `fields`, in the record's own order."""
    built = orjson.loads(body)
    return {name: built[name] for name in RECORD_FIELDS if name in fields}


def _csv(incidents, audience, fields) -> Iterator[tuple[bytes, int]]:
    columns = [name for name in RECORD_FIELDS if not fields or name in fields]
    yield records.csv_header(columns), 0
    stored = records.in_chunks(incidents, audience, encoding="json" if fields else "csv")
    batch = []
    for _, _, _, body in stored:
        batch.append(records.encode_csv(project(body, fields), columns) if fields else body)
        if len(batch) == records.CHUNK:
            yield b"".join(batch), len(batch)
            batch = []
    yield b"".join(batch), len(batch)


def _geojson(incidents, audience, fields) -> Iterator[tuple[bytes, int]]:
    """An RFC 7946 FeatureCollection: Point geometries in [longitude, latitude] order, the record as properties."""
    yield b'{"type":"FeatureCollection","features":[', 0
    separator = b""
    batch = []
    for incident_id, latitude, longitude, body in records.in_chunks(incidents, audience):
        properties = dumps(project(body, fields)) if fields else body
        coordinates = dumps([float(longitude), float(latitude)])
        batch.append(
            b'%s{"type":"Feature","id":%d,"geometry":{"type":"Point","coordinates":%s},"properties":%s}'
            % (separator, incident_id, coordinates, properties)
        )
        separator = b","
        if len(batch) == records.CHUNK:
            yield b"".join(batch), len(batch)
            batch = []
    yield b"".join(batch) + b"]}", len(batch)


def _json_list(incidents, audience, fields) -> Iterator[tuple[bytes, int]]:
    """A JSON list, one record a line (what `import_incidents` reads back)."""
    yield b"[", 0
    separator = b"\n"
    for _, _, _, body in records.in_chunks(incidents, audience):
        yield separator + (dumps(project(body, fields)) if fields else body), 1
        separator = b",\n"
    yield b"\n]\n", 0
