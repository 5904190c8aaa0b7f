"""Every write of the domain, with its rules. The API, the admin and the commands all call these.

Each function is one transaction and one recorded change (see `incidents.changesets`). It validates the
final state of an incident *with* its weapons and citations before writing anything, keeps the
derived values (`weapons_total`, `reported_on`) current, and raises `version` when, and only when,
something the record returns has changed, so that repeating a write changes nothing.
"""

import functools
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django_countries import countries

from incidents import bulk, geocoding, tracing
from incidents.changesets import recorded_change, touch
from incidents.choices import (
    ActorKind,
    QuantityPrecision,
    Reliability,
    RemovalReason,
    SourceType,
    Stance,
    Status,
    Verification,
)
from incidents.limits import MAX_ACTORS, MAX_CITATIONS, MAX_ID, MAX_TAGS, MAX_WEAPONS, too_many_items
from incidents.models import (
    Actor,
    Citation,
    Incident,
    IncidentActor,
    IncidentRemoval,
    IncidentTag,
    Source,
    Tag,
    Transfer,
    TransferMark,
    TransferRange,
    WeaponItem,
    WeaponSerial,
)
from incidents.search import fold
from incidents.shapes import (
    ACTOR_FIELDS,
    CITATION_FIELDS,
    DERIVED_FIELDS,
    INCIDENT_FIELDS,
    INCIDENT_LISTS,
    SOURCE_FIELDS,
    TAG_FIELDS,
    TRANSFER_FIELDS,
    WEAPON_FIELDS,
)

PUBLISHED_NEEDS_CITATION = "A published incident needs at least one citation."
PUBLISHED_NEEDS_SUPPORT = "A published incident needs at least one citation that supports it."
CONFIRMED_NEEDS_STRONG_SUPPORT = (
    "A confirmed incident needs a supporting citation from an official source or a source graded A or B "
    "(see docs/grading.md); otherwise mark it corroborated or reported."
)
EXCERPT_NEEDS_LANGUAGE = "Give the excerpt's language (ISO 639-1): a translation's differs from its source's."
MANUAL = "manual"  # the geocode provider of coordinates typed by a person


class VersionConflict(Exception):
    """The incident changed since the version the caller based its edit on."""

    def __init__(self, current_version: int):
        super().__init__(f"The incident is now at version {current_version}.")
        self.current_version = current_version


@dataclass
class CitationData:
    """One citation as the services take it: the source (an unsaved one is validated and created with the
    incident) plus what belongs to the citation."""

    source: Source
    excerpt: str = ""
    stance: str = "supports"
    credibility: int = 6
    excerpt_language: str = ""
    # For a source not stored yet: the fields the citation gave (looked up again inside the write, where a
    # concurrent first citation of the same URL may have stored it meanwhile).
    source_fields: Mapping | None = None


def cited_source(*, source_id: int | None = None, fields: Mapping) -> Source:
    """The one rule for the source a citation names, whatever the entry point (API, admin, import, merge).

    An `id` names a stored source. Otherwise the `url` names the stored source with that URL, or a new one
    made from `fields` (unsaved: it is validated and created with the incident). An existing source is never
    changed through an incident: a field given that differs from the stored one is a ValidationError naming
    it (sources are edited on their own)."""
    if source_id is not None:
        source = Source.objects.filter(pk=source_id).first() if abs(source_id) <= MAX_ID else None
        if source is None:
            raise ValidationError({"id": [f"No source has id {source_id}."]})
    else:
        source = Source.objects.filter(url=fields["url"]).first()
        if source is None:
            return Source(**fields)
    differing = source_differences(source, fields)
    if differing:
        raise ValidationError(differing)
    return source


def source_differences(source: Source, fields: Mapping) -> dict[str, list[str]]:
    """The fields a citation gave that differ from the stored source (see `cited_source`)."""
    differing = {}
    for name, value in fields.items():
        try:
            value = Source._meta.get_field(name).to_python(value)
        except ValidationError as error:
            differing[name] = error.messages
            continue
        if getattr(source, name) != value:
            differing[name] = [
                f"Differs from the stored source ({getattr(source, name)!s:.80}); "
                f"edit the source at /api/v1/sources/{source.pk}/ instead."
            ]
    return differing


# --- Incidents ------------------------------------------------------------------------------------


def incident_create(*, user, data: Mapping, uid: uuid.UUID | None = None, geocode_offline: bool = False) -> Incident:
    """Create an incident with its weapons, citations, actors and tags."""
    data = with_geocoded_place(data, incident=None, offline=geocode_offline)
    with transaction.atomic(), recorded_change(user):
        incident = Incident(uid=uid or uuid.uuid4())
        _apply_incident(incident, data, creating=True)
    return incident


