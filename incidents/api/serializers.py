"""The record shapes of API.md. Serializers list their fields; the rules live in the services."""

from django_countries.serializer_fields import CountryField
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.choices import ActorKind
from incidents.models import Actor, Citation, Incident, Source, WeaponItem


class WeaponItemSerializer(serializers.ModelSerializer):
    suspected_origin = CountryField(allow_null=True, required=False)

    class Meta:
        model = WeaponItem
        fields = ["category", "description", "quantity", "suspected_origin", "markings"]


class ActorSerializer(serializers.ModelSerializer):
    """An actor; the name of an `individual` is shown to editors only."""

    name = serializers.CharField(max_length=200, allow_null=True)

    class Meta:
        model = Actor
        fields = ["id", "name", "kind"]

    def to_representation(self, actor):
        data = super().to_representation(actor)
        if actor.kind == ActorKind.INDIVIDUAL and not self.context.get("is_editor", False):
            data["name"] = None
        return data


class SourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Source
        fields = [
            "id",
            "url",
            "title",
            "publisher",
            "published_on",
            "source_type",
            "language",
            "archived_url",
            "archived_at",
            "reliability",
        ]


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
    reliability = serializers.CharField(source="source.reliability", read_only=True)

    class Meta:
        model = Citation
        fields = [
            "id",
            "url",
            "title",
            "publisher",
            "published_on",
            "source_type",
            "language",
            "archived_url",
            "reliability",
            "excerpt",
            "stance",
            "credibility",
        ]


class GeocodeSerializer(serializers.Serializer):
    provider = serializers.CharField()
    query = serializers.CharField()
    geocoded_at = serializers.DateTimeField(allow_null=True)
    warning = serializers.CharField(allow_null=True)


class IncidentSerializer(serializers.ModelSerializer):
    """The full incident record."""

    country = CountryField()
    country_name = serializers.SerializerMethodField()
    geocode = serializers.SerializerMethodField()
    weapons = WeaponItemSerializer(many=True, read_only=True)
    actors = ActorSerializer(many=True, read_only=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug")
    sources = CitationSerializer(source="citations", many=True, read_only=True)

    class Meta:
        model = Incident
        fields = [
            "id",
            "uid",
            "version",
            "title",
            "summary",
            "incident_type",
            "occurred_on",
            "date_precision",
            "reported_on",
            "country",
            "country_name",
            "admin1",
            "place",
            "latitude",
            "longitude",
            "geo_precision",
            "geocode",
            "verification",
            "status",
            "weapons",
            "weapons_total",
            "actors",
            "tags",
            "sources",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "uid", "version", "reported_on", "weapons_total", "created_at", "updated_at"]

    def get_country_name(self, incident) -> str:
        return incident.country.name

    @extend_schema_field(GeocodeSerializer(allow_null=True))
    def get_geocode(self, incident) -> dict | None:
        if not incident.geocode_provider:
            return None
        return {
            "provider": incident.geocode_provider,
            "query": incident.geocode_query,
            "geocoded_at": serializers.DateTimeField().to_representation(incident.geocoded_at)
            if incident.geocoded_at
            else None,
            "warning": incident.geocode_warning or None,
        }


class CountrySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="ISO 3166-1 alpha-2")
    name = serializers.CharField()
    incidents = serializers.IntegerField()
    weapons = serializers.IntegerField()
    latest_occurred_on = serializers.DateField()
