"""OpenAPI additions and corrections, so that the document describes what the API answers and generated
clients and strict validators can use it (drf-spectacular documents successes only, and writes some shapes
that OpenAPI 3.0 tools read differently from what was meant)."""

import copy
import re

VALIDATION_ERROR = {
    "type": "object",
    "description": "Each invalid parameter or field, mapped to its messages.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
    "example": {"country": ["Select a valid choice. XX is not one of the available choices."]},
}
DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
GONE = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "merged_into": {"type": "integer", "nullable": True, "description": "null when you cannot see it"},
    },
    "required": ["detail", "merged_into"],
}
UNSAFE_METHODS = {"post", "put", "patch", "delete"}
# GETs that answer If-None-Match
ETAGGED = {"incidents", "sources", "actors", "countries", "stats", "releases", "transfers", "weapons"}
EXPORT_SCHEMAS = {
    "text/csv": {"type": "string", "description": "a header row, then one row per incident"},
    "application/geo+json": {
        "type": "object",
        "description": "RFC 7946 FeatureCollection of the matching incidents that have coordinates",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["type", "id", "geometry", "properties"],
                    "properties": {
                        "type": {"type": "string", "enum": ["Feature"]},
                        "id": {"type": "integer"},
                        "geometry": {
                            "type": "object",
                            "required": ["type", "coordinates"],
                            "properties": {
                                "type": {"type": "string", "enum": ["Point"]},
                                "coordinates": {
                                    "type": "array",
                                    "items": {"type": "number"},
                                    "minItems": 2,
                                    "maxItems": 2,
                                    "description": "[longitude, latitude]",
                                },
                            },
                        },
                        "properties": {"$ref": "#/components/schemas/Incident"},
                    },
                },
            },
        },
    },
}


def _response(description: str, schema_name: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}},
    }


def _bad_request() -> dict:
    # Field errors map names to messages; a body that is not JSON at all gets a single `detail`.
    schema = {"anyOf": [{"$ref": "#/components/schemas/ValidationError"}, {"$ref": "#/components/schemas/Detail"}]}
    return {"description": "Invalid parameters or fields.", "content": {"application/json": {"schema": schema}}}


def _filter_help_texts() -> dict[str, str]:
    from incidents.filters import (
        ActorFilterSet,
        IncidentFilterSet,
        RemovalFilterSet,
        SourceFilterSet,
        TransferFilterSet,
    )

    texts = {}
    for filterset in (ActorFilterSet, SourceFilterSet, TransferFilterSet, IncidentFilterSet, RemovalFilterSet):
        texts.update({name: f.extra.get("help_text") or f.label for name, f in filterset.base_filters.items()})
    return texts


# The response content types of the formats `?format=` selects.
FORMATS = {"application/json": "json", "application/geo+json": "geojson", "text/csv": "csv"}
# A record answered with `fields=` holds only the fields asked for, so none of its keys is always present.
PROJECTED_COMPONENTS = {"Incident"}


def comma_separated_lists(parameter: dict, schemas: dict) -> None:
    """A filter that takes several values takes them comma-separated in one parameter (API.md "Filters"; a
    repeated parameter is a 400). drf-spectacular writes such filters as arrays, which generated clients send
    as `?country=SE&country=FI`; written as a string with a pattern, they send what the API accepts."""
    schema = parameter.get("schema", {})
    if parameter.get("in") != "query" or schema.get("type") != "array":
        return
    items = schema.get("items", {})
    if "$ref" in items:
        items = schemas[items["$ref"].rsplit("/", 1)[-1]]
    values = [value for value in items.get("enum", []) if value is not None]
    if items.get("type") == "integer":
        item_pattern, listed = r"-?\d+", "integers"
    elif parameter["name"] in ("country", "suspected_origin"):
        item_pattern, listed = "[A-Za-z]{2}", "ISO 3166-1 alpha-2 codes"
    elif values:
        item_pattern = "(?:" + "|".join(re.escape(str(value)) for value in values) + ")"
        listed = "any of: " + ", ".join(str(value) for value in values)
    else:
        item_pattern, listed = "[^,]+", "values"
    parameter["schema"] = {"type": "string", "pattern": f"^{item_pattern}(?:,{item_pattern})*$"}
    parameter.pop("explode", None)
    parameter.pop("style", None)
    description = parameter.get("description", "").split("\n\n*")[0]  # drop drf-spectacular's enum bullets
    parameter["description"] = f"{description} (comma-separated {listed})".strip()


def nullable_objects_inline(node, schemas: dict) -> None:
    """`{"allOf": [{"$ref": X}], "nullable": true}` is how drf-spectacular writes a nullable object, and strict
    OpenAPI 3.0 validators read it as *not* nullable (the referenced schema refuses null). Written inline,
    the object's own schema carries `nullable: true` and every validator accepts null."""
    if isinstance(node, dict):
        refs = node.get("allOf")
        if node.get("nullable") and isinstance(refs, list) and len(refs) == 1 and "$ref" in refs[0]:
            target = copy.deepcopy(schemas[refs[0]["$ref"].rsplit("/", 1)[-1]])
            if target.get("type") == "object":
                del node["allOf"]
                node.update({**target, **{key: value for key, value in node.items() if key != "allOf"}})
        for value in node.values():
            nullable_objects_inline(value, schemas)
    elif isinstance(node, list):
        for value in node:
            nullable_objects_inline(value, schemas)


