"""The one FilterSet for incidents: the list, GeoJSON, CSV, stats, countries and export all use it, so a
filter means the same everywhere.

Strict by design (API.md "Filters"): an invalid, empty, repeated or unknown parameter answers 400 naming
it, never a silent "match everything". django-filter and DRF are lenient by default; each place where
they would be is closed here (see DESIGN.md "Pitfalls").
"""

import copy
import datetime
import math

from django import forms
from django.core.validators import validate_slug
from django.db.models import Exists, F, FloatField, Func, OuterRef, Q, QuerySet
from django_countries import countries
from django_filters import rest_framework as filters
from django_filters.fields import BaseCSVField, IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError

from incidents.choices import (
    ActorKind,
    Credibility,
    DatePrecision,
    GeoPrecision,
    IncidentType,
    QuantityPrecision,
    Reliability,
    SourceType,
    Status,
    Verification,
    WeaponCategory,
)
from incidents.limits import (
    EARLIEST_DATETIME,
    LATEST_DATETIME,
    MAX_ID,
    MAX_LIST_ITEMS,
    MAX_Q_LENGTH,
    MAX_Q_TERMS,
    MAX_QUANTITY,
    MAX_RADIUS_KM,
    MAX_WEAPONS,
)
from incidents.models import Actor, Citation, Incident, IncidentActor, IncidentRemoval, IncidentTag, Source, WeaponItem
from incidents.search import search_terms, term_matches
from incidents.selectors import is_editor

ALWAYS_ALLOWED = frozenset({"format", "_"})
EARTH_RADIUS_KM = 6371.0088


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


# --- The FilterSet --------------------------------------------------------------------------------

ORDERING_FIELDS = ("occurred_on", "reported_on", "updated_at", "country", "weapons_total", "id")


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