def incident_update(
    *,
    incident: Incident,
    user,
    data: Mapping,
    expected_version: int | None = None,
    geocode_offline: bool = False,
) -> Incident:
    """Change an incident. Lists given in `data` replace the stored ones; absent keys stay as they are.

    With `expected_version`, the edit applies only if the incident is still at that version
    (checked under the row lock, so of two concurrent writers exactly one wins).
    """
    data = with_geocoded_place(data, incident=Incident.objects.get(pk=incident.pk), offline=geocode_offline)
    with transaction.atomic(), recorded_change(user):
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if expected_version is not None and locked.version != expected_version:
            raise VersionConflict(locked.version)
        _apply_incident(locked, data, creating=False)
    return locked


def incident_geocode(*, incident: Incident, user) -> Incident:
    """Geocode an incident's place again (admin action, geocode_incidents); manual coordinates are kept."""
    if incident.geocode_provider == MANUAL and incident.has_coordinates:
        return incident
    data = with_geocoded_place({}, incident=incident, force=True)
    return incident_update(incident=incident, user=user, data=data) if data else incident


def with_geocoded_place(
    data: Mapping, *, incident: Incident | None, force: bool = False, offline: bool = False
) -> dict:
    """Coordinates for a place given without them, looked up *before* the write transaction opens (a
    networked geocoder would otherwise hold SQLite's write lock for its timeout).

    Client coordinates win (they become `manual`); a changed place re-geocodes only coordinates that were
    not typed by hand; a place that cannot be found leaves the incident without coordinates. `offline` (the
    import) asks no networked provider: what is not in the cache is left for `geocode_incidents`."""
    data = dict(data)
    if "latitude" in data or "longitude" in data:
        return data
    keys = ("place", "admin1", "country")
    current = {key: str(getattr(incident, key)) if incident else "" for key in keys}
    wanted = {key: str(data.get(key, current[key]) or "") for key in keys}
    if incident is not None and not force:
        if wanted == current or (incident.geocode_provider == MANUAL and incident.has_coordinates):
            return data
    if not (wanted["place"] or wanted["admin1"]):
        return data
    result = geocoding.locate(
        place=wanted["place"], admin1=wanted["admin1"], country=wanted["country"], offline=offline
    )
    if result is not None:
        data.update(
            latitude=result.latitude,
            longitude=result.longitude,
            geo_precision=result.precision,
            geocode_provider=result.provider,
            geocode_query=", ".join(part for part in (wanted["place"], wanted["admin1"]) if part),
            geocoded_at=timezone.now(),
        )
    elif incident is not None and incident.has_coordinates:
        data.update(latitude=None, longitude=None)  # the old place's coordinates no longer apply
    return data


def incident_publish(*, incident: Incident, user) -> Incident:
    return incident_update(incident=incident, user=user, data={"status": Status.PUBLISHED})


def incident_archive(*, incident: Incident, user) -> Incident:
    return incident_update(incident=incident, user=user, data={"status": Status.ARCHIVED})


def incident_delete(*, incident: Incident, user, expected_version: int | None = None) -> None:
    with transaction.atomic(), recorded_change(user):
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if expected_version is not None and locked.version != expected_version:
            raise VersionConflict(locked.version)
        _record_removal(locked, RemovalReason.DELETED)
        locked.delete()


def _record_removal(incident: Incident, reason: str, *, merged_into: Incident | None = None) -> None:
    """A tombstone for the sync feed (and the 410 of a merged id)."""
    IncidentRemoval.objects.create(
        incident_id=incident.pk,
        uid=incident.uid,
        reason=reason,
        merged_into=merged_into.pk if merged_into else None,
        was_published=reason == RemovalReason.UNPUBLISHED or incident.status == Status.PUBLISHED,
    )


def is_strong_support(source: Source) -> bool:
    """A source that can carry `confirmed`: the official body itself, or one graded A or B (docs/grading.md)."""
    return source.source_type == SourceType.OFFICIAL or source.reliability in (Reliability.A, Reliability.B)


