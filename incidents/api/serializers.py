"""The record shapes of API.md, for reading and for writing. Serializers list their fields, check the
shape and types of the input and resolve references; the rules live in the services they call."""

import decimal
from collections.abc import Mapping

import orjson
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django_countries.serializer_fields import CountryField
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from incidents import records, releases, services, shapes
from incidents.choices import Credibility, GeoPrecision, QuantityPrecision, RemovalReason, Stance
from incidents.limits import (
    MAX_ACTORS,
    MAX_CITATIONS,
    MAX_ID,
    MAX_QUANTITY,
    MAX_SERIALS,
    MAX_TAGS,
    MAX_WEAPONS,
    SERIAL_MAX_LENGTH,
    SERIAL_NUMBER_DIGITS,
    too_many_items,
)
from incidents.models import Actor, Citation, Incident, Release, Source, Transfer, WeaponItem
from incidents.shapes import PUBLIC, shown_actor_name
from incidents.strict_query import COUNTRY_CHOICES

# --- Shared pieces --------------------------------------------------------------------------------


class StrictKeysMixin:
    """Unknown keys answer 400 (a typo must not be dropped silently); known read-only keys are ignored."""

    ignored_keys: frozenset[str] = frozenset()

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            known = set(self.fields) | set(self.ignored_keys)
            unknown = sorted(str(key) for key in data if key not in known)
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
            data = {key: value for key, value in data.items() if key not in self.ignored_keys}
        return super().to_internal_value(data)


class CountryCodeField(serializers.ChoiceField):
    """ISO 3166-1 alpha-2 only (django-countries alone would also take alpha-3 and numeric codes)."""

    def __init__(self, **kwargs):
        super().__init__(choices=COUNTRY_CHOICES, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = data.strip().upper()
        return super().to_internal_value(data)


@extend_schema_field({"type": "string", "format": "uri", "pattern": "^https?://", "maxLength": 1000})
class HttpUrlField(serializers.URLField):
    """A URL; the model allows http and https only, and the schema says so."""


class LengthFirstMixin:
    """A list whose length is checked before any of its items: an item may cost a lookup (an actor, a
    source), so a list longer than the contract allows is refused before the first one."""

    def to_internal_value(self, data):
        if isinstance(data, list) and self.max_length is not None and len(data) > self.max_length:
            raise serializers.ValidationError(too_many_items(self.max_length, len(data)))
        return super().to_internal_value(data)


class BoundedListField(LengthFirstMixin, serializers.ListField):
    pass


class BoundedListSerializer(LengthFirstMixin, serializers.ListSerializer):
    pass


# --- Reading --------------------------------------------------------------------------------------


def serials_field(**kwargs) -> serializers.ListField:
    """Serials as given; normalised and checked for repeats by the services (`incidents.tracing`)."""
    return BoundedListField(
        child=serializers.CharField(max_length=SERIAL_MAX_LENGTH),
        max_length=MAX_SERIALS,
        required=False,
        default=list,
        **kwargs,
    )


class WeaponItemSerializer(StrictKeysMixin, serializers.ModelSerializer):
    suspected_origin = CountryCodeField(allow_null=True, required=False, default=None)
    serials = serials_field(help_text=WeaponItem._meta.get_field("serials").help_text)

    class Meta:
        model = WeaponItem
        fields = list(shapes.WEAPON_FIELDS)
        list_serializer_class = BoundedListSerializer
        extra_kwargs = {
            "description": {"default": ""},
            "markings": {"default": ""},
            "quantity_precision": {"default": QuantityPrecision.EXACT},
        }

    def to_representation(self, weapon):
        data = super().to_representation(weapon)
        data["suspected_origin"] = str(weapon.suspected_origin) if weapon.suspected_origin else None
        return data


class ActorSerializer(StrictKeysMixin, serializers.ModelSerializer):
    """An actor; the name of an `individual` is shown to editors only."""

    name = serializers.CharField(max_length=200, allow_null=True, help_text="null for individuals, to non-editors")

    class Meta:
        model = Actor
        fields = ["id", "name", "kind"]

    def validate_name(self, name):
        if name is None or not name.strip():
            raise serializers.ValidationError("Give the actor's name.")
        return name.strip()

    def to_representation(self, actor):
        data = super().to_representation(actor)
        data["name"] = shown_actor_name(actor.name, actor.kind, self.context.get("audience", PUBLIC))
        return data

    def create(self, validated_data):
        return services.actor_create(user=self.context["request"].user, data=validated_data)

    def update(self, actor, validated_data):
        return services.actor_update(actor=actor, user=self.context["request"].user, data=validated_data)


class SourceSerializer(StrictKeysMixin, serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.URLField: HttpUrlField,
    }

    class Meta:
        model = Source
        fields = ["id", *shapes.SOURCE_FIELDS]

    def create(self, validated_data):
        return services.source_create(user=self.context["request"].user, data=validated_data)

    def update(self, source, validated_data):
        return services.source_update(source=source, user=self.context["request"].user, data=validated_data)


# The source fields a citation shows and may carry.
CITATION_SOURCE_FIELDS = shapes.SOURCE_FIELDS


class CitationSerializer(serializers.ModelSerializer):
    """A citation as the incident shows it: the source's fields (with the source's id) plus the citation's own."""

    id = serializers.IntegerField(source="source.id", read_only=True)
    url = serializers.URLField(source="source.url", read_only=True)
    title = serializers.CharField(source="source.title", read_only=True)
    publisher = serializers.CharField(source="source.publisher", read_only=True)
    published_on = serializers.DateField(source="source.published_on", read_only=True, allow_null=True)
    source_type = serializers.CharField(source="source.source_type", read_only=True)
    language = serializers.CharField(source="source.language", read_only=True)
    archived_url = serializers.CharField(source="source.archived_url", read_only=True)
    archived_at = serializers.DateTimeField(source="source.archived_at", read_only=True, allow_null=True)
    reliability = serializers.CharField(
        source="source.reliability", read_only=True, help_text=Source._meta.get_field("reliability").help_text
    )

    class Meta:
        model = Citation
        fields = ["id", *CITATION_SOURCE_FIELDS, *shapes.CITATION_FIELDS]


class GeocodeSerializer(serializers.Serializer):
    provider = serializers.CharField()
    query = serializers.CharField()
    geocoded_at = serializers.DateTimeField(allow_null=True)
    warning = serializers.CharField(allow_null=True)


class IncidentSerializer(serializers.ModelSerializer):
    """The full incident record, as the OpenAPI document describes it. Records are built, once, by
    `incidents.records` (a test holds this description to the codec's keys)."""

    country = CountryField()
    country_name = serializers.SerializerMethodField()
    geocode = serializers.SerializerMethodField()
    weapons = WeaponItemSerializer(many=True, read_only=True)
    actors = ActorSerializer(many=True, read_only=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug")
    sources = CitationSerializer(source="citations", many=True, read_only=True)

    class Meta:
        model = Incident
        fields = list(shapes.RECORD_FIELDS)
        read_only_fields = fields

    def get_country_name(self, incident) -> str:
        raise NotImplementedError("records are built by incidents.records; this serializer describes them")

    @extend_schema_field(GeocodeSerializer(allow_null=True))
    def get_geocode(self, incident) -> dict | None:
        raise NotImplementedError("records are built by incidents.records; this serializer describes them")


WEAPONS_APPROXIMATE_HELP = "how many of `weapons` come from approximate or lower-bound counts (about N, N+)"


class CountrySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="ISO 3166-1 alpha-2")
    name = serializers.CharField()
    incidents = serializers.IntegerField()
    weapons = serializers.IntegerField()
    weapons_approximate = serializers.IntegerField(help_text=WEAPONS_APPROXIMATE_HELP)
    latest_occurred_on = serializers.DateField()


# --- Writing incidents ----------------------------------------------------------------------------


class CitationSourceFieldsSerializer(StrictKeysMixin, serializers.ModelSerializer):
    serializer_field_mapping = SourceSerializer.serializer_field_mapping

    """Types of the source fields a citation may carry; uniqueness is not checked here (a citation may
    name an existing source by its URL)."""

    class Meta:
        model = Source
        fields = list(CITATION_SOURCE_FIELDS)
        extra_kwargs = {name: {"required": False, "validators": []} for name in CITATION_SOURCE_FIELDS}

    def get_validators(self):
        return []


class CitationOwnFieldsSerializer(StrictKeysMixin, serializers.Serializer):
    excerpt = serializers.CharField(allow_blank=True, required=False, default="")
    excerpt_language = serializers.CharField(
        allow_blank=True,
        required=False,
        default="",
        max_length=16,
        help_text=Citation._meta.get_field("excerpt_language").help_text,
    )
    stance = serializers.ChoiceField(choices=Stance.choices, required=False, default=Stance.SUPPORTS)
    credibility = serializers.ChoiceField(
        choices=Credibility.choices,
        required=False,
        default=Credibility.CANNOT_BE_JUDGED,
        help_text=Citation._meta.get_field("credibility").help_text,
    )


class CitationByIdSerializer(CitationOwnFieldsSerializer):
    """Cite an existing source by its id; any source field given must equal the stored one."""

    id = serializers.IntegerField(help_text="the source's id")


class CitationByUrlSerializer(CitationOwnFieldsSerializer, CitationSourceFieldsSerializer):
    """Cite a source by its exact URL: the existing source with that URL, or a new one made from these fields
    (then `publisher` is required)."""

    class Meta(CitationSourceFieldsSerializer.Meta):
        fields = [*CITATION_SOURCE_FIELDS, *shapes.CITATION_FIELDS]
        extra_kwargs = {
            **CitationSourceFieldsSerializer.Meta.extra_kwargs,
            "url": {"required": True, "validators": []},
        }


class CoordinateField(serializers.DecimalField):
    """WGS84 degrees in ±`limit`, a JSON number, rounded to the 6 decimals stored."""

    def __init__(self, *, limit: int, **kwargs):
        super().__init__(
            max_digits=9,
            decimal_places=6,
            min_value=decimal.Decimal(-limit),
            max_value=decimal.Decimal(limit),
            allow_null=True,
            required=False,
            rounding=decimal.ROUND_HALF_EVEN,
            coerce_to_string=False,
            **kwargs,
        )


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="CitationInput",
        serializers=[CitationByIdSerializer, CitationByUrlSerializer],
        resource_type_field_name=None,
    )
)
class CitationField(serializers.Field):
    """A citation given as `{"id": …}` or `{"url": …}`, resolved to the source it cites."""

    default_error_messages = {"invalid": "Give a citation as an object with a source `id` or a `url`."}

    def to_internal_value(self, data) -> services.CitationData:
        if not isinstance(data, Mapping) or ("id" not in data and "url" not in data):
            self.fail("invalid")
        own_keys = set(shapes.CITATION_FIELDS)
        source_data = {key: value for key, value in data.items() if key not in own_keys | {"id"}}
        own = CitationOwnFieldsSerializer(data={key: value for key, value in data.items() if key in own_keys})
        given = CitationSourceFieldsSerializer(data=source_data)
        errors = {}
        if not own.is_valid():
            errors.update(own.errors)
        if not given.is_valid():
            errors.update(given.errors)
        source_id = data.get("id")
        if "id" in data and (isinstance(source_id, bool) or not isinstance(source_id, int)):
            errors["id"] = ["Give the source's id as an integer."]
        if errors:
            raise serializers.ValidationError(errors)
        fields = given.validated_data
        try:
            source = services.cited_source(source_id=source_id, fields=fields)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None
        new_fields = fields if source.pk is None else None
        return services.CitationData(source=source, source_fields=new_fields, **own.validated_data)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "description": "an actor id"},
            {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]},
        ]
    }
)
class ActorReferenceField(serializers.Field):
    """An actor given by its id, or as an object with an `id`."""

    default_error_messages = {"invalid": "Give an actor id, or an object with an `id`."}

    def to_internal_value(self, data) -> Actor:
        if isinstance(data, Mapping):
            if set(data) - {"id", "name", "kind"}:
                self.fail("invalid")
            data = data.get("id")
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        actor = Actor.objects.filter(pk=data).first() if abs(data) <= MAX_ID else None
        if actor is None:
            raise serializers.ValidationError(f"No actor has id {data}.")
        return actor


class IncidentWriteSerializer(StrictKeysMixin, serializers.ModelSerializer):
    """What a client sends to create or change an incident. Lists given replace the stored ones."""

    # Keys of the record that a client may send back unchanged; they are ignored.
    ignored_keys = shapes.READ_ONLY_KEYS | {"geocode"}  # the API sets coordinates' provenance itself

    uid = serializers.UUIDField(required=False, help_text="may be given on create; ignored afterwards")
    country = CountryCodeField(help_text="ISO 3166-1 alpha-2 (XK for Kosovo)")
    latitude = CoordinateField(limit=90)
    longitude = CoordinateField(limit=180)
    weapons = WeaponItemSerializer(many=True, required=False, max_length=MAX_WEAPONS)
    sources = BoundedListField(child=CitationField(), required=False, max_length=MAX_CITATIONS)
    actors = BoundedListField(child=ActorReferenceField(), required=False, max_length=MAX_ACTORS)
    tags = BoundedListField(child=serializers.CharField(max_length=64), required=False, max_length=MAX_TAGS)

    class Meta:
        model = Incident
        fields = ["uid", *shapes.EDITABLE_INCIDENT_FIELDS, "weapons", "sources", "actors", "tags"]

    def to_internal_value(self, data):
        if self.instance is not None and isinstance(data, Mapping):
            data = {key: value for key, value in data.items() if key != "uid"}  # read-only after creation
        return super().to_internal_value(data)

    def create(self, validated_data):
        uid = validated_data.pop("uid", None)
        return services.incident_create(
            user=self.context["request"].user, data=self._service_data(validated_data), uid=uid
        )

    def update(self, incident, validated_data):
        expected = validated_data.pop("expected_version", None)  # from If-Match, given to save()
        return services.incident_update(
            incident=incident,
            user=self.context["request"].user,
            data=self._service_data(validated_data),
            expected_version=expected,
        )

    @staticmethod
    def _service_data(validated_data: dict) -> dict:
        data = dict(validated_data)
        if "sources" in data:
            data["citations"] = data.pop("sources")
        return data

    def to_representation(self, incident):
        """The answer to a write: the record as the writer reads it, as stored by the write itself."""
        body = records.stored_json([(incident.pk, incident.version)], self.context["audience"])[0]
        return orjson.loads(body)


# --- Transfers and tracing (API.md "Tracing") --------------------------------------------------------


class SerialRangeSerializer(StrictKeysMixin, serializers.Serializer):
    prefix = serializers.CharField(
        max_length=SERIAL_MAX_LENGTH, allow_blank=True, help_text="letters and leading characters (normal form)"
    )
    first = serializers.IntegerField(min_value=0, max_value=10**SERIAL_NUMBER_DIGITS - 1)
    last = serializers.IntegerField(min_value=0, max_value=10**SERIAL_NUMBER_DIGITS - 1)


class TransferSerializer(serializers.ModelSerializer):
    """A transfer as its sources report it."""

    supplier = serializers.CharField(help_text="ISO 3166-1 alpha-2")
    recipient = serializers.CharField(help_text="ISO 3166-1 alpha-2")
    serial_ranges = SerialRangeSerializer(many=True)
    lots = serializers.ListField(child=serializers.CharField())
    sources = CitationSerializer(source="citations", many=True, read_only=True)

    class Meta:
        model = Transfer
        fields = ["id", "uid", *shapes.TRANSFER_FIELDS[:-1], "sources", "notes"]
        read_only_fields = fields

    def to_representation(self, transfer):
        data = super().to_representation(transfer)
        data["supplier"], data["recipient"] = str(transfer.supplier), str(transfer.recipient)
        return data


