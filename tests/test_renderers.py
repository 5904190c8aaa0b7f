"""The orjson renderer writes byte for byte what DRF's JSONRenderer writes (settings: compact, UTF-8)."""

import datetime
import decimal
import uuid

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer

from incidents.api.renderers import OrjsonRenderer

PAYLOADS = [
    {"id": 1, "title": "Malmö – “quoted” \\ slash", "none": None, "flag": True, "float": 59.33, "big": 2**53},
    {"at": datetime.datetime(2022, 10, 30, 12, 5, 7, 123456, tzinfo=datetime.UTC), "on": datetime.date(2022, 1, 2)},
    {"naive": datetime.datetime(2022, 10, 30, 12, 5, 7), "time": datetime.time(8, 30, 1, 5000)},
    {"decimal": decimal.Decimal("59.329300"), "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678")},
    {"errors": {"country": [ErrorDetail("Not a valid choice.", code="invalid_choice")]}},
    {"lazy": gettext_lazy("This field is required."), "nested": [[1, 2], {"a": []}]},
    {"line separators": "a\u2028b\u2029c", "emoji": "🙂", "control": "\x01\t\n"},
    {1: "integer key", "tuple": (1, 2)},
    [],
    "plain string",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_same_bytes_as_drf(payload):
    assert OrjsonRenderer().render(payload) == JSONRenderer().render(payload)


def test_an_indent_asked_for_in_the_media_type_is_honoured():
    rendered = OrjsonRenderer().render({"a": 1}, "application/json; indent=2")
    assert rendered == b'{\n  "a": 1\n}'


def test_nothing_renders_as_an_empty_body():
    assert OrjsonRenderer().render(None) == b""