def citation_rule_errors(*, status: str, verification: str, citations: Sequence[CitationData], field: str) -> dict:
    """The rules an incident's citations must meet, for every entry point (API, admin, import, merge, publish):
    a published incident has a citation, and one that supports it; a confirmed one has a supporting citation
    from an official or A/B source. `field` names the list where the citations were given (else `status`)."""
    errors: dict[str, list[str]] = {}
    supporting = [citation for citation in citations if citation.stance == Stance.SUPPORTS]
    if status == Status.PUBLISHED and not citations:
        errors[field] = [PUBLISHED_NEEDS_CITATION]
    elif status == Status.PUBLISHED and not supporting:
        errors[field] = [PUBLISHED_NEEDS_SUPPORT]
    if verification == Verification.CONFIRMED and not any(is_strong_support(c.source) for c in supporting):
        errors["verification"] = [CONFIRMED_NEEDS_STRONG_SUPPORT]
    return errors


@dataclass
class IncidentPlan:
    """An incident validated with its lists, ready to be written (lists that are None stay as stored)."""

    incident: Incident
    weapons: list[WeaponItem] | None
    citations: list[CitationData] | None
    actors: list[Actor] | None
    tags: list[str] | None


def _apply_incident(incident: Incident, data: Mapping, *, creating: bool) -> None:
    before = None if creating else _record_state(incident)
    was_published = not creating and incident.status == Status.PUBLISHED
    plan = plan_incident(incident, data, creating=creating)
    if creating:
        incident.save()
    if plan.weapons is not None:
        _replace_weapons(incident, plan.weapons)
    if plan.citations is not None:
        _replace_citations(incident, plan.citations)
    if plan.actors is not None:
        _replace_links(incident, IncidentActor, "actor", plan.actors)
    if plan.tags is not None:
        _replace_links(incident, IncidentTag, "tag", _tags_named(plan.tags))
    if not creating and _record_state(incident) != before:
        incident.version += 1
        incident.save()
    touch(incident.pk)
    if was_published and incident.status != Status.PUBLISHED:
        _record_removal(incident, RemovalReason.UNPUBLISHED)


def plan_incident(incident: Incident, data: Mapping, *, creating: bool, check_unique: bool = True) -> IncidentPlan:
    """Apply `data` to the (unsaved) fields of `incident` and check every rule of the final state, with its
    lists; raises `ValidationError` naming each field. Writes nothing (the import writes plans in bulk).

    `check_unique=False` skips the uniqueness queries of the uid and of new sources' URLs, for a caller
    that has looked them up itself (the import, in bulk)."""
    unknown = set(data) - set(INCIDENT_FIELDS) - set(INCIDENT_LISTS)
    if unknown:
        raise TypeError(f"Not incident fields: {', '.join(sorted(unknown))}")

    before = None if creating else _record_state(incident)
    coordinates_before = (incident.latitude, incident.longitude)
    for name in INCIDENT_FIELDS:
        if name in data:
            setattr(incident, name, data[name])
    _keep_coordinate_provenance(incident, data, coordinates_before)

    errors: dict[str, list] = {}
    try:
        # uid is the one unique field; a client may give it on create. Check constraints repeat field rules.
        _full_clean(incident, ["country"], exclude=DERIVED_FIELDS, validate_unique=creating and check_unique)
    except ValidationError as error:
        errors.update(error.message_dict)

    weapons = _weapons_from(data["weapons"], errors) if "weapons" in data else None
    citations = _citations_from(data["citations"], errors, check_unique) if "citations" in data else None
    actors = _actors_from(data["actors"], errors) if "actors" in data else None
    tags = _tags_from(data["tags"], errors) if "tags" in data else None

    final_weapons = weapons if weapons is not None else ([] if creating else list(incident.weapons.all()))
    final_citations = citations if citations is not None else ([] if creating else stored_citations(incident))
    rule_errors = citation_rule_errors(
        status=incident.status,
        verification=incident.verification,
        citations=final_citations,
        field="sources" if citations is not None else "status",
    )
    for field, messages in rule_errors.items():
        errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    if "geocode_warning" not in data and incident.has_coordinates and _moved(incident, before, creating):
        incident.geocode_warning = geocoding.country_warning(incident.latitude, incident.longitude, incident.country)

    final_actors = actors if actors is not None else ([] if creating else list(incident.actors.all()))
    set_derived_values(incident, weapons=final_weapons, citations=final_citations, actors=final_actors)
    return IncidentPlan(incident, weapons, citations, actors, tags)


def stored_citations(incident: Incident) -> list[CitationData]:
    return [
        CitationData(
            source=citation.source,
            excerpt=citation.excerpt,
            stance=citation.stance,
            credibility=citation.credibility,
            excerpt_language=citation.excerpt_language,
        )
        for citation in incident.citations.select_related("source").order_by("id")
    ]


@functools.cache
def _country_codes() -> frozenset[str]:
    return frozenset(code for code, _ in countries)  # with COUNTRIES_OVERRIDE (XK)


