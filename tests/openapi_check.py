"""Every API response a test receives is checked against the OpenAPI document by openapi-core, a strict
validator nobody on this project wrote: a status code, content type or body shape that the document does
not describe fails the test that produced it (see `conftest.responses_match_the_schema`)."""

import functools
import json
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import PathNotFound
from werkzeug.datastructures import Headers, ImmutableMultiDict

# Answers that are not the API's JSON: the document itself, its HTML UI, and CSV (a string in the document).
NOT_CHECKED_PATHS = ("/api/v1/schema/", "/api/v1/docs/")
CHECKED_CONTENT_TYPES = ("application/json", "application/geo+json")


_generating = threading.Lock()  # drf-spectacular's generator is not thread-safe (tests write from threads)


def openapi() -> OpenAPI:
    with _generating:
        return _openapi()


@functools.cache
def _openapi() -> OpenAPI:
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    document = SchemaGenerator().get_schema(request=None, public=True)
    # Through the JSON that `schema/?format=json` serves, as clients read it.
    config = Config(extra_media_type_deserializers={"application/geo+json": json.loads})
    return OpenAPI.from_dict(json.loads(OpenApiJsonRenderer().render(document)), config=config)


@dataclass
class CheckedRequest:
    host_url: str
    path: str
    method: str
    parameters: RequestParameters = field(default_factory=RequestParameters)
    body: bytes | None = None
    content_type: str = "application/json"


@dataclass
class CheckedResponse:
    data: bytes
    status_code: int
    content_type: str
    headers: Headers


def should_check(path: str, response) -> bool:
    if not path.startswith("/api/v1/") or path.startswith(NOT_CHECKED_PATHS):
        return False
    if response.status_code == 500:
        return False  # never documented: the tests that provoke one on purpose check its body themselves
    if response.status_code == 405:
        return False  # a method the document has no operation for (it describes the allowed ones)
    content_type = response.headers.get("Content-Type", "")
    if response.status_code == 304:
        return True
    return content_type.split(";")[0].strip() in CHECKED_CONTENT_TYPES


def check(method: str, url: str, response, body: bytes) -> None:
    """Raise (openapi-core's error, with the request named) unless the document describes this answer."""
    parts = urlsplit(url)
    request = CheckedRequest(
        host_url="http://testserver",
        path=parts.path,
        method=method.lower(),
        parameters=RequestParameters(query=ImmutableMultiDict([])),
    )
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    checked = CheckedResponse(
        data=body,
        status_code=response.status_code,
        content_type=content_type,
        headers=Headers(list(response.headers.items())),
    )
    try:
        openapi().validate_response(request, checked)
    except PathNotFound:
        if response.status_code != 404:
            raise
        return  # a path the API does not have (its JSON 404 is checked by the tests themselves)
    except Exception as error:  # openapi-core's errors carry their causes; name the request as well
        causes = getattr(error, "schema_errors", None) or [getattr(error, "__cause__", None)]
        detail = "; ".join(str(cause)[:300] for cause in causes if cause)
        raise AssertionError(
            f"{method} {url} answered {response.status_code} {content_type}, not as the OpenAPI document says: "
            f"{str(error)[:500]} {detail} body: {body[:300]!r}"
        ) from error