def format_parameter(operation: dict) -> None:
    """Every GET that answers JSON says which `?format=` values it serves."""
    content = operation.get("responses", {}).get("200", {}).get("content", {})
    formats = sorted({FORMATS[kind] for kind in content if kind in FORMATS})
    if not formats:
        return
    parameters = [p for p in operation.setdefault("parameters", []) if p.get("name") != "format"]
    parameters.append(
        {
            "in": "query",
            "name": "format",
            "schema": {"type": "string", "enum": formats},
            "description": f"{', '.join(formats)}; takes precedence over Accept"
            + ("; GeoJSON and CSV hold every match" if len(formats) > 1 else ""),
        }
    )
    operation["parameters"] = parameters


def document_error_responses(result, generator, request, public):
    """Add the 4xx answers every endpoint can give to each operation of the document, and the
    descriptions of filters whose type is annotated by hand (drf-spectacular drops them)."""
    help_texts = _filter_help_texts()
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ValidationError"] = VALIDATION_ERROR
    schemas["Detail"] = DETAIL
    schemas["Gone"] = GONE
    nullable_objects_inline(result, schemas)
    for name in PROJECTED_COMPONENTS:
        schemas[name].pop("required", None)
        schemas[name]["description"] += " Every field is present unless `fields=` selects some."
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            release_file = path.startswith("/api/v1/releases/{version}/{name}")  # one file, of its own type
            if method == "get" and not release_file:
                format_parameter(operation)
            for parameter in operation.get("parameters", []):
                comma_separated_lists(parameter, schemas)
                if parameter.get("in") == "query" and not parameter.get("description"):
                    if help_texts.get(parameter["name"]):
                        parameter["description"] = help_texts[parameter["name"]]
            responses = operation.setdefault("responses", {})
            for content_type, schema in EXPORT_SCHEMAS.items():
                if content_type in responses.get("200", {}).get("content", {}) and not release_file:
                    responses["200"]["content"][content_type] = {"schema": schema}
            has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
            if has_query:
                # gunicorn (and any proxy) refuses request lines over 4 KB before the app sees them.
                responses.setdefault(
                    "414",
                    {"description": "URI too long (answered by the HTTP server).", "content": {"text/html": {}}},
                )
            detail_action = path.endswith(("/similar/", "/history/"))
            takes_no_parameters = (  # any parameter answers 400
                detail_action or path.endswith("}/trace/") or path.startswith("/api/v1/releases/{")
            )
            if has_query or "requestBody" in operation or takes_no_parameters:
                responses.setdefault("400", _bad_request())
            responses.setdefault("429", _response("Too many requests: wait for Retry-After seconds.", "Detail"))
            responses.setdefault("503", _response("The database is unavailable: retry after Retry-After.", "Detail"))
            if "requestBody" in operation:
                limit = "10 MB" if path.endswith("/import/") else "1 MB"
                responses.setdefault("413", _response(f"The request body is larger than {limit}.", "Detail"))
                kinds = ", ".join(operation["requestBody"].get("content", {}))
                responses.setdefault("415", _response(f"The body is not of a documented type ({kinds}).", "Detail"))
            if method in UNSAFE_METHODS or path.endswith(("/history/", "/geocode/")):
                responses.setdefault("401", _response("No credentials, or invalid ones, were given.", "Detail"))
                responses.setdefault("403", _response("The credentials do not allow this.", "Detail"))
            else:  # reads need no credentials, but a token that names no user is refused
                responses.setdefault("401", _response("The credentials given are invalid.", "Detail"))
            if "{" in path:
                responses.setdefault("404", _response("No such record, or not visible to the caller.", "Detail"))
            if method == "delete" and ("/sources/" in path or "/actors/" in path):
                responses.setdefault("409", _response("Still cited by or linked to an incident or transfer.", "Detail"))
            if method == "get" and path.split("/")[3] in ETAGGED and not detail_action:
                responses.setdefault("304", {"description": "Not modified: If-None-Match named the current ETag."})
            if path.startswith("/api/v1/incidents/{"):
                responses.setdefault("410", _response("Merged into another incident: `merged_into`.", "Gone"))
            if method in {"put", "patch", "delete"} and path.startswith("/api/v1/incidents/{"):
                responses.setdefault("412", _response("If-Match named an older version.", "Detail"))
            if method in UNSAFE_METHODS:
                # Only a concurrent write racing this one on a unique value gets this far.
                responses.setdefault("409", _response("A concurrent change conflicted; retry.", "Detail"))
    return result