def _full_clean(instance, country_fields: list[str], *, exclude: Sequence[str] = (), validate_unique: bool) -> None:
    """`full_clean`, quicker where it counts (an import validates every row): country codes are checked
    against a set rather than by django-countries' walk through ~250 choices, and the check constraints,
    which repeat the field rules, are not queried."""
    errors = {}
    for name in country_fields:
        code = getattr(instance, name)
        if code and str(code) not in _country_codes():
            errors[name] = [f"Value {str(code)!r} is not a valid choice."]
    try:
        instance.full_clean(
            exclude=[*exclude, *country_fields], validate_unique=validate_unique, validate_constraints=False
        )
    except ValidationError as error:
        errors.update(error.message_dict)
    errors.update(_null_characters(instance))
    if errors:
        raise ValidationError(errors)


def _null_characters(instance) -> dict[str, list[str]]:
    """Text with a NUL character, which PostgreSQL cannot store (the API's parser refuses it; the import and
    the admin reach here)."""
    texts = [
        field for field in instance._meta.concrete_fields if isinstance(field, models.CharField | models.TextField)
    ]
    return {
        field.name: ["Null characters are not allowed."]
        for field in texts
        if isinstance(value := getattr(instance, field.attname), str) and "\x00" in value
    }


def _moved(incident: Incident, before: tuple | None, creating: bool) -> bool:
    """Did the coordinates or the country change (so the country check must run again)?"""
    if creating or before is None:
        return True
    names = INCIDENT_FIELDS
    old = dict(zip(names, before[0][: len(names)], strict=True))
    field = Incident._meta.get_field
    try:
        now = {name: field(name).to_python(getattr(incident, name)) for name in ("latitude", "longitude")}
    except ValidationError:
        return False
    return (
        now["latitude"] != old["latitude"]
        or now["longitude"] != old["longitude"]
        or str(incident.country).upper() != str(old["country"])
    )


def _keep_coordinate_provenance(incident: Incident, data: Mapping, coordinates_before: tuple) -> None:
    """Coordinates typed by a person are `manual`; removing coordinates removes their provenance."""
    if "latitude" not in data and "longitude" not in data:
        return
    try:
        coordinates = tuple(
            Incident._meta.get_field(name).to_python(getattr(incident, name)) for name in ("latitude", "longitude")
        )
    except ValidationError:
        return  # full_clean reports the bad value
    if coordinates == coordinates_before:
        return
    if None in coordinates:
        if coordinates == (None, None):
            incident.geo_precision = None
            incident.geocode_provider = incident.geocode_query = incident.geocode_warning = ""
            incident.geocoded_at = None
        return
    if "geocode_provider" not in data:
        incident.geocode_provider = MANUAL
        incident.geocode_query = ""
        incident.geocode_warning = ""
        incident.geocoded_at = timezone.now()


def _record_state(incident: Incident) -> tuple:
    """Everything the incident's record returns, to tell whether a write changed anything."""
    fields = tuple(getattr(incident, name) for name in INCIDENT_FIELDS + ("weapons_total", "reported_on"))
    if incident.pk is None:
        return fields
    return (
        fields,
        [weapon_key(w) for w in incident.weapons.all()],
        sorted(incident.citations.values_list("source_id", *CITATION_FIELDS)),
        sorted(incident.actor_links.values_list("actor_id", flat=True)),
        sorted(incident.tag_links.values_list("tag__slug", flat=True)),
    )


def _too_many(name: str, items: Sequence, limit: int, errors: dict) -> bool:
    if len(items) > limit:
        errors.setdefault(name, []).append(too_many_items(limit, len(items)))
        return True
    return False


def _weapons_from(items: Sequence[Mapping], errors: dict) -> list[WeaponItem]:
    if _too_many("weapons", items, MAX_WEAPONS, errors):
        return []
    weapons = []
    for index, item in enumerate(items):
        weapon = WeaponItem(**{name: item[name] for name in WEAPON_FIELDS if name in item})
        try:
            weapon.serials = tracing.clean_serials(weapon.serials)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors[f"weapons[{index}].{field}"] = messages
        try:
            _full_clean(weapon, ["suspected_origin"], exclude=["incident", "serials"], validate_unique=False)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors[f"weapons[{index}].{field}"] = messages
        weapons.append(weapon)
    return weapons


