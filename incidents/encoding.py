"""JSON as the API writes it: compact UTF-8 by orjson, the same bytes as DRF's JSONRenderer for the plain
values a record holds (and U+2028/U+2029 escaped, as DRF does: valid JSON, but line ends in JavaScript)."""

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def dumps(data, default=None) -> bytes:
    body = orjson.dumps(data, default=default, option=_OPTIONS)
    if b"\xe2\x80\xa8" in body or b"\xe2\x80\xa9" in body:
        body = body.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
    return body
