"""The shapes of the domain's data, written once: which fields a write may set, which are derived, what an
incident's record holds and in what order, and who sees an individual's name. Models, services, selectors,
the record codec, the import and the API all read these (and import nothing from each other for them).
"""

from incidents.choices import ActorKind

# What a caller may set on an incident; everything else is derived or read-only.
INCIDENT_FIELDS = (
    "title",
    "summary",
    "incident_type",
    "occurred_on",
    "date_precision",
    "country",
    "admin1",
    "place",
    "latitude",
    "longitude",
    "geo_precision",
    "geocode_provider",
    "geocode_query",
    "geocoded_at",
    "geocode_warning",
    "verification",
    "status",
)
# What a person enters (the geocode provenance is set by the services themselves).
EDITABLE_INCIDENT_FIELDS = tuple(name for name in INCIDENT_FIELDS if not name.startswith("geocode"))
INCIDENT_LISTS = ("weapons", "citations", "actors", "tags")
# Kept by the services themselves (computed after validation, so never validated as input).
DERIVED_FIELDS = (
    "version",
    "weapons_total",
    "weapons_approximate",
    "reported_on",
    "search_text",
    "private_search_text",
    "created_at",
    "updated_at",
)
WEAPON_FIELDS = (
    "category",
    "description",
    "quantity",
    "quantity_precision",
    "suspected_origin",
    "markings",
    "serials",
)
CITATION_FIELDS = ("excerpt", "excerpt_language", "stance", "credibility")
SOURCE_FIELDS = (
    "url",
    "title",
    "publisher",
    "published_on",
    "source_type",
    "language",
    "archived_url",
    "archived_at",
    "reliability",
)
ACTOR_FIELDS = ("name", "kind")
TRANSFER_FIELDS = (
    "supplier",
    "recipient",
    "end_user",
    "year",
    "weapon_category",
    "description",
    "quantity",
    "serial_ranges",
    "lots",
    "notes",
)
TAG_FIELDS = ("slug",)

# An incident's record (API.md "What is recorded"), in the order its keys are written.
RECORD_FIELDS = (
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
)
# A citation as a record shows it: the source's id and fields, then the citation's own.
CITATION_KEYS = ("id", *SOURCE_FIELDS, *CITATION_FIELDS)
# Keys of a record that a write (the API's, the import's) ignores: they are derived, or local to one database.
READ_ONLY_KEYS = frozenset(
    {"id", "version", "reported_on", "country_name", "weapons_total", "created_at", "updated_at"}
)

# Who reads a record: the public (everybody but editors) or editors.
PUBLIC, EDITOR = "public", "editor"
AUDIENCES = (PUBLIC, EDITOR)


def shown_actor_name(name: str, kind: str, audience: str) -> str | None:
    """API.md "Privacy": the name of an actor of kind `individual` is shown to editors only."""
    return None if kind == ActorKind.INDIVIDUAL and audience != EDITOR else name
