"""The domain: incidents with their weapons, citations of sources, actors and tags.

Rules that a single row can check live in each model's `clean()` and, where the database can hold
them, in named constraints. Rules across rows (a published incident needs a citation) and derived
values (`version`, `weapons_total`, `reported_on`) are kept by `incidents.services`.
"""

import datetime
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
    URLValidator,
)
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from incidents.choices import (
    ActorKind,
    Credibility,
    DatePrecision,
    GeoPrecision,
    IncidentType,
    QuantityPrecision,
    Reliability,
    RemovalReason,
    SourceType,
    Stance,
    Status,
    Verification,
    WeaponCategory,
)
from incidents.history_base import HistoricalChangeBase
from incidents.limits import EARLIEST_DATE, MAX_QUANTITY, SERIAL_MAX_LENGTH, SUMMARY_MAX_LENGTH

http_url_validator = URLValidator(schemes=["http", "https"], message="Enter an http or https URL.")
language_code_validator = RegexValidator(
    r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", message="Enter a language code such as fi, sv, en or pt-BR."
)


def history(**kwargs) -> HistoricalRecords:
    """History for a model, with the change id the services stamp on every row."""
    return HistoricalRecords(bases=[HistoricalChangeBase], **kwargs)


def not_in_future(value: datetime.date) -> None:
    if value is not None and value > timezone.localdate():
        raise ValidationError("Date cannot be in the future.", code="future_date")


def not_before_earliest(value: datetime.date) -> None:
    if value is not None and value < EARLIEST_DATE:
        raise ValidationError(f"Date cannot be before {EARLIEST_DATE.isoformat()}.", code="too_early")


DATE_RANGE = [not_before_earliest, not_in_future]


def first_day_of_precision(day: datetime.date, precision: str) -> datetime.date:
    """A month- or year-precise date is stored as the first day of its month or year."""
    if precision == DatePrecision.MONTH:
        return day.replace(day=1)
    if precision == DatePrecision.YEAR:
        return day.replace(month=1, day=1)
    return day


class Tag(models.Model):
    """A free label, addressed by its slug; created on first use."""

    slug = models.SlugField("slug", max_length=64, unique=True)

    history = history()

    class Meta:
        ordering = ["slug"]
        verbose_name = "tag"
        verbose_name_plural = "tags"

    def __str__(self) -> str:
        return self.slug


