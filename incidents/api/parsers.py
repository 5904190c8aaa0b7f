"""The API's request bodies are JSON (API.md "Writing"; the import also takes files, see `uploads`)."""

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from incidents.limits import MAX_JSON_DEPTH


class StrictJSONParser(BaseParser):
    """JSON parsed by orjson (strict: no NaN, no Infinity, UTF-8 only), nested at most `MAX_JSON_DEPTH`
    levels. Python's own parser meets deep nesting with a RecursionError (a 500); orjson stops at its own
    limit, and anything deeper than the contract allows is refused before any field is looked at."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        too_deep = f"JSON nested deeper than {MAX_JSON_DEPTH} levels."
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise ParseError(too_deep if "depth limit" in str(error) else f"JSON parse error - {error}") from None
        if nesting_depth(data) > MAX_JSON_DEPTH:
            raise ParseError(too_deep)
        return data


def nesting_depth(data) -> int:
    """How deeply lists and objects nest in `data` (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest
