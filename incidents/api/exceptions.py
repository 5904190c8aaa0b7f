"""One exception handler for the API: every error is JSON, field errors are flat and named as API.md
names them (`sources[0].title`), and domain exceptions get their HTTP status."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from incidents.api.caching import NotModified
from incidents.services import VersionConflict


class MergedIncident(exceptions.APIException):
    """The incident was merged into another: 410 with `merged_into` (API.md "Endpoints")."""

    status_code = status.HTTP_410_GONE
    default_code = "merged"

    def __init__(self, merged_into: int | None):
        # None: merged into an incident the caller cannot see, whose id is not shown either.
        into = f"incident {merged_into}" if merged_into is not None else "another incident"
        super().__init__(f"This incident was merged into {into}.")
        self.merged_into = merged_into


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """{"weapons": [{}, {"quantity": ["…"]}]} becomes {"weapons[1].quantity": ["…"]}."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                name = f"{prefix}[{key}]"  # an item of a list
            elif key in ("__all__", "non_field_errors"):
                name = prefix or "non_field_errors"  # an error of the object itself
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_errors(value, name))
        return flat
    if isinstance(detail, list) and any(isinstance(item, (dict, list)) for item in detail):
        flat = {}
        for index, item in enumerate(detail):
            if item:
                flat.update(flatten_errors(item, f"{prefix}[{index}]"))
        return flat
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or "non_field_errors": [str(message) for message in messages]}


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, (ProtectedError, RestrictedError)):
        return Response(
            {"detail": "This record is still referenced by incidents and cannot be deleted."},
            status=status.HTTP_409_CONFLICT,
        )
    elif isinstance(exc, VersionConflict):
        return Response(
            {"detail": str(exc), "current_version": exc.current_version}, status=status.HTTP_412_PRECONDITION_FAILED
        )
    elif isinstance(exc, NotModified):
        return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": exc.etag})
    elif isinstance(exc, MergedIncident):
        return Response({"detail": str(exc.detail), "merged_into": exc.merged_into}, status=exc.status_code)
    elif isinstance(exc, IntegrityError):
        # Only a concurrent write can get past validation to a constraint: ask the client to retry.
        return Response(
            {"detail": "A concurrent change conflicted with this one; retry."}, status=status.HTTP_409_CONFLICT
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        response.data = flatten_errors(response.data)
    return response
