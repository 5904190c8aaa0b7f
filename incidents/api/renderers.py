"""JSON written by orjson: the same output as DRF's JSONRenderer (compact, UTF-8, DRF's encoding of
dates, decimals and lazy strings), several times faster on a page of records."""

from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

from incidents import encoding

# DRF's encoder writes what orjson would write differently (datetimes: milliseconds and `Z`) or not at all.
_drf_default = JSONEncoder().default


def dumps(data) -> bytes:
    return encoding.dumps(data, default=_drf_default)


class OrjsonRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if self.get_indent(accepted_media_type, renderer_context or {}):
            return super().render(data, accepted_media_type, renderer_context)  # `; indent=` asked for
        return dumps(data)


class GeoJSONRenderer(BaseRenderer):
    """Selects GeoJSON by `?format=geojson` or `Accept: application/geo+json`; the list streams it itself
    (`incidents.exports`), so this only ever renders data when something else answers (never, today)."""

    media_type = "application/geo+json"
    format = "geojson"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return dumps(data)


class CSVRenderer(BaseRenderer):
    """Selects CSV by `?format=csv` or `Accept: text/csv`; the list streams it itself (`incidents.exports`)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return dumps(data)