class Actor(models.Model):
    """A group or person that a source names in connection with incidents."""

    name = models.CharField("name", max_length=200)
    kind = models.CharField("kind", max_length=32, choices=ActorKind.choices, default=ActorKind.UNKNOWN)
    created_at = models.DateTimeField("created at", auto_now_add=True)
    updated_at = models.DateTimeField("updated at", auto_now=True)

    history = history()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "actor"
        verbose_name_plural = "actors"
        constraints = [
            models.UniqueConstraint(fields=["name", "kind"], name="actor_unique_name_kind"),
            models.CheckConstraint(condition=Q(kind__in=ActorKind.values), name="actor_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class Source(models.Model):
    """A published document (article, statement, court record) that incidents cite."""

    url = models.URLField("URL", max_length=1000, unique=True, validators=[http_url_validator])
    title = models.CharField("title", max_length=500, blank=True)
    publisher = models.CharField("publisher", max_length=200)
    published_on = models.DateField("published on", null=True, blank=True, validators=DATE_RANGE)
    source_type = models.CharField("source type", max_length=32, choices=SourceType.choices, default=SourceType.NEWS)
    language = models.CharField(
        "language",
        max_length=16,
        blank=True,
        validators=[language_code_validator],
        help_text="The source's language: ISO 639-1 (BCP 47) code, e.g. fi, sv, en.",
    )
    archived_url = models.URLField("archived URL", max_length=1000, blank=True, validators=[http_url_validator])
    archived_at = models.DateTimeField("archived at", null=True, blank=True)
    reliability = models.CharField(
        "reliability",
        max_length=1,
        choices=Reliability.choices,
        default=Reliability.F,
        help_text="Admiralty scale of the source's track record: A completely reliable, B usually reliable, "
        "C fairly reliable, D not usually reliable, E unreliable, F cannot be judged.",
    )
    created_at = models.DateTimeField("created at", auto_now_add=True)
    updated_at = models.DateTimeField("updated at", auto_now=True)

    history = history()

    class Meta:
        ordering = ["id"]
        verbose_name = "source"
        verbose_name_plural = "sources"
        constraints = [
            models.CheckConstraint(condition=Q(source_type__in=SourceType.values), name="source_type_valid"),
            models.CheckConstraint(condition=Q(reliability__in=Reliability.values), name="source_reliability_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.publisher}: {self.title or self.url}"


class Incident(models.Model):
    """One reported event involving weapons, or one public claim of diversion, with its evidence."""

    uid = models.UUIDField("UID", default=uuid.uuid4, unique=True, editable=False)
    version = models.PositiveIntegerField("version", default=1, editable=False)
    title = models.CharField("title", max_length=200)
    summary = models.TextField("summary", blank=True, validators=[MaxLengthValidator(SUMMARY_MAX_LENGTH)])
    incident_type = models.CharField("incident type", max_length=16, choices=IncidentType.choices)
    occurred_on = models.DateField("occurred on", validators=DATE_RANGE)
    date_precision = models.CharField(
        "date precision", max_length=8, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    reported_on = models.DateField(
        "reported on", null=True, blank=True, editable=False, help_text="Earliest publication date among its sources."
    )
    country = CountryField("country")
    admin1 = models.CharField("region", max_length=200, blank=True)
    place = models.CharField("place", max_length=200, blank=True)
    latitude = models.DecimalField(
        "latitude",
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        "longitude",
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    geo_precision = models.CharField("geo precision", max_length=8, choices=GeoPrecision.choices, null=True, blank=True)
    geocode_provider = models.CharField("geocoded by", max_length=32, blank=True)
    geocode_query = models.CharField("geocode query", max_length=500, blank=True)
    geocoded_at = models.DateTimeField("geocoded at", null=True, blank=True)
    geocode_warning = models.CharField("geocode warning", max_length=500, blank=True)
    verification = models.CharField(
        "verification", max_length=16, choices=Verification.choices, default=Verification.REPORTED
    )
    status = models.CharField("status", max_length=16, choices=Status.choices, default=Status.DRAFT)
    weapons_total = models.PositiveIntegerField("weapons total", default=0, editable=False)
    # How many of `weapons_total` come from approximate or lower-bound quantities ("about 35", "60+"), kept by
    # the services so that aggregates can say how much of a total is not an exact count.
    weapons_approximate = models.PositiveIntegerField("weapons approximate", default=0, editable=False)
    # Folded (lower-case, accent-free) text for `q`, kept by the services; individuals' names kept apart.
    search_text = models.TextField("search text", blank=True, editable=False)
    private_search_text = models.TextField("private search text", blank=True, editable=False)
    actors = models.ManyToManyField(Actor, through="IncidentActor", related_name="incidents", blank=True)
    tags = models.ManyToManyField(Tag, through="IncidentTag", related_name="incidents", blank=True)
    created_at = models.DateTimeField("created at", auto_now_add=True)
    updated_at = models.DateTimeField("updated at", auto_now=True)

    history = history(excluded_fields=["search_text", "private_search_text"])

    class Meta:
        ordering = ["-occurred_on", "-id"]
        verbose_name = "incident"
        verbose_name_plural = "incidents"
        indexes = [
            # `status` ends the filter indexes so that a public query (published only) and its count are
            # answered from the index alone, without reading each matching row.
            models.Index(fields=["country", "occurred_on", "status"], name="incident_country_occurred"),
            models.Index(fields=["occurred_on", "status"], name="incident_occurred"),
            models.Index(fields=["updated_at"], name="incident_updated"),
            # Covering the aggregates of `stats/` by country, year and month, unfiltered or filtered by country
            # and/or dates, so that they read no rows (the first also serves `status` alone).
            models.Index(
                fields=["status", "country", "occurred_on", "date_precision", "weapons_total", "weapons_approximate"],
                name="incident_stats_by_country",
            ),
            models.Index(
                fields=["status", "occurred_on", "country", "date_precision", "weapons_total", "weapons_approximate"],
                name="incident_stats_by_occurred",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="incident_coordinates_in_pairs",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="incident_latitude_in_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="incident_longitude_in_range",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="incident_version_positive"),
            models.CheckConstraint(condition=Q(incident_type__in=IncidentType.values), name="incident_type_valid"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="incident_status_valid"),
            models.CheckConstraint(
                condition=Q(verification__in=Verification.values), name="incident_verification_valid"
            ),
            models.CheckConstraint(
                condition=Q(date_precision__in=DatePrecision.values), name="incident_date_precision_valid"
            ),
            models.CheckConstraint(
                condition=Q(geo_precision__isnull=True) | Q(geo_precision__in=GeoPrecision.values),
                name="incident_geo_precision_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def has_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    def clean(self) -> None:
        """Normalise the date to its precision; coordinates come in pairs, with a precision."""
        if self.occurred_on and self.date_precision:
            self.occurred_on = first_day_of_precision(self.occurred_on, self.date_precision)
        errors = {}
        if (self.latitude is None) != (self.longitude is None):
            missing = "longitude" if self.longitude is None else "latitude"
            errors[missing] = "Latitude and longitude must be given together."
        elif self.has_coordinates and not self.geo_precision:
            self.geo_precision = GeoPrecision.EXACT  # coordinates typed without a precision are taken as exact
        elif not self.has_coordinates and self.geo_precision:
            errors["geo_precision"] = "Geo precision must be empty when there are no coordinates."
        if errors:
            raise ValidationError(errors)


class WeaponItem(models.Model):
    """One kind of weapon in an incident, with how many (null when the sources give no number)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="weapons", verbose_name="incident")
    category = models.CharField("category", max_length=32, choices=WeaponCategory.choices)
    description = models.CharField("description", max_length=500, blank=True)
    quantity = models.PositiveIntegerField(
        "quantity",
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_QUANTITY)],
        help_text=f"Empty when unknown; at most {MAX_QUANTITY:,}.",
    )
    quantity_precision = models.CharField(
        "quantity precision",
        max_length=16,
        choices=QuantityPrecision.choices,
        default=QuantityPrecision.EXACT,
        help_text="Exact; approximate (the source says about N); or at least (the source says N+).",
    )
    suspected_origin = CountryField("suspected origin", null=True, blank=True)
    markings = models.CharField("markings", max_length=500, blank=True)
    serials = models.JSONField(
        "serials",
        default=list,
        blank=True,
        help_text="Serial numbers as the source or photo shows them; compared upper-case, letters and digits only.",
    )

    history = history()

    class Meta:
        ordering = ["id"]
        verbose_name = "weapon"
        verbose_name_plural = "weapons"
        constraints = [
            models.CheckConstraint(condition=Q(category__in=WeaponCategory.values), name="weapon_category_valid"),
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(quantity__lte=MAX_QUANTITY), name="weapon_quantity_in_range"
            ),
            models.CheckConstraint(
                condition=Q(quantity_precision__in=QuantityPrecision.values), name="weapon_quantity_precision_valid"
            ),
        ]

    def __str__(self) -> str:
        quantity = "?" if self.quantity is None else self.quantity
        return f"{quantity} × {self.get_category_display()}"


class WeaponSerial(models.Model):
    """One serial of a weapon in its normal form, split into prefix and number: the index that tracing
    probes (`incidents.tracing`). Kept by the services with the weapon's `serials`."""

    weapon = models.ForeignKey(WeaponItem, on_delete=models.CASCADE, related_name="serial_rows")
    normal = models.CharField("normal form", max_length=SERIAL_MAX_LENGTH)
    prefix = models.CharField("prefix", max_length=SERIAL_MAX_LENGTH, blank=True)
    number = models.BigIntegerField("number", null=True, help_text="the trailing digits; null when there are none")

    class Meta:
        verbose_name = "weapon serial"
        verbose_name_plural = "weapon serials"
        indexes = [
            models.Index(fields=["normal"], name="weapon_serial_normal"),
            models.Index(fields=["prefix", "number"], name="weapon_serial_prefix_number"),
        ]

    def __str__(self) -> str:
        return self.normal


class CitationOwnFields(models.Model):
    """What a citation says beside the source it names (incidents' and transfers' alike)."""

    excerpt = models.TextField("excerpt", blank=True)
    excerpt_language = models.CharField(
        "excerpt language",
        max_length=16,
        blank=True,
        validators=[language_code_validator],
        help_text="ISO 639-1 code of the excerpt as written here. A translation has another language than its "
        "source, and is shown as a translation, never as a quote. Required with an excerpt.",
    )
    stance = models.CharField("stance", max_length=16, choices=Stance.choices, default=Stance.SUPPORTS)
    credibility = models.PositiveSmallIntegerField(
        "credibility",
        choices=Credibility.choices,
        default=Credibility.CANNOT_BE_JUDGED,
        help_text="Admiralty scale of what this source says about what it is cited for: 1 confirmed by other sources, "
        "2 probably true, 3 possibly true, 4 doubtful, 5 improbable, 6 cannot be judged.",
    )

    class Meta:
        abstract = True


class Citation(CitationOwnFields):
    """An incident citing a source, with the passage relied on and whether the source supports or disputes it."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="citations", verbose_name="incident")
    # A cited source cannot be deleted (the API answers 409).
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="citations", verbose_name="source")

    history = history()

    class Meta:
        ordering = ["id"]
        verbose_name = "citation"
        verbose_name_plural = "citations"
        constraints = [
            models.UniqueConstraint(fields=["incident", "source"], name="citation_unique_incident_source"),
            models.CheckConstraint(condition=Q(stance__in=Stance.values), name="citation_stance_valid"),
            models.CheckConstraint(
                condition=Q(credibility__gte=1, credibility__lte=6), name="citation_credibility_1_6"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} cites {self.source_id} ({self.stance})"


class Transfer(models.Model):
    """An authorized transfer of weapons as its sources report it (API.md "Tracing"): who supplied whom,
    when, what, and the serial ranges and lots declared. Public once it cites a source."""

    uid = models.UUIDField("UID", default=uuid.uuid4, unique=True, editable=False)
    supplier = CountryField("supplier")
    recipient = CountryField("recipient")
    end_user = models.CharField("end user", max_length=200, blank=True)
    year = models.PositiveSmallIntegerField(
        "year", validators=[MinValueValidator(EARLIEST_DATE.year), MaxValueValidator(9999)]
    )
    weapon_category = models.CharField("weapon category", max_length=32, choices=WeaponCategory.choices)
    description = models.CharField("description", max_length=1000, blank=True)
    quantity = models.PositiveIntegerField(
        "quantity", null=True, blank=True, validators=[MaxValueValidator(MAX_QUANTITY)], help_text="Empty when unknown."
    )
    serial_ranges = models.JSONField(
        "serial ranges", default=list, blank=True, help_text='[{"prefix": "AB", "first": 1000, "last": 1999}, …]'
    )
    lots = models.JSONField("lots", default=list, blank=True, help_text="Lot numbers declared for the transfer.")
    notes = models.TextField("notes", blank=True)
    created_at = models.DateTimeField("created at", auto_now_add=True)
    updated_at = models.DateTimeField("updated at", auto_now=True)

    history = history()

    class Meta:
        ordering = ["-year", "id"]
        verbose_name = "transfer"
        verbose_name_plural = "transfers"
        indexes = [
            models.Index(fields=["supplier", "year"], name="transfer_supplier_year"),
            models.Index(fields=["recipient", "year"], name="transfer_recipient_year"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(weapon_category__in=WeaponCategory.values), name="transfer_weapon_category_valid"
            ),
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(quantity__lte=MAX_QUANTITY), name="transfer_quantity_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.supplier}→{self.recipient}: {self.get_weapon_category_display()}"


class TransferCitation(CitationOwnFields):
    """A transfer citing a source, as an incident does."""

    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="citations", verbose_name="transfer")
    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="transfer_citations", verbose_name="source"
    )

    history = history()

    class Meta:
        ordering = ["id"]
        verbose_name = "transfer citation"
        verbose_name_plural = "transfer citations"
        constraints = [
            models.UniqueConstraint(fields=["transfer", "source"], name="transfer_citation_unique"),
            models.CheckConstraint(condition=Q(stance__in=Stance.values), name="transfer_citation_stance_valid"),
            models.CheckConstraint(
                condition=Q(credibility__gte=1, credibility__lte=6), name="transfer_citation_credibility_1_6"
            ),
        ]

    def __str__(self) -> str:
        return f"transfer {self.transfer_id} cites {self.source_id} ({self.stance})"


class TransferRange(models.Model):
    """One declared serial range of a transfer, as numbers: the index a serial is probed against. Kept by the
    services with the transfer's `serial_ranges`."""

    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="range_rows")
    prefix = models.CharField("prefix", max_length=SERIAL_MAX_LENGTH, blank=True)
    first = models.BigIntegerField("first")
    last = models.BigIntegerField("last")

    class Meta:
        verbose_name = "transfer serial range"
        indexes = [models.Index(fields=["prefix", "first", "last"], name="transfer_range_prefix_first")]

    def __str__(self) -> str:
        return f"{self.prefix}{self.first}–{self.prefix}{self.last}"


class TransferMark(models.Model):
    """A normalised lot number or marking token of a transfer: the index weapons' markings are probed
    against. Kept by the services with the transfer's `lots` and `description`."""

    class Kind(models.TextChoices):
        LOT = "lot", "lot"
        MARKING = "markings", "markings"

    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="mark_rows")
    kind = models.CharField("kind", max_length=8, choices=Kind.choices)
    token = models.CharField("token", max_length=SERIAL_MAX_LENGTH)

    class Meta:
        verbose_name = "transfer mark"
        indexes = [models.Index(fields=["token"], name="transfer_mark_token")]

    def __str__(self) -> str:
        return f"{self.kind} {self.token}"


class IncidentActor(models.Model):
    """The link of an incident to an actor (explicit, so that its changes have history)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="actor_links")
    actor = models.ForeignKey(Actor, on_delete=models.PROTECT, related_name="incident_links")

    history = history()

    class Meta:
        ordering = ["id"]
        verbose_name = "incident actor"
        verbose_name_plural = "incident actors"
        constraints = [models.UniqueConstraint(fields=["incident", "actor"], name="incident_actor_unique")]


class IncidentTag(models.Model):
    """The link of an incident to a tag (explicit, so that its changes have history)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="incident_links")

    history = history()

    class Meta:
        ordering = ["id"]
        verbose_name = "incident tag"
        verbose_name_plural = "incident tags"
        constraints = [models.UniqueConstraint(fields=["incident", "tag"], name="incident_tag_unique")]


class IncidentRecord(models.Model):
    """An incident's record as each audience reads it, built by the services at write time (`records`):
    JSON, and the CSV row of an export. The editors' columns are empty where they equal the public's."""

    incident = models.OneToOneField(
        Incident, on_delete=models.CASCADE, primary_key=True, related_name="stored_record", verbose_name="incident"
    )
    version = models.PositiveIntegerField("version", help_text="The incident's version this record was built at.")
    codec = models.PositiveSmallIntegerField(
        "codec", help_text="The version of the record's definition it was built by."
    )
    public_json = models.BinaryField("public JSON")
    editor_json = models.BinaryField("editors' JSON", null=True)
    public_csv = models.BinaryField("public CSV row")
    editor_csv = models.BinaryField("editors' CSV row", null=True)

    class Meta:
        verbose_name = "stored record"
        verbose_name_plural = "stored records"

    def __str__(self) -> str:
        return f"record of incident {self.incident_id} at version {self.version}"


class Rollup(models.Model):
    """How many incidents, and weapons, fall in one combination of the dimensions `stats/`, `countries/` and
    list counts filter on, kept by the services with the stored records (`incidents.rollups`). The
    multi-valued keys (a weapon category, a suspected origin, an actor kind) have rows of their own, where an
    incident counts once under each key it has; `key` is empty for incidents without one. The incident rows
    come twice: by every dimension, and by country and month only (fewer rows for the commonest counts)."""

    class Kind(models.IntegerChoices):
        INCIDENT = 0, "incident"
        WEAPON_CATEGORY = 1, "weapon category"
        SUSPECTED_ORIGIN = 2, "suspected origin"
        ACTOR_KIND = 3, "actor kind"
        PLACE_AND_TIME = 4, "incident by country and month"  # incident rows without type and verification
        INCIDENT_TYPE = 5, "incident type"  # by country and month, `key` the type: stats by type in few rows
        VERIFICATION = 6, "verification"  # likewise, `key` the verification state

    kind = models.PositiveSmallIntegerField("kind", choices=Kind.choices)
    status = models.CharField("status", max_length=16, choices=Status.choices)
    country = models.CharField("country", max_length=2)
    period = models.PositiveIntegerField(
        "period", help_text="year × 100 + month of occurred_on; month 0 for a year-precise date"
    )
    incident_type = models.CharField("incident type", max_length=16, blank=True)  # incident rows only
    verification = models.CharField("verification", max_length=16, blank=True)  # incident rows only
    key = models.CharField("key", max_length=32, blank=True)
    incidents = models.IntegerField("incidents")  # no CHECK: an upsert adds negative differences
    weapons = models.BigIntegerField("weapons")
    weapons_approximate = models.BigIntegerField("weapons approximate")

    class Meta:
        verbose_name = "rollup"
        verbose_name_plural = "rollups"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "status", "country", "period", "incident_type", "verification", "key"],
                name="rollup_dimensions",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} rollup {self.status} {self.country} {self.period} {self.key}"


class GridCell(models.Model):
    """How many incidents, and weapons, lie in one cell (by status): the spatial rollup that map grids and
    the counts of `bbox` and radius pages read (`incidents.rollups`). Cells are 0.01° at level 0, 0.1° at
    level 1 and 1° at level 2, so that a coarse map reads few rows. `x` and `y` number a level's cells from
    180°W and 90°S; the coordinate sums, in millionths of a degree, give each cell's centre."""

    status = models.CharField("status", max_length=16, choices=Status.choices)
    level = models.PositiveSmallIntegerField("level", default=0, help_text="0: 0.01°, 1: 0.1°, 2: 1° cells")
    x = models.PositiveIntegerField("x")
    y = models.PositiveIntegerField("y")
    incidents = models.IntegerField("incidents")  # no CHECK: an upsert adds negative differences
    weapons = models.BigIntegerField("weapons")
    weapons_approximate = models.BigIntegerField("weapons approximate")
    longitude_sum = models.BigIntegerField("longitude sum", help_text="in millionths of a degree")
    latitude_sum = models.BigIntegerField("latitude sum", help_text="in millionths of a degree")

    class Meta:
        verbose_name = "grid cell"
        verbose_name_plural = "grid cells"
        constraints = [models.UniqueConstraint(fields=["status", "level", "x", "y"], name="grid_cell_position")]

    def __str__(self) -> str:
        return f"grid cell {self.x},{self.y} at level {self.level} ({self.status})"


class GeocodeCache(models.Model):
    """One geocoder answer (found or not) for a (provider, folded query, country), so each is asked once."""

    provider = models.CharField("provider", max_length=32)
    query = models.CharField("query (folded)", max_length=500)
    country = models.CharField("country", max_length=2)
    found = models.BooleanField("found")
    latitude = models.DecimalField("latitude", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("longitude", max_digits=9, decimal_places=6, null=True, blank=True)
    precision = models.CharField("precision", max_length=8, choices=GeoPrecision.choices, blank=True)
    address = models.CharField("address", max_length=500, blank=True)
    created_at = models.DateTimeField("created at", auto_now_add=True)

    class Meta:
        verbose_name = "geocode cache entry"
        verbose_name_plural = "geocode cache"
        constraints = [
            models.UniqueConstraint(fields=["provider", "query", "country"], name="geocode_cache_unique_lookup"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}: {self.query} ({self.country})"


class IncidentRemoval(models.Model):
    """A tombstone: an incident left someone's view (deleted, merged, or no longer published).

    It feeds `incidents/deleted/` for clients that mirror the data, and lets a merged id answer 410 with
    the incident it was merged into. Not a foreign key: the incident itself may be gone.
    """

    incident_id = models.BigIntegerField("incident id")
    uid = models.UUIDField("UID")
    removed_at = models.DateTimeField("removed at", default=timezone.now)
    reason = models.CharField("reason", max_length=16, choices=RemovalReason.choices)
    merged_into = models.BigIntegerField("merged into", null=True, blank=True)
    # Non-editors only ever saw published incidents: only those removals concern them.
    was_published = models.BooleanField("was published")

    class Meta:
        ordering = ["removed_at", "id"]
        verbose_name = "incident removal"
        verbose_name_plural = "incident removals"
        indexes = [
            models.Index(fields=["removed_at"], name="removal_removed_at"),
            models.Index(fields=["incident_id"], name="removal_incident"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(reason__in=RemovalReason.values), name="removal_reason_valid"),
            models.CheckConstraint(
                condition=Q(reason=RemovalReason.MERGED, merged_into__isnull=False)
                | (~Q(reason=RemovalReason.MERGED) & Q(merged_into__isnull=True)),
                name="removal_merged_into_iff_merged",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.reason} at {self.removed_at:%Y-%m-%d %H:%M}"


class DataVersion(models.Model):
    """A counter raised by every write through the services: keys caches of aggregates (and list ETags)."""

    version = models.BigIntegerField("version", default=0)

    class Meta:
        verbose_name = "data version"

    def __str__(self) -> str:
        return str(self.version)


class Release(models.Model):
    """A versioned, citable snapshot of the published data (API.md "Releases and feeds"): a Frictionless Data
    Package written once under `RELEASES_DIR/<version>/` by `incidents.releases`, never changed afterwards.
    This row indexes it: the files on disk are the release."""

    version = models.CharField("version", max_length=16, unique=True, help_text="YYYY.N")
    year = models.PositiveSmallIntegerField("year")
    number = models.PositiveIntegerField("number", help_text="N: the how-manieth release of its year")
    created_at = models.DateTimeField("created at", default=timezone.now)
    created_by = models.CharField("created by", max_length=150, blank=True)
    data_as_of = models.DateTimeField("data as of", null=True, help_text="The latest change in the released data.")
    incidents = models.PositiveIntegerField("incidents")
    sha256 = models.CharField("SHA-256 of datapackage.json", max_length=64)
    changes = models.JSONField("changes", help_text="uids added, changed and removed since the previous release")
    files = models.JSONField("files", help_text="[{name, bytes, sha256}] of the package's files")

    class Meta:
        ordering = ["-year", "-number"]
        constraints = [models.UniqueConstraint(fields=["year", "number"], name="release_unique_year_number")]
        verbose_name = "dataset release"
        verbose_name_plural = "dataset releases"

    def __str__(self) -> str:
        return f"release {self.version}"
