"""GeoJSON and CSV for the incident list: the whole filtered set, streamed row by row, so memory stays
flat whatever the number of rows (API.md "Formats")."""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.http import StreamingHttpResponse
from rest_framework.renderers import BaseRenderer
from rest_framework.utils.encoders import JSONEncoder

from incidents.selectors import in_record_chunks

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CHUNK_SIZE = 500


class GeoJSONRenderer(BaseRenderer):
    """Selects GeoJSON by `?format=geojson` or `Accept: application/geo+json`; the list streams it itself."""

    media_type = "application/geo+json"
    format = "geojson"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data, cls=JSONEncoder).encode()


class CSVRenderer(BaseRenderer):
    """Selects CSV by `?format=csv` or `Accept: text/csv`; the list streams it itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return json.dumps(data, cls=JSONEncoder).encode()


EXPORT_FORMATS = {GeoJSONRenderer.format, CSVRenderer.format}


def csv_cell(value):
    """Nested values become JSON text; text that a spreadsheet would run is prefixed with `'`; numbers stay."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, list | dict):
        return json.dumps(value, cls=JSONEncoder, ensure_ascii=False)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_chunks(records: Iterable[dict], fields: list[str]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(fields)
    for record in records:
        writer.writerow([csv_cell(record.get(name)) for name in fields])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def geojson_chunks(records: Iterable[dict]) -> Iterator[str]:
    """An RFC 7946 FeatureCollection: Point geometries in [longitude, latitude] order."""
    yield '{"type": "FeatureCollection", "features": ['
    separator = ""
    for record in records:
        feature = {
            "type": "Feature",
            "id": record["id"],
            "geometry": {"type": "Point", "coordinates": [record["_longitude"], record["_latitude"]]},
            "properties": {key: value for key, value in record.items() if not key.startswith("_")},
        }
        yield separator + json.dumps(feature, cls=JSONEncoder, ensure_ascii=False)
        separator = ","
    yield "]}"


def streamed_export(queryset, *, export_format: str, serialize, fields: list[str], filename: str):
    """Serialize `queryset` lazily, in chunks, into a streaming GeoJSON or CSV response."""

    def records():
        for incident in in_record_chunks(queryset, CHUNK_SIZE):
            record = serialize(incident)
            if export_format == GeoJSONRenderer.format:
                record["_latitude"] = float(incident.latitude)
                record["_longitude"] = float(incident.longitude)
            yield record

    if export_format == GeoJSONRenderer.format:
        response = StreamingHttpResponse(geojson_chunks(records()), content_type=GeoJSONRenderer.media_type)
    else:
        response = StreamingHttpResponse(csv_chunks(records(), fields), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response
