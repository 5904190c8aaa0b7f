"""The domain's FilterSets: one for incidents (the list in every format, stats, countries, the export
command, feeds and releases all apply it through `selectors.incidents_filtered`, so a filter means the
same everywhere), and the small ones of sources, actors and the sync feed. The strict parameter machinery
they stand on is `incidents.strict_query`.
"""

from decimal import Decimal

from django import forms
from django.core.validators import validate_slug
from django.db.models import Exists, OuterRef, Q, QuerySet
from django_filters import rest_framework as filters

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
from incidents.geo import BoxRegion, CircleRegion, within
from incidents.limits import (
    EARLIEST_DATE,
    MAX_Q_LENGTH,
    MAX_Q_TERMS,
    MAX_QUANTITY,
    MAX_RADIUS_KM,
    MAX_WEAPONS,
    SERIAL_MAX_LENGTH,
)
from incidents.models import (
    Actor,
    Citation,
    Incident,
    IncidentActor,
    IncidentRemoval,
    IncidentTag,
    Source,
    Transfer,
    WeaponItem,
)
from incidents.search import search_terms, term_matches
from incidents.serials import normal_serial
from incidents.strict_query import (
    COUNTRY_CHOICES,
    BoundedDateTimeFilter,
    BoundingBoxFilter,
    ChoiceListFilter,
    FloatFilter,
    IntegerFilter,
    IntegerListFilter,
    IsoDateFilter,
    NormalizedChoiceField,
    SearchTextFilter,
    SlugListFilter,
    StrictBooleanFilter,
    StrictFilterSet,
    StrictQueryForm,
    TieBreakingOrderingFilter,
    must_be_positive,
)

# The keys of `stats/` (API.md "Stats", and "Releases and feeds" for `grid`).
STATS_KEYS = (
    "country",
    "year",
    "month",
    "incident_type",
    "verification",
    "weapon_category",
    "suspected_origin",
    "actor_kind",
    "grid",
)

# --- The FilterSet --------------------------------------------------------------------------------

ORDERING_FIELDS = ("occurred_on", "reported_on", "updated_at", "country", "weapons_total", "id")


class IncidentFilterSet(StrictFilterSet):
    """Every filter of API.md "Filters" and "Provenance and sync"."""

    extra_parameters = frozenset({"limit", "offset", "fields"})  # `fields` is read by the view
    # Whether `bbox` and radius read the spatial index for their candidates: a page of a region that holds
    # many incidents is found faster by walking the ordering's index and testing each row
    # (`selectors.Selection`).
    spatial_index = True

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
        return within(queryset, BoxRegion(tuple(value)), indexed=self.spatial_index)

    def filter_radius_part(self, queryset: QuerySet, name: str, value: float) -> QuerySet:
        return queryset  # lat and lon are applied with radius_km

    def filter_radius(self, queryset: QuerySet, name: str, value: float) -> QuerySet:
        lat, lon = self.form.cleaned_data["lat"], self.form.cleaned_data["lon"]
        return within(queryset, CircleRegion(lat, lon, value), indexed=self.spatial_index)

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        for term in search_terms(value):
            queryset = queryset.filter(term_matches(term, private=self.editor))
        return queryset


class IncidentAggregateFilterSet(IncidentFilterSet):
    """The same filters for `stats/` and `countries/`, which take no ordering, paging or field selection."""

    ordering = None  # removes the inherited filter, as in Django forms
    extra_parameters = frozenset()


class IncidentStatsFilterSet(IncidentAggregateFilterSet):
    extra_parameters = frozenset({"group_by", "cell"})  # read by `StatsKeyForm`


class StatsKeyForm(forms.Form):
    """What `stats/` aggregates by: `group_by`, and for `grid` the cells' size (in hundredths of a degree, the
    grid rollup's cells)."""

    group_by = forms.ChoiceField(
        choices=[(key, key) for key in STATS_KEYS],
        error_messages={
            "required": f"Choose one of: {', '.join(STATS_KEYS)}.",
            "invalid_choice": f"Choose one of: {', '.join(STATS_KEYS)}.",
        },
    )
    cell = forms.DecimalField(
        required=False,
        min_value=Decimal("0.01"),
        max_value=Decimal("10"),
        max_digits=4,
        decimal_places=2,
        error_messages={"max_decimal_places": "Give the cell size in hundredths of a degree, e.g. 0.5 or 0.05."},
    )

    def clean(self):
        cleaned = super().clean()
        grid = cleaned.get("group_by") == "grid"
        if grid and "cell" not in self.errors and cleaned.get("cell") is None:
            self.add_error("cell", "group_by=grid needs the cells' size in degrees, from 0.01 to 10 (e.g. cell=0.5).")
        if not grid and self.data.get("cell") is not None and "group_by" not in self.errors:
            self.add_error("cell", "cell goes with group_by=grid only.")
        return cleaned


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
        if not self.editor:
            matches &= ~Q(kind=ActorKind.INDIVIDUAL)  # names of individuals are not searchable by the public
        return queryset.filter(matches)


class TransferFilterSet(StrictFilterSet):
    supplier = ChoiceListFilter(
        field_name="supplier", choices=COUNTRY_CHOICES, normalize=str.upper, help_text="supplier countries (alpha-2)"
    )
    recipient = ChoiceListFilter(
        field_name="recipient", choices=COUNTRY_CHOICES, normalize=str.upper, help_text="recipient countries (alpha-2)"
    )
    year = IntegerFilter(
        field_name="year", min_value=EARLIEST_DATE.year, max_value=9999, help_text="year of the transfer"
    )
    weapon_category = ChoiceListFilter(
        field_name="weapon_category", choices=WeaponCategory.choices, help_text="weapon categories"
    )
    q = filters.CharFilter(
        method="filter_q", max_length=MAX_Q_LENGTH, help_text="text in the end user, description or notes"
    )

    class Meta(StrictFilterSet.Meta):
        model = Transfer

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Q(end_user__icontains=value) | Q(description__icontains=value) | Q(notes__icontains=value)
        )


class GeocodeQueryForm(StrictQueryForm):
    """The parameters of `geocode/`: what to look up, and in which country."""

    q = forms.CharField(max_length=MAX_Q_LENGTH, help_text="a place name")
    country = NormalizedChoiceField(choices=COUNTRY_CHOICES, normalize=str.upper, help_text="ISO 3166-1 alpha-2")


class SerialQueryForm(StrictQueryForm):
    """The parameter of `weapons/trace/`: one serial, as seen (compared in its normal form)."""

    serial = forms.CharField(max_length=SERIAL_MAX_LENGTH, help_text="a serial as seen on the weapon")

    def clean_serial(self) -> str:
        if not normal_serial(self.cleaned_data["serial"]):
            raise forms.ValidationError("A serial needs at least one letter or digit.")
        return self.cleaned_data["serial"]


class RemovalFilterSet(StrictFilterSet):
    """`incidents/deleted/?since=…`: incidents that left the caller's view at or after a time."""

    since = BoundedDateTimeFilter(
        field_name="removed_at",
        lookup_expr="gte",
        help_text="removed at or after this ISO 8601 date-time (years 1900 to 9998 in UTC)",
    )

    class Meta(StrictFilterSet.Meta):
        model = IncidentRemoval
