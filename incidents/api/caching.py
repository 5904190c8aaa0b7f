"""HTTP caching and concurrency control (API.md "HTTP behaviour").

- A record's ETag is `"<id>-<version>-<variant>"`: the version moves on every change to what the record
  returns; the variant stands for what the caller sees (visibility, `fields`, format).
- A collection's ETag (list, GeoJSON, CSV, stats, countries) is derived from the global data version, the
  normalised query, the caller's visibility and the format, so it is known before any incident is read:
  a matching `If-None-Match` answers 304 without touching the incidents table.
- `If-Match` on writes is compared on id and version; the services then compare-and-swap on `version`.
"""

import hashlib

from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from incidents.changesets import current_data_version
from incidents.search import search_terms
from incidents.selectors import audience_of

IGNORED_IN_QUERY = {"_"}  # cache-busting


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The record changed since the version given in If-Match; fetch it again."
    default_code = "precondition_failed"


def _digest(*parts) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def visibility(request) -> str:
    return audience_of(request.user)


def response_format(request) -> str:
    renderer = getattr(request, "accepted_renderer", None)
    return getattr(renderer, "format", "json")


def record_etag(request, incident_id: int, version: int, fields) -> str:
    variant = _digest(visibility(request), tuple(fields or ()), response_format(request))[:8]
    return f'"{incident_id}-{version}-{variant}"'


# Collections whose `q` is a plain substring match (`icontains`), not the incidents' folded text search: their
# `q` keys an answer as given (`q=Café` and `q=cafe` may select different rows).
SUBSTRING_Q_KINDS = {"sources", "actors", "transfers"}


def normalised_query(request, *, fold_q: bool = True) -> list[tuple[str, str]]:
    """The query as it selects: sorted, cache-busting left out, `q` as its distinct folded terms (so
    `q=Grenade grenade` is the same answer, the same ETag and the same cache entry as `q=grenade`)."""
    query = []
    for name, value in request.query_params.items():
        if name in IGNORED_IN_QUERY:
            continue
        query.append((name, " ".join(search_terms(value)) if name == "q" and fold_q else value))
    return sorted(query)


def collection_etag(request, kind: str) -> str:
    query = normalised_query(request, fold_q=kind not in SUBSTRING_Q_KINDS)
    version = current_data_version()
    return f'"{kind}-{version}-{_digest(kind, version, visibility(request), response_format(request), query)}"'


def _listed_tags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]


def held_by_client(request, etag: str) -> bool:
    """Does the client's If-None-Match name this representation (or `*`, anything that exists)?"""
    header = request.headers.get("If-None-Match", "")
    return bool(header) and (header.strip() == "*" or etag in _listed_tags(header))


class NotModified(Exception):
    """The client holds the current representation: answered 304 with its ETag (`exceptions`)."""

    def __init__(self, etag: str):
        super().__init__(etag)
        self.etag = etag


class ConditionalGetMixin:
    """ETag and If-None-Match for every GET of a view, in one place (API.md "HTTP behaviour").

    A view says what its answer is keyed by (`etag_for`: by default its collection's kind; a record's view
    looks the record up there, so that one that does not exist is a 404 before any `If-None-Match: *`). A
    matching If-None-Match answers 304 before the answer is built; otherwise the answer carries the ETag."""

    etag_kind = ""

    def etag_for(self, request) -> str | None:
        if getattr(self, "detail", False):
            self.record = self.get_object()
            return collection_etag(request, f"{self.etag_kind}-{self.record.pk}")
        return collection_etag(request, self.etag_kind)

    def retrieve(self, request, *args, **kwargs):
        return Response(self.get_serializer(self.record).data)  # looked up once, by `etag_for`

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # content negotiation, credentials, permissions, throttles
        self.etag = self.etag_for(request) if request.method in ("GET", "HEAD") else None
        if self.etag is not None and held_by_client(request, self.etag):
            raise NotModified(self.etag)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if getattr(self, "etag", None) is not None and response.status_code == status.HTTP_200_OK:
            response["ETag"] = self.etag
        return response


def expected_version(request, record_id: int) -> int | None:
    """The version an `If-Match` header names for this record; None when there is no header (or `*`)."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    for tag in _listed_tags(header):
        parts = tag.strip('"').split("-")
        if len(parts) >= 2 and parts[0] == str(record_id) and parts[1].isdigit():
            return int(parts[1])
    raise PreconditionFailed("If-Match names no version of this record.")
