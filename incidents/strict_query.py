"""Strict query parameters (API.md "Filters"): the fields, filters and form that refuse an invalid, empty,
repeated or unknown parameter with a message naming it, instead of silently matching everything.
django-filter and DRF are lenient by default; each place where they would be is closed here (see DESIGN.md
"Pitfalls"). `incidents.filters` builds the domain's FilterSets from these pieces.
"""

import copy
import datetime
import math

from django import forms
from django.core.exceptions import ValidationError
from django_countries import countries
from django_filters import rest_framework as filters
from django_filters.fields import BaseCSVField, IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from incidents.limits import EARLIEST_DATETIME, LATEST_DATETIME, MAX_ID, MAX_LIST_ITEMS, MAX_Q_TERMS
from incidents.search import search_terms

ALWAYS_ALLOWED = frozenset({"format", "_"})


def must_be_positive(value: float) -> None:
    if value is not None and value <= 0:
        raise forms.ValidationError("Must be greater than 0.", code="min_value")


class SharedChoices(tuple):
    """Choices that never change, shared rather than deep-copied: django-filter copies every filter, and
    Django every form field, on each request, and ~250 countries twice made that the cost of a list."""

    def __deepcopy__(self, memo):
        return self


def country_choices() -> SharedChoices:
    return SharedChoices((country.code, country.name) for country in countries)


# Named once in the OpenAPI document (settings.SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]).
COUNTRY_CHOICES = country_choices()


# --- Fields: parse and validate one parameter each ------------------------------------------------


class StrictCSVField(BaseCSVField):
    """A comma-separated list with no empty items (`country=FI,` is a mistake, not "FI or anything")."""

    def clean(self, value):
        if value is not None and (not value or any(item.strip() == "" for item in value)):
            raise forms.ValidationError("Give a comma-separated list without empty items.", code="empty_item")
        if value is not None and len(value) > MAX_LIST_ITEMS:
            raise forms.ValidationError(f"Give at most {MAX_LIST_ITEMS} items.", code="too_many_items")
        return super().clean(value)


class NormalizedChoiceField(forms.ChoiceField):
    """A choice that ignores case: codes are upper-cased, enum values lower-cased before the check."""

    def __init__(self, *args, normalize=str.lower, **kwargs):
        self.normalize = normalize
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        return self.normalize(super().to_python(value).strip())

    def __deepcopy__(self, memo):
        # Every request's form copies its fields; the choices (and the widget holding them) never change
        # once built, so they are shared instead of copied and normalised again (see SharedChoices).
        result = copy.copy(self)
        memo[id(self)] = result
        result.widget = copy.copy(self.widget)
        result.error_messages = self.error_messages.copy()
        result.validators = self.validators[:]
        return result


class StrictBooleanField(forms.Field):
    """Only `true` or `false`; Django's NullBooleanField would turn anything else into "no filter"."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value.lower() in {"true", "false"}:
            return value.lower() == "true"
        raise forms.ValidationError("Enter true or false.", code="invalid")


class BoundingBoxField(forms.Field):
    """`min_lon,min_lat,max_lon,max_lat` in WGS84, GeoJSON order, min < max."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        parts = value.split(",")
        if len(parts) != 4:
            raise forms.ValidationError("Enter min_lon,min_lat,max_lon,max_lat.", code="invalid")
        try:
            min_lon, min_lat, max_lon, max_lat = (float(part) for part in parts)
        except ValueError:
            raise forms.ValidationError(
                "Enter four numbers: min_lon,min_lat,max_lon,max_lat.", code="invalid"
            ) from None
        if not all(math.isfinite(number) for number in (min_lon, min_lat, max_lon, max_lat)):
            raise forms.ValidationError("Enter finite numbers.", code="invalid")
        if not (-180 <= min_lon < max_lon <= 180):
            raise forms.ValidationError("Longitudes must be within -180..180 with min_lon < max_lon.", code="range")
        if not (-90 <= min_lat < max_lat <= 90):
            raise forms.ValidationError("Latitudes must be within -90..90 with min_lat < max_lat.", code="range")
        return (min_lon, min_lat, max_lon, max_lat)


class BoundedDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time whose year, once converted to UTC, lies in 1900..9998: both databases hold and
    compare it (SQLite overflowed below year 1, PostgreSQL past 9999), and no sync needs more."""

    def clean(self, value):
        moment = super().clean(value)
        if moment is None:
            return None
        try:
            in_utc = moment.astimezone(datetime.UTC)
        except OverflowError:
            in_utc = None
        if in_utc is None or not EARLIEST_DATETIME <= in_utc <= LATEST_DATETIME:
            raise forms.ValidationError("Give a date-time from 1900 to 9998 (after conversion to UTC).", code="range")
        return in_utc


class SearchTextField(forms.CharField):
    """Free text of at most `MAX_Q_TERMS` distinct terms (repeated terms count once): each term is a
    condition on every candidate row, so their number is what a query costs."""

    def clean(self, value):
        text = super().clean(value)
        if text and len(search_terms(text)) > MAX_Q_TERMS:
            raise forms.ValidationError(
                f"Give at most {MAX_Q_TERMS} distinct terms; {len(search_terms(text))} were given.", code="too_many"
            )
        return text


class FiniteFloatField(forms.FloatField):
    """A float that refuses `nan` and `inf`."""

    def validate(self, value):
        super().validate(value)
        if value is not None and not math.isfinite(value):
            raise forms.ValidationError("Enter a finite number.", code="invalid")


# --- Filters --------------------------------------------------------------------------------------


class ChoiceListFilter(filters.BaseInFilter, filters.ChoiceFilter):
    """`a,b,c`: any of these choices, case-insensitive; unknown values are a 400."""

    base_field_class = StrictCSVField
    field_class = NormalizedChoiceField


@extend_schema_field(OpenApiTypes.INT)
class IntegerListFilter(filters.BaseInFilter, filters.Filter):
    base_field_class = StrictCSVField
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        # Ids are 64-bit: a larger number cannot match, and SQLite cannot even compare it in IN (...).
        kwargs.setdefault("min_value", -MAX_ID - 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class SlugListFilter(filters.BaseInFilter, filters.CharFilter):
    base_field_class = StrictCSVField


@extend_schema_field(OpenApiTypes.INT)
class IntegerFilter(filters.Filter):
    field_class = forms.IntegerField


@extend_schema_field(OpenApiTypes.DOUBLE)
class FloatFilter(filters.Filter):
    field_class = FiniteFloatField


@extend_schema_field(OpenApiTypes.DATETIME)
class BoundedDateTimeFilter(filters.Filter):
    field_class = BoundedDateTimeField


@extend_schema_field(OpenApiTypes.STR)
class SearchTextFilter(filters.Filter):
    field_class = SearchTextField


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(filters.Filter):
    field_class = StrictBooleanField


@extend_schema_field({"type": "string", "pattern": r"^-?[\d.]+,-?[\d.]+,-?[\d.]+,-?[\d.]+$"})
class BoundingBoxFilter(filters.Filter):
    field_class = BoundingBoxField


class IsoDateFilter(filters.DateFilter):
    """`YYYY-MM-DD` only (Django's date field would also take `10/25/06`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        super().__init__(*args, **kwargs)


class TieBreakingOrderingFilter(filters.OrderingFilter):
    """Orders by the requested fields, then by `id`, so pages never overlap or leave gaps."""

    base_field_class = StrictCSVField

    def filter(self, qs, value):
        if not value:
            return qs
        ordering = [self.get_ordering_value(param) for param in value]
        if not any(field.lstrip("-") == "id" for field in ordering):
            ordering.append("id")
        return qs.order_by(*ordering)


# --- The form: rules across parameters, and the strict-parameter check ----------------------------


class StrictQueryForm(forms.Form):
    """Rejects unknown, repeated and empty parameters, and checks the rules that span parameters."""

    extra_parameters: frozenset[str] = frozenset()

    def _clean_fields(self):
        """Clean only the parameters given (and required ones): every filter is optional, and cleaning the
        ~35 absent ones of every request cost more than the query they select. Absent ones stay out of
        `cleaned_data`, which django-filter reads as "no filter"."""
        for name, field in self.fields.items():
            if name not in self.data and not field.required:
                continue
            try:
                self.cleaned_data[name] = field.clean(self[name].data)
                if hasattr(self, f"clean_{name}"):
                    self.cleaned_data[name] = getattr(self, f"clean_{name}")()
            except ValidationError as error:
                self.add_error(name, error)

    def clean(self):
        cleaned = super().clean()
        allowed = set(self.fields) | ALWAYS_ALLOWED | self.extra_parameters
        for name in self.data:
            values = self.data.getlist(name)
            if name not in allowed:
                self._parameter_error(name, f"Unknown parameter. Known parameters: {', '.join(sorted(allowed))}.")
            elif len(values) > 1:
                self._parameter_error(name, "Give this parameter once; separate several values with commas.")
            elif values[0].strip() == "" and name != "_":
                self._parameter_error(name, "This parameter is empty; leave it out to not filter on it.")
        self._check_range(cleaned, "occurred_after", "occurred_before")
        self._check_range(cleaned, "reported_after", "reported_before")
        self._check_radius(cleaned)
        return cleaned

    def _parameter_error(self, name: str, message: str) -> None:
        # Unknown names have no form field, so the error is set directly; a field's own error is kept.
        if name not in self._errors:
            self._errors[name] = self.error_class([message])

    def _check_range(self, cleaned: dict, start: str, end: str) -> None:
        if start in self.fields and cleaned.get(start) and cleaned.get(end) and cleaned[start] > cleaned[end]:
            self.add_error(start, f"{start} must not be later than {end}.")

    def _check_radius(self, cleaned: dict) -> None:
        triple = ("lat", "lon", "radius_km")
        if not set(triple) <= set(self.fields):
            return
        given = [name for name in triple if name in self.data]
        if given and len(given) < 3:
            missing = ", ".join(name for name in triple if name not in given)
            self.add_error("lat", f"lat, lon and radius_km go together; missing: {missing}.")


class CopiedShallow(dict):
    """A FilterSet's filters. django-filter deep-copies them for every request, to set each copy's
    `parent` and `model`; a shallow copy of each does that too, and the deep copy of ~35 filters with their
    choices and form fields cost a few milliseconds per request."""

    def __deepcopy__(self, memo):
        return {name: self._copy(filter_) for name, filter_ in self.items()}

    @staticmethod
    def _copy(filter_):
        copied = copy.copy(filter_)
        if copied.method is not None:
            copied.method = filter_.method  # rebinds the filter method (`filter_.filter`) to the copy
        return copied


class SharedFields(dict):
    """A query form's fields, shared by every request's form instead of deep-copied: parsing a query
    string keeps no state on a field (nothing here changes a field's choices, widget or attributes)."""

    def __deepcopy__(self, memo):
        return dict(self)


class StrictFilterSet(filters.FilterSet):
    """A FilterSet whose form refuses unknown, repeated and empty parameters."""

    # Parameters read elsewhere (the paginator's limit and offset), allowed by the strict check.
    extra_parameters: frozenset[str] = frozenset({"limit", "offset"})

    class Meta:
        form = StrictQueryForm
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, editor: bool = False, **kwargs):
        super().__init__(data, queryset, **kwargs)
        self.editor = editor  # whether an editor asks: editors may search what the public may not

    @classmethod
    def get_filters(cls):
        return CopiedShallow(super().get_filters())

    def get_form_class(self):
        # Built once per FilterSet class: building it per request (about 30 fields, two with every country
        # as a choice) cost more than the query it serves.
        cached = type(self).__dict__.get("_strict_form_class")
        if cached is None:
            form_class = super().get_form_class()
            cached = type(form_class.__name__, (form_class,), {"extra_parameters": self.extra_parameters})
            cached.base_fields = SharedFields(cached.base_fields)
            type(self)._strict_form_class = cached
        return cached


def ensure_only_parameters(query, allowed: frozenset[str] = frozenset()) -> None:
    """For endpoints without a FilterSet: any parameter but `allowed` (and `format`, `_`) is a ValidationError
    naming it (a 400 through the API)."""
    known = allowed | ALWAYS_ALLOWED
    unknown = sorted(name for name in query if name not in known)
    if unknown:
        listed = ", ".join(sorted(allowed)) or "none"
        raise ValidationError({name: [f"Unknown parameter. Known parameters: {listed}."] for name in unknown})
