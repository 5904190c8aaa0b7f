"""OpenAPI additions: the error responses that drf-spectacular leaves out (it documents successes only)."""

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
    "properties": {"detail": {"type": "string"}, "merged_into": {"type": "integer"}},
    "required": ["detail", "merged_into"],
}
UNSAFE_METHODS = {"post", "put", "patch", "delete"}
ETAGGED = {"incidents", "sources", "actors", "countries", "stats"}  # GETs that answer If-None-Match
FORMAT_HELP = "json (default), geojson or csv; takes precedence over Accept. GeoJSON and CSV hold every match."
EXPORT_SCHEMAS = {
    "text/csv": {"type": "string", "description": "a header row, then one row per incident"},
    "application/geo+json": {
        "type": "object",
        "description": "RFC 7946 FeatureCollection of the matching incidents that have coordinates",
        "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": {"type": "object"}},
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
    from incidents.api.filters import ActorFilterSet, IncidentFilterSet, RemovalFilterSet, SourceFilterSet

    texts = {"format": FORMAT_HELP}
    for filterset in (ActorFilterSet, SourceFilterSet, IncidentFilterSet, RemovalFilterSet):
        texts.update({name: f.extra.get("help_text") or f.label for name, f in filterset.base_filters.items()})
    return texts


def document_error_responses(result, generator, request, public):
    """Add the 4xx answers every endpoint can give to each operation of the document, and the
    descriptions of filters whose type is annotated by hand (drf-spectacular drops them)."""
    help_texts = _filter_help_texts()
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ValidationError"] = VALIDATION_ERROR
    schemas["Detail"] = DETAIL
    schemas["Gone"] = GONE
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("description"):
                    if help_texts.get(parameter["name"]):
                        parameter["description"] = help_texts[parameter["name"]]
            responses = operation.setdefault("responses", {})
            for content_type, schema in EXPORT_SCHEMAS.items():
                if content_type in responses.get("200", {}).get("content", {}):
                    responses["200"]["content"][content_type] = {"schema": schema}
            has_query = any(p.get("in") == "query" for p in operation.get("parameters", []))
            if has_query:
                # gunicorn (and any proxy) refuses request lines over 4 KB before the app sees them.
                responses.setdefault(
                    "414",
                    {"description": "URI too long (answered by the HTTP server).", "content": {"text/html": {}}},
                )
            detail_action = path.endswith(("/similar/", "/history/"))  # no parameters: any answers 400
            if has_query or "requestBody" in operation or detail_action:
                responses.setdefault("400", _bad_request())
            responses.setdefault("429", _response("Too many requests: wait for Retry-After seconds.", "Detail"))
            responses.setdefault("503", _response("The database is unavailable: retry after Retry-After.", "Detail"))
            if "requestBody" in operation:
                limit = "10 MB" if path.endswith("/import/") else "1 MB"
                responses.setdefault("413", _response(f"The request body is larger than {limit}.", "Detail"))
            if method in UNSAFE_METHODS or path.endswith(("/history/", "/geocode/")):
                responses.setdefault("401", _response("No credentials were given.", "Detail"))
                responses.setdefault("403", _response("The credentials do not allow this.", "Detail"))
            if "{" in path:
                responses.setdefault("404", _response("No such record, or not visible to the caller.", "Detail"))
            if method == "delete" and ("/sources/" in path or "/actors/" in path):
                responses.setdefault("409", _response("Still cited by or linked to an incident.", "Detail"))
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