class IncidentFilterSet(StrictFilterSet):
    """Every filter of API.md "Filters" and "Provenance and sync"."""

    extra_parameters = frozenset({"limit", "offset", "fields"})  # `fields` is read by the view

    country = ChoiceListFilter(
        field_name="country",
        choices=COUNTRY_CHOICES,
        normalize=str.upper,
        help_text="ISO 3166-1 alpha-2 country codes, comma-separated, any case (e.g. FI,SE)",
    )
    occurred_after = IsoDateFilter(
        field_name="occurred_on", lookup_expr="gte", help_text="occurred on or after (YYYY-MM-DD)"
    )
    occurred_before = IsoDateFilter(
        field_name="occurred_on", lookup_expr="lte", help_text="occurred on or before (YYYY-MM-DD)"
    )
    reported_after = IsoDateFilter(
        field_name="reported_on", lookup_expr="gte", help_text="first reported on or after (YYYY-MM-DD)"
    )
    reported_before = IsoDateFilter(
        field_name="reported_on", lookup_expr="lte", help_text="first reported on or before (YYYY-MM-DD)"
    )
    incident_type = ChoiceListFilter(
        field_name="incident_type", choices=IncidentType.choices, help_text="incident types"
    )
    verification = ChoiceListFilter(
        field_name="verification", choices=Verification.choices, help_text="verification states"
    )
    status = ChoiceListFilter(
        field_name="status",
        choices=Status.choices,
        help_text="publication states (non-editors only ever see published incidents)",
    )
    date_precision = ChoiceListFilter(
        field_name="date_precision", choices=DatePrecision.choices, help_text="date precisions"
    )
    geo_precision = ChoiceListFilter(
        field_name="geo_precision", choices=GeoPrecision.choices, help_text="geo precisions"
    )
    weapon_category = ChoiceListFilter(
        choices=WeaponCategory.choices,
        method="filter_weapon_category",
        help_text="incidents with at least one weapon of these categories",
    )
    quantity_precision = ChoiceListFilter(
        choices=QuantityPrecision.choices,
        method="filter_quantity_precision",
        help_text="incidents with a weapon whose quantity is given with these precisions",
    )
    suspected_origin = ChoiceListFilter(
        choices=COUNTRY_CHOICES,
        normalize=str.upper,
        method="filter_suspected_origin",
        help_text="incidents with a weapon suspected to come from these countries (alpha-2)",
    )
    actor = IntegerListFilter(method="filter_actor", help_text="actor ids")
    actor_kind = ChoiceListFilter(choices=ActorKind.choices, method="filter_actor_kind", help_text="actor kinds")
    tag = SlugListFilter(method="filter_tag", validators=[validate_slug], help_text="tag slugs")
    source_type = ChoiceListFilter(
        choices=SourceType.choices, method="filter_source_type", help_text="incidents cited by sources of these types"
    )
    publisher = filters.CharFilter(
        method="filter_publisher", max_length=200, help_text="incidents cited by this publisher (exact, any case)"
    )
    source_reliability = ChoiceListFilter(
        choices=Reliability.choices,
        normalize=str.upper,
        method="filter_source_reliability",
        help_text="incidents cited by a source of these Admiralty reliability grades: "
        + "; ".join(label for _, label in Reliability.choices),
    )
    min_credibility = IntegerFilter(
        method="filter_min_credibility",
        min_value=1,
        max_value=6,
        help_text="incidents with at least one citation graded this credible or better (1 is best, 6 = cannot "
        "be judged, so 2 matches 1 and 2): " + "; ".join(label for _, label in Credibility.choices),
    )
    min_weapons = IntegerFilter(
        field_name="weapons_total",
        lookup_expr="gte",
        min_value=0,
        max_value=MAX_QUANTITY * MAX_WEAPONS,
        help_text="at least this many weapons in total",
    )
    has_coordinates = StrictBooleanFilter(method="filter_has_coordinates", help_text="true or false")
    bbox = BoundingBoxFilter(
        method="filter_bbox", help_text="min_lon,min_lat,max_lon,max_lat (WGS84, GeoJSON order, min < max)"
    )
    lat = FloatFilter(
        method="filter_radius_part", min_value=-90, max_value=90, help_text="centre latitude (with lon and radius_km)"
    )
    lon = FloatFilter(
        method="filter_radius_part",
        min_value=-180,
        max_value=180,
        help_text="centre longitude (with lat and radius_km)",
    )
    radius_km = FloatFilter(
        method="filter_radius",
        validators=[must_be_positive],
        max_value=MAX_RADIUS_KM,
        help_text=f"great-circle radius in km, 0 < radius_km <= {MAX_RADIUS_KM} (with lat and lon)",
    )
    q = SearchTextFilter(
        method="filter_q",
        max_length=MAX_Q_LENGTH,
        help_text=f"free text (case- and accent-insensitive; at most {MAX_Q_LENGTH} characters and {MAX_Q_TERMS} "
        "distinct terms) over titles, summaries, places, actors and sources",
    )
    updated_since = BoundedDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="updated at or after this ISO 8601 date-time (years 1900 to 9998 in UTC)",
    )
    ordering = TieBreakingOrderingFilter(
        fields=ORDERING_FIELDS,
        help_text=f"comma-separated, '-' for descending: {', '.join(ORDERING_FIELDS)}; id breaks ties; "
        "default -occurred_on,-id",
    )

    class Meta(StrictFilterSet.Meta):
        model = Incident

    # Relations are filtered with EXISTS, so an incident is never counted twice.

    def filter_weapon_category(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        return queryset.filter(Exists(WeaponItem.objects.filter(incident=OuterRef("pk"), category__in=value)))

    def filter_quantity_precision(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        weapons = WeaponItem.objects.filter(incident=OuterRef("pk"), quantity_precision__in=value)
        return queryset.filter(Exists(weapons.exclude(quantity=None)))

    def filter_suspected_origin(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        return queryset.filter(Exists(WeaponItem.objects.filter(incident=OuterRef("pk"), suspected_origin__in=value)))

    def filter_actor(self, queryset: QuerySet, name: str, value: list[int]) -> QuerySet:
        return queryset.filter(Exists(IncidentActor.objects.filter(incident=OuterRef("pk"), actor_id__in=value)))

    def filter_actor_kind(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        return queryset.filter(Exists(IncidentActor.objects.filter(incident=OuterRef("pk"), actor__kind__in=value)))

    def filter_tag(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        return queryset.filter(Exists(IncidentTag.objects.filter(incident=OuterRef("pk"), tag__slug__in=value)))

    def filter_source_type(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        return queryset.filter(Exists(Citation.objects.filter(incident=OuterRef("pk"), source__source_type__in=value)))

    def filter_publisher(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Exists(Citation.objects.filter(incident=OuterRef("pk"), source__publisher__iexact=value.strip()))
        )

    def filter_source_reliability(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        return queryset.filter(Exists(Citation.objects.filter(incident=OuterRef("pk"), source__reliability__in=value)))

    def filter_min_credibility(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        return queryset.filter(Exists(Citation.objects.filter(incident=OuterRef("pk"), credibility__lte=value)))

    def filter_has_coordinates(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(latitude__isnull=not value)

    def filter_bbox(self, queryset: QuerySet, name: str, value: tuple) -> QuerySet:
        min_lon, min_lat, max_lon, max_lat = value
        return queryset.filter(
            latitude__gte=min_lat, latitude__lte=max_lat, longitude__gte=min_lon, longitude__lte=max_lon
        )

    def filter_radius_part(self, queryset: QuerySet, name: str, value: float) -> QuerySet:
        return queryset  # lat and lon are applied with radius_km

    def filter_radius(self, queryset: QuerySet, name: str, value: float) -> QuerySet:
        lat, lon = self.form.cleaned_data["lat"], self.form.cleaned_data["lon"]
        return within_radius(queryset, lat=lat, lon=lon, radius_km=value)

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        editor = is_editor(getattr(self.request, "user", None))
        for term in search_terms(value):
            queryset = queryset.filter(term_matches(term, private=editor))
        return queryset


class IncidentAggregateFilterSet(IncidentFilterSet):
    """The same filters for `stats/` and `countries/`, which take no ordering, paging or field selection."""

    ordering = None  # removes the inherited filter, as in Django forms
    extra_parameters = frozenset()


class IncidentStatsFilterSet(IncidentAggregateFilterSet):
    extra_parameters = frozenset({"group_by"})


def within_radius(queryset: QuerySet, *, lat: float, lon: float, radius_km: float) -> QuerySet:
    """Incidents within a great-circle radius: an index-friendly box first, then the exact distance."""
    lat_delta = math.degrees(radius_km / EARTH_RADIUS_KM)
    box = Q(latitude__gte=max(-90.0, lat - lat_delta), latitude__lte=min(90.0, lat + lat_delta))
    cos_lat = math.cos(math.radians(lat))
    near_pole = lat + lat_delta >= 90 or lat - lat_delta <= -90
    if not near_pole and cos_lat > 0:
        lon_delta = math.degrees(radius_km / (EARTH_RADIUS_KM * cos_lat))
        if lon_delta < 180:
            west, east = lon - lon_delta, lon + lon_delta
            if west < -180:  # the box crosses the antimeridian: two longitude ranges
                box &= Q(longitude__gte=west + 360) | Q(longitude__lte=east)
            elif east > 180:
                box &= Q(longitude__gte=west) | Q(longitude__lte=east - 360)
            else:
                box &= Q(longitude__gte=west, longitude__lte=east)
    return queryset.filter(box).alias(distance_km=DistanceKm(lat, lon)).filter(distance_km__lte=radius_km)


class DistanceKm(Func):
    """Great-circle (haversine) distance from a point to each incident's coordinates, with the argument of
    asin capped at 1 against rounding. One SQL template rather than a tree of Django functions: building
    and compiling that tree cost a quarter of a radius request."""

    output_field = FloatField()
    template = (
        "2 * %s * ASIN(SQRT({least}(1.0, POWER(SIN((RADIANS(CAST({lat} AS double precision)) - %s) / 2), 2) "
        "+ %s * COS(RADIANS(CAST({lat} AS double precision))) "
        "* POWER(SIN((RADIANS(CAST({lon} AS double precision)) - %s) / 2), 2))))"
    )

    def __init__(self, lat: float, lon: float):
        super().__init__(F("latitude"), F("longitude"))
        self.lat, self.lon = math.radians(lat), math.radians(lon)

    def as_sql(self, compiler, connection, **extra_context):
        (lat_sql, lat_params), (lon_sql, lon_params) = (compiler.compile(e) for e in self.source_expressions)
        if lat_params or lon_params:
            raise ValueError("coordinate columns take no parameters")
        least = "MIN" if connection.vendor == "sqlite" else "LEAST"  # SQLite's two-argument MIN is LEAST
        sql = self.template.format(least=least, lat=lat_sql, lon=lon_sql)
        return sql, (EARTH_RADIUS_KM, self.lat, math.cos(self.lat), self.lon)


class SourceFilterSet(StrictFilterSet):
    q = filters.CharFilter(method="filter_q", max_length=MAX_Q_LENGTH, help_text="text in the URL, title or publisher")
    source_type = ChoiceListFilter(field_name="source_type", choices=SourceType.choices, help_text="source types")
    publisher = filters.CharFilter(
        field_name="publisher", lookup_expr="iexact", help_text="publisher (exact, any case)"
    )

    class Meta(StrictFilterSet.Meta):
        model = Source

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(url__icontains=value) | Q(title__icontains=value) | Q(publisher__icontains=value))


class ActorFilterSet(StrictFilterSet):
    q = filters.CharFilter(method="filter_q", max_length=MAX_Q_LENGTH, help_text="text in the actor's name")
    kind = ChoiceListFilter(field_name="kind", choices=ActorKind.choices, help_text="actor kinds")

    class Meta(StrictFilterSet.Meta):
        model = Actor

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        matches = Q(name__icontains=value)
        if not is_editor(getattr(self.request, "user", None)):
            matches &= ~Q(kind=ActorKind.INDIVIDUAL)  # names of individuals are not searchable by the public
        return queryset.filter(matches)


class GeocodeQueryForm(StrictQueryForm):
    """The parameters of `geocode/`: what to look up, and in which country."""

    q = forms.CharField(max_length=MAX_Q_LENGTH, help_text="a place name")
    country = NormalizedChoiceField(choices=COUNTRY_CHOICES, normalize=str.upper, help_text="ISO 3166-1 alpha-2")


def ensure_only_parameters(query, allowed: frozenset[str] = frozenset()) -> None:
    """For endpoints without a FilterSet: any parameter but `allowed` (and `format`, `_`) is a 400."""
    known = allowed | ALWAYS_ALLOWED
    unknown = sorted(name for name in query if name not in known)
    if unknown:
        listed = ", ".join(sorted(allowed)) or "none"
        raise ValidationError({name: [f"Unknown parameter. Known parameters: {listed}."] for name in unknown})


class RemovalFilterSet(StrictFilterSet):
    """`incidents/deleted/?since=…`: incidents that left the caller's view at or after a time."""

    since = BoundedDateTimeFilter(
        field_name="removed_at",
        lookup_expr="gte",
        help_text="removed at or after this ISO 8601 date-time (years 1900 to 9998 in UTC)",
    )

    class Meta(StrictFilterSet.Meta):
        model = IncidentRemoval