def _citations_from(items: Iterable[CitationData], errors: dict, check_unique: bool = True) -> list[CitationData]:
    items = list(items)
    if _too_many("sources", items, MAX_CITATIONS, errors):
        return []
    seen: set = set()
    for index, item in enumerate(items):
        if item.source.pk is None and check_unique:
            try:  # stored meanwhile by a concurrent first citation of the URL? then that one is cited
                item.source = cited_source(fields=item.source_fields or {"url": item.source.url})
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    errors[f"sources[{index}].{field}"] = messages
                continue
        probe = Citation(
            source=item.source,
            excerpt=item.excerpt,
            excerpt_language=item.excerpt_language,
            stance=item.stance,
            credibility=item.credibility,
        )
        if item.excerpt.strip() and not item.excerpt_language:
            errors[f"sources[{index}].excerpt_language"] = [EXCERPT_NEEDS_LANGUAGE]
        try:
            probe.full_clean(exclude=["incident", "source"], validate_unique=False, validate_constraints=False)
            # A new source, saved with the incident. One that an import shares between rows is checked once.
            if item.source.pk is None and not getattr(item.source, "_checked", False):
                item.source.full_clean(validate_unique=check_unique, validate_constraints=False)
                item.source._checked = True
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors[f"sources[{index}].{field}"] = messages
        for field, messages in (_null_characters(probe) | _null_characters(item.source)).items():
            errors[f"sources[{index}].{field}"] = messages
        key = item.source.pk or item.source.url
        if key in seen:
            errors[f"sources[{index}]"] = ["This source is cited twice."]
        seen.add(key)
    return items


def _actors_from(items: Sequence[Actor], errors: dict) -> list[Actor]:
    if _too_many("actors", items, MAX_ACTORS, errors):
        return []
    for index, actor in enumerate(items):
        if actor.pk is None:  # a new actor (import), saved with the incident
            try:
                actor.full_clean(validate_unique=False, validate_constraints=False)
            except ValidationError as error:
                for field, messages in error.message_dict.items():
                    errors[f"actors[{index}].{field}"] = messages
    return list({actor.pk or (actor.name, actor.kind): actor for actor in items}.values())


def _tags_from(slugs: Sequence[str], errors: dict) -> list[str]:
    if _too_many("tags", slugs, MAX_TAGS, errors):
        return []
    for index, slug in enumerate(slugs):
        try:
            validate_slug(slug)
        except ValidationError as error:
            errors[f"tags[{index}]"] = error.messages
    return list(dict.fromkeys(slugs))


def _tags_named(slugs: Sequence[str]) -> list[Tag]:
    """Tags are created on first use (only when the write as a whole is valid)."""
    return [Tag.objects.get_or_create(slug=slug)[0] for slug in slugs]


def citation_values(citation: CitationData) -> tuple:
    """What belongs to a citation itself, in the order of CITATION_FIELDS, as the database holds it."""
    return tuple(
        int(getattr(citation, name)) if name == "credibility" else getattr(citation, name) for name in CITATION_FIELDS
    )


def weapon_key(weapon: WeaponItem) -> tuple:
    return (
        weapon.category,
        weapon.description,
        weapon.quantity,
        weapon.quantity_precision,
        str(weapon.suspected_origin or ""),
        weapon.markings,
        tuple(weapon.serials or ()),
    )


def _replace_weapons(incident: Incident, weapons: list[WeaponItem]) -> None:
    stored = list(incident.weapons.all())
    if [weapon_key(w) for w in stored] == [weapon_key(w) for w in weapons]:
        return
    for weapon in stored:
        weapon.delete()
    for weapon in weapons:
        weapon.incident = incident
        weapon.save()
    WeaponSerial.objects.bulk_create(tracing.serial_rows(weapons))