class TransferWriteSerializer(StrictKeysMixin, serializers.ModelSerializer):
    """What an editor sends to create or change a transfer. `sources` given replace the stored ones."""

    ignored_keys = frozenset({"id", "uid"})

    supplier = CountryCodeField(help_text="ISO 3166-1 alpha-2")
    recipient = CountryCodeField(help_text="ISO 3166-1 alpha-2")
    serial_ranges = SerialRangeSerializer(many=True, required=False, max_length=MAX_SERIALS)
    lots = BoundedListField(
        child=serializers.CharField(max_length=SERIAL_MAX_LENGTH), required=False, max_length=MAX_SERIALS
    )
    sources = BoundedListField(child=CitationField(), required=False, max_length=MAX_CITATIONS)

    class Meta:
        model = Transfer
        fields = [*shapes.TRANSFER_FIELDS, "sources"]
        extra_kwargs = {"quantity": {"max_value": MAX_QUANTITY}}

    def create(self, validated_data):
        return services.transfer_create(user=self.context["request"].user, data=self._service_data(validated_data))

    def update(self, transfer, validated_data):
        return services.transfer_update(
            transfer=transfer, user=self.context["request"].user, data=self._service_data(validated_data)
        )

    @staticmethod
    def _service_data(validated_data: dict) -> dict:
        data = dict(validated_data)
        if "sources" in data:
            data["citations"] = data.pop("sources")
        if "serial_ranges" in data:
            data["serial_ranges"] = [dict(item) for item in data["serial_ranges"]]
        return data

    def to_representation(self, transfer):
        return TransferSerializer(transfer, context=self.context).data


class GeocodeAnswerSerializer(serializers.Serializer):
    query = serializers.CharField()
    country = serializers.CharField()
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    geo_precision = serializers.ChoiceField(choices=GeoPrecision.choices)
    provider = serializers.CharField()
    warning = serializers.CharField(allow_null=True)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


def requested_fields(raw: str | None) -> list[str] | None:
    """`fields=id,title,country`: the record's fields to return; an unknown name is a 400."""
    if raw is None:
        return None
    names = [name.strip() for name in raw.split(",")]
    unknown = [name for name in names if name not in shapes.RECORD_FIELDS]
    if not raw.strip() or unknown:
        listed = ", ".join(unknown) or "(empty)"
        raise serializers.ValidationError(
            {"fields": [f"Unknown field(s): {listed}. Known: {', '.join(shapes.RECORD_FIELDS)}."]}
        )
    return names


class StatsRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    label = serializers.CharField()
    incidents = serializers.IntegerField()
    weapons = serializers.IntegerField()
    weapons_approximate = serializers.IntegerField(help_text=WEAPONS_APPROXIMATE_HELP)
    center = serializers.ListField(
        child=serializers.FloatField(),
        min_length=2,
        max_length=2,
        required=False,
        help_text="group_by=grid: [lon, lat], the mean position of the cell's incidents",
    )


class StatsTotalSerializer(serializers.Serializer):
    incidents = serializers.IntegerField()
    weapons = serializers.IntegerField()
    weapons_approximate = serializers.IntegerField(help_text=WEAPONS_APPROXIMATE_HELP)
    imprecise = serializers.IntegerField(required=False, help_text="group_by=month: year-precise incidents")
    unlocated = serializers.IntegerField(
        required=False, help_text="group_by=grid: selected incidents without coordinates (in no cell)"
    )


class StatsSerializer(serializers.Serializer):
    group_by = serializers.CharField()
    total = StatsTotalSerializer()
    results = StatsRowSerializer(many=True)


# --- Provenance and sync --------------------------------------------------------------------------


class IncidentBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2")
    occurred_on = serializers.DateField()


class SimilarSerializer(serializers.Serializer):
    """A likely duplicate report: the other incident, a score from 0 to 1, and why."""

    incident = IncidentBriefSerializer()
    score = serializers.FloatField(min_value=0, max_value=1)
    reasons = serializers.ListField(child=serializers.CharField())


class RemovalSerializer(serializers.Serializer):
    """An incident that left the caller's view."""

    id = serializers.IntegerField(source="incident_id")
    uid = serializers.UUIDField()
    removed_at = serializers.DateTimeField()
    reason = serializers.ChoiceField(choices=RemovalReason.choices)
    merged_into = serializers.IntegerField(
        source="visible_merged_into", allow_null=True, help_text="the incident it was merged into (if visible to you)"
    )


class ImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="CSV: the spreadsheet row (the header is row 1); JSON: the position")
    field = serializers.CharField()
    message = serializers.CharField()


class ImportReportSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected_rows = serializers.IntegerField()
    without_coordinates = serializers.IntegerField(help_text="new incidents whose place is left for geocoding")
    dry_run = serializers.BooleanField()
    errors = ImportRowErrorSerializer(many=True)


class HistoryEntrySerializer(serializers.Serializer):
    """One change of an incident: who, when, and each field (or list) that changed as `[old, new]`."""

    changed_at = serializers.DateTimeField()
    user = serializers.CharField(allow_null=True, help_text="the username, or null for a change by a command")
    change_type = serializers.ChoiceField(choices=["created", "changed", "deleted"])
    changes = serializers.DictField(
        child=serializers.ListField(min_length=2, max_length=2),
        help_text="field name, or weapons / sources / actors / tags, mapped to [old, new]",
    )


class ReleaseChangesSerializer(serializers.Serializer):
    added = serializers.ListField(child=serializers.UUIDField())
    changed = serializers.ListField(child=serializers.UUIDField(), help_text="any of its rows differ")
    removed = serializers.ListField(child=serializers.UUIDField(), help_text="deleted, merged or unpublished")


class ReleaseFileSerializer(serializers.Serializer):
    name = serializers.CharField()
    url = serializers.SerializerMethodField()
    bytes = serializers.IntegerField()
    sha256 = serializers.CharField()

    def get_url(self, entry) -> str:
        return reverse(
            "release-file", args=[self.context["version"], entry["name"]], request=self.context.get("request")
        )


class ReleaseSerializer(serializers.ModelSerializer):
    """A dataset release (API.md "Releases and feeds"): what it holds, what changed, its files and how to cite it."""

    changes = ReleaseChangesSerializer()
    files = serializers.SerializerMethodField()
    url = serializers.HyperlinkedIdentityField(view_name="release-detail", lookup_field="version")
    how_to_cite = serializers.SerializerMethodField()

    class Meta:
        model = Release
        fields = [
            "version",
            "url",
            "created_at",
            "data_as_of",
            "incidents",
            "sha256",
            "changes",
            "files",
            "how_to_cite",
        ]

    @extend_schema_field(ReleaseFileSerializer(many=True))
    def get_files(self, release):
        context = {**self.context, "version": release.version}
        return ReleaseFileSerializer(release.files, many=True, context=context).data

    def get_how_to_cite(self, release) -> str:
        url = reverse("release-detail", args=[release.version], request=self.context.get("request"))
        return releases.how_to_cite(release.version, url)


# --- Tracing answers (built by `incidents.tracing`; these describe them) ------------------------------


class TransferBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    supplier = serializers.CharField(help_text="ISO 3166-1 alpha-2")
    recipient = serializers.CharField(help_text="ISO 3166-1 alpha-2")
    year = serializers.IntegerField()


class SerialCandidateSerializer(serializers.Serializer):
    """A transfer a serial may have left: its best match, a score from 0 to 1, and why (for a person)."""

    transfer = TransferBriefSerializer()
    match = serializers.ChoiceField(choices=["serial_in_range", "lot", "markings"])
    score = serializers.FloatField(min_value=0, max_value=1)
    reasons = serializers.ListField(child=serializers.CharField())


class TraceCandidateSerializer(SerialCandidateSerializer):
    weapon = serializers.IntegerField(min_value=0, help_text="the weapon's index in the incident's `weapons`")


class RecoveredSerializer(serializers.Serializer):
    """Another visible incident with a weapon of the same normalised serial."""

    incident = IncidentBriefSerializer()
    weapon = serializers.IntegerField(min_value=0, help_text="the weapon's index in that incident's `weapons`")
    serial = serializers.CharField(help_text="normal form")


class IncidentTraceSerializer(serializers.Serializer):
    candidates = TraceCandidateSerializer(many=True, help_text="for each weapon, best first")
    recovered_elsewhere = RecoveredSerializer(many=True)


class SerialTraceSerializer(serializers.Serializer):
    serial = serializers.CharField(help_text="the serial asked for, in normal form")
    candidates = SerialCandidateSerializer(many=True, help_text="best first")
    recovered_in = RecoveredSerializer(many=True)