def _replace_citations(owner: Incident | Transfer, citations: list[CitationData]) -> None:
    """Make `owner`'s citations (an incident's or a transfer's) those given, changing only what differs."""
    stored = {citation.source_id: citation for citation in owner.citations.all()}
    wanted = {item.source.pk for item in citations}
    for source_id, citation in stored.items():
        if source_id not in wanted:
            citation.delete()
    for index, item in enumerate(citations):
        if item.source.pk is None:
            _save_new_source(item, index)
        citation = stored.get(item.source.pk)
        values = {name: getattr(item, name) for name in CITATION_FIELDS}
        if citation is None:
            owner.citations.create(source=item.source, **values)
        elif any(getattr(citation, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(citation, name, value)
            citation.save()


def _save_new_source(item: CitationData, index: int) -> None:
    """Store a new cited source. If a concurrent write stored the same URL first (PostgreSQL lets both look
    it up before either commits), the unique index refuses this one: cite the stored one instead, as the
    contract says (the same article cited by two incidents is one source)."""
    try:
        with transaction.atomic():  # a savepoint: the failed insert must not end the write's transaction
            item.source.save()
    except IntegrityError:
        try:
            item.source = cited_source(fields=item.source_fields or {"url": item.source.url})
        except ValidationError as error:
            raise ValidationError(
                {f"sources[{index}].{field}": messages for field, messages in error.message_dict.items()}
            ) from None
        if item.source.pk is None:
            raise  # not the URL after all: another constraint refused it


def _replace_links(incident: Incident, link_model, field: str, targets: list) -> None:
    stored = {getattr(link, f"{field}_id"): link for link in link_model.objects.filter(incident=incident)}
    wanted = {target.pk for target in targets}
    for target_id, link in stored.items():
        if target_id not in wanted:
            link.delete()
    for target in targets:
        if target.pk is None:
            target.save()  # a new actor given by name and kind (import)
        if target.pk not in stored:
            link_model.objects.create(incident=incident, **{field: target})


# --- Sources and actors ---------------------------------------------------------------------------


def source_create(*, user, data: Mapping) -> Source:
    with transaction.atomic(), recorded_change(user):
        source = Source(**{name: data[name] for name in SOURCE_FIELDS if name in data})
        source.full_clean()
        source.save()
    return source


def source_update(*, source: Source, user, data: Mapping) -> Source:
    """Edit a source; every incident citing it gets a new version (and `reported_on` may move). A change that
    would leave a confirmed incident without an official or A/B supporting source is refused, naming them."""
    with transaction.atomic(), recorded_change(user):
        changed = _assign_changed(source, data, SOURCE_FIELDS)
        if changed:
            source.full_clean()
            if changed & {"reliability", "source_type"} and not is_strong_support(source):
                _refuse_weakening(source, field="reliability" if "reliability" in changed else "source_type")
            source.save()
            for incident in Incident.objects.filter(citations__source=source).distinct():
                _refresh_incident(incident)
    return source


def _refuse_weakening(source: Source, *, field: str) -> None:
    """The confirmed incidents whose only official or A/B supporting citation is of `source`."""
    confirmed_here = Incident.objects.filter(
        verification=Verification.CONFIRMED, citations__source=source, citations__stance=Stance.SUPPORTS
    )
    others = Citation.objects.filter(incident=OuterRef("pk"), stance=Stance.SUPPORTS).exclude(source=source)
    strong_elsewhere = others.filter(
        Q(source__source_type=SourceType.OFFICIAL) | Q(source__reliability__in=[Reliability.A, Reliability.B])
    )
    broken = sorted(set(confirmed_here.exclude(Exists(strong_elsewhere)).values_list("pk", flat=True)))
    if broken:
        listed = ", ".join(str(pk) for pk in broken)
        raise ValidationError(
            {
                field: [
                    f"This would leave confirmed incidents without an official or A/B supporting source: {listed}. "
                    "Change their verification first, or cite a stronger source."
                ]
            }
        )


def source_delete(*, source: Source, user) -> None:
    """Delete a source; raises `django.db.models.ProtectedError` while an incident cites it."""
    with transaction.atomic(), recorded_change(user):
        source.delete()


def actor_create(*, user, data: Mapping) -> Actor:
    with transaction.atomic(), recorded_change(user):
        actor = Actor(**{name: data[name] for name in ACTOR_FIELDS if name in data})
        actor.full_clean()
        actor.save()
    return actor


def actor_update(*, actor: Actor, user, data: Mapping) -> Actor:
    """Edit an actor; every incident linked to it gets a new version."""
    with transaction.atomic(), recorded_change(user):
        if _assign_changed(actor, data, ACTOR_FIELDS):
            actor.full_clean()
            actor.save()
            for incident in Incident.objects.filter(actor_links__actor=actor).distinct():
                _refresh_incident(incident)
    return actor


def actor_delete(*, actor: Actor, user) -> None:
    """Delete an actor; raises `django.db.models.ProtectedError` while an incident is linked to it."""
    with transaction.atomic(), recorded_change(user):
        actor.delete()


def tag_create(*, user, data: Mapping) -> Tag:
    with transaction.atomic(), recorded_change(user):
        tag = Tag(**{name: data[name] for name in TAG_FIELDS if name in data})
        tag.full_clean()
        tag.save()
    return tag


def tag_update(*, tag: Tag, user, data: Mapping) -> Tag:
    """Rename a tag; every incident tagged with it gets a new version (its record shows the slug)."""
    with transaction.atomic(), recorded_change(user):
        if _assign_changed(tag, data, TAG_FIELDS):
            tag.full_clean()
            tag.save()
            for incident in Incident.objects.filter(tag_links__tag=tag).distinct():
                _refresh_incident(incident)
    return tag


def tag_delete(*, tag: Tag, user) -> None:
    """Delete a tag; raises `django.db.models.ProtectedError` while an incident carries it."""
    with transaction.atomic(), recorded_change(user):
        tag.delete()


def _assign_changed(instance, data: Mapping, fields: Sequence[str]) -> set[str]:
    unknown = set(data) - set(fields)
    if unknown:
        raise TypeError(f"Not {type(instance).__name__} fields: {', '.join(sorted(unknown))}")
    changed = {name for name in fields if name in data and getattr(instance, name) != data[name]}
    for name in changed:
        setattr(instance, name, data[name])
    return changed


def _refresh_incident(incident: Incident) -> None:
    """A cited source or linked actor changed what this incident returns: recompute and raise its version."""
    set_derived_values(
        incident,
        weapons=list(incident.weapons.all()),
        citations=stored_citations(incident),
        actors=list(incident.actors.all()),
    )
    incident.version += 1
    incident.save()
    touch(incident.pk)


def set_derived_values(
    incident: Incident, *, weapons: Sequence[WeaponItem], citations: Sequence[CitationData], actors: Sequence[Actor]
) -> None:
    """The one place that computes what an incident derives from its weapons, citations and actors.

    `reported_on` is the earliest publication date of a source that *supports* the incident: a denial or a
    walk-back published later is not when the incident was reported (it would date a claim by its rebuttal)."""
    known = [w for w in weapons if w.quantity is not None]
    incident.weapons_total = sum(w.quantity for w in known)
    incident.weapons_approximate = sum(w.quantity for w in known if w.quantity_precision != QuantityPrecision.EXACT)
    supporting = [c.source for c in citations if c.stance == Stance.SUPPORTS]
    incident.reported_on = min((s.published_on for s in supporting if s.published_on is not None), default=None)
    sources = [c.source for c in citations]
    public_texts = [incident.title, incident.summary, incident.place, incident.admin1]
    public_texts += [a.name for a in actors if a.kind != ActorKind.INDIVIDUAL]
    public_texts += [text for s in sources for text in (s.title, s.publisher)]
    incident.search_text = "\n".join(fold(text) for text in public_texts if text)
    # Names of individuals are searchable by editors only (API.md "Privacy").
    incident.private_search_text = "\n".join(fold(a.name) for a in actors if a.kind == ActorKind.INDIVIDUAL)


# --- Transfers (API.md "Tracing") ------------------------------------------------------------------


def transfer_create(*, user, data: Mapping) -> Transfer:
    with transaction.atomic(), recorded_change(user):
        transfer = Transfer()
        _apply_transfer(transfer, data, creating=True)
    return transfer


def transfer_update(*, transfer: Transfer, user, data: Mapping) -> Transfer:
    with transaction.atomic(), recorded_change(user):
        _apply_transfer(transfer, data, creating=False)
    return transfer


def transfer_delete(*, transfer: Transfer, user) -> None:
    with transaction.atomic(), recorded_change(user):
        transfer.delete()


def _apply_transfer(transfer: Transfer, data: Mapping, *, creating: bool) -> None:
    """Validate the final state of a transfer with its citations (naming each field), then write it and the
    index rows that tracing probes (`incidents.tracing`)."""
    unknown = set(data) - set(TRANSFER_FIELDS) - {"citations"}
    if unknown:
        raise TypeError(f"Not transfer fields: {', '.join(sorted(unknown))}")
    values = {name: value for name, value in data.items() if name != "citations"}
    errors: dict[str, list] = {}
    for name, clean in (("serial_ranges", tracing.clean_serial_ranges), ("lots", tracing.clean_lots)):
        try:
            if name in values:
                values[name] = clean(values[name], name)
        except ValidationError as error:
            errors.update(error.message_dict)
            del values[name]
    changed = _assign_changed(transfer, values, TRANSFER_FIELDS)
    try:
        _full_clean(transfer, ["supplier", "recipient"], exclude=["serial_ranges", "lots"], validate_unique=False)
    except ValidationError as error:
        errors.update(error.message_dict)
    citations = _citations_from(data["citations"], errors) if "citations" in data else None
    if errors:
        raise ValidationError(errors)
    if creating or changed:
        transfer.save()
    if citations is not None:
        _replace_citations(transfer, citations)
    if creating or changed & {"serial_ranges", "lots", "description"}:
        ranges, marks = tracing.transfer_rows(transfer)
        TransferRange.objects.filter(transfer=transfer).delete()
        TransferMark.objects.filter(transfer=transfer).delete()
        TransferRange.objects.bulk_create(ranges)
        TransferMark.objects.bulk_create(marks)


# --- Merging duplicate reports --------------------------------------------------------------------


def incident_merge(*, kept: Incident, duplicates: Sequence[Incident], user) -> Incident:
    """Fold duplicate reports of one event into `kept`, as one change: their citations, weapons, actors and
    tags move to it (a source both cite keeps `kept`'s citation); each duplicate is deleted and leaves a
    tombstone, so its id answers 410 with `merged_into` and the sync feed lists it."""
    duplicate_ids = sorted({incident.pk for incident in duplicates} - {kept.pk})
    if not duplicate_ids:
        raise ValidationError({"duplicates": ["Choose at least one other incident to merge."]})
    with transaction.atomic(), recorded_change(user):
        locked = Incident.objects.select_for_update().get(pk=kept.pk)
        others = list(Incident.objects.select_for_update().filter(pk__in=duplicate_ids).order_by("id"))
        everyone = [locked, *others]
        citations: dict[int, CitationData] = {}
        for incident in everyone:
            for citation in incident.citations.select_related("source").order_by("id"):
                citations.setdefault(
                    citation.source_id,
                    CitationData(
                        source=citation.source,
                        excerpt=citation.excerpt,
                        excerpt_language=citation.excerpt_language,
                        stance=citation.stance,
                        credibility=citation.credibility,
                    ),
                )
        data = {
            "weapons": [
                {name: getattr(weapon, name) for name in WEAPON_FIELDS}
                for incident in everyone
                for weapon in incident.weapons.order_by("id")
            ],
            "citations": list(citations.values()),
            "actors": [actor for incident in everyone for actor in incident.actors.all()],
            "tags": list(dict.fromkeys(tag.slug for incident in everyone for tag in incident.tags.all())),
        }
        _apply_incident(locked, data, creating=False)
        for other in others:
            # Ids merged into this duplicate earlier now point at the incident that survives.
            IncidentRemoval.objects.filter(merged_into=other.pk).update(merged_into=locked.pk)
            _record_removal(other, RemovalReason.MERGED, merged_into=locked)
            other.delete()
    return locked


# --- Bulk creation (the import) -------------------------------------------------------------------


def incidents_bulk_create(plans: Sequence[IncidentPlan], *, user) -> None:
    """Write new incidents validated by `plan_incident` (with their new sources, actors and tags) in a few
    bulk inserts, with their history rows, as one change. Nothing here checks rules: the plans have."""
    if not plans:
        return
    with transaction.atomic(), recorded_change(user) as change:
        history = {"history_user_id": change.user.pk if change.user else None, "change_id": change.change_id}
        # A new source or actor cited by several rows is one object: insert it once.
        new_sources = {id(c.source): c.source for p in plans for c in p.citations or [] if not c.source.pk}
        new_actors = {id(a): a for p in plans for a in p.actors or [] if not a.pk}
        bulk.insert(Source, list(new_sources.values()), history=history)
        bulk.insert(Actor, list(new_actors.values()), history=history)
        slugs = {slug for p in plans for slug in p.tags or []}
        tags = {tag.slug: tag for tag in Tag.objects.filter(slug__in=slugs)}
        missing = [Tag(slug=slug) for slug in sorted(slugs - set(tags))]
        bulk.insert(Tag, missing)
        tags.update({tag.slug: tag for tag in missing})
        bulk.insert(Incident, [p.incident for p in plans], history=history)
        weapons, citations, actor_links, tag_links = [], [], [], []
        for plan in plans:
            incident = plan.incident
            for weapon in plan.weapons or []:
                weapon.incident = incident
                weapons.append(weapon)
            citations += [
                bulk.Row(
                    incident_id=incident.pk,
                    source_id=c.source.pk,
                    **{name: getattr(c, name) for name in CITATION_FIELDS},
                )
                for c in plan.citations or []
            ]
            actor_links += [bulk.Row(incident_id=incident.pk, actor_id=actor.pk) for actor in plan.actors or []]
            tag_links += [bulk.Row(incident_id=incident.pk, tag_id=tags[slug].pk) for slug in plan.tags or []]
        for model, rows in (
            (WeaponItem, weapons),
            (Citation, citations),
            (IncidentActor, actor_links),
            (IncidentTag, tag_links),
        ):
            bulk.insert(model, rows, history=history)
        bulk.insert(WeaponSerial, tracing.serial_rows(weapons))
        change.wrote = True  # bulk inserts send no history signal; the data version must still move
        change.touched.update(plan.incident.pk for plan in plans)
