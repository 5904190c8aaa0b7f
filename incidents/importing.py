"""The import of incidents in the export's own shape (API.md "Provenance and sync"; the export is
`incidents.exports`).

The import reads CSV and JSON in the export's shape: it ignores `id`s and matches incidents by `uid`,
sources by `url` (by the services' one rule, `cited_source`), actors by (`name`, `kind`) and tags by slug;
it keeps the exported `geocode` provenance and `status`.

Every row passes the services' own checks (`services.plan_incident`): a bad row is reported with its row
number, field and message and writes nothing; new incidents are then written in bulk, changed ones through
`services.incident_update`, and unchanged ones not at all, so importing a file twice changes nothing.
Geocoding uses the cache and the offline gazetteer only: a place not found there is saved without
coordinates, and `geocode_incidents` fills it in later.
"""

import csv
import io
import json
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from incidents import records, services, shapes
from incidents.choices import QuantityPrecision
from incidents.limits import MAX_ACTORS, MAX_CITATIONS, MAX_TAGS, MAX_WEAPONS, too_many_items
from incidents.models import Actor, Citation, Incident, IncidentActor, IncidentTag, Source, WeaponItem
from incidents.progress import Progress

BATCH_SIZE = 1000
# Keys of an exported record that the import does not read (derived, or local to one database).
IGNORED_KEYS = shapes.READ_ONLY_KEYS
LIST_KEYS = ("weapons", "sources", "actors", "tags")
RECORD_KEYS = frozenset({"uid", *shapes.EDITABLE_INCIDENT_FIELDS, "geocode", *LIST_KEYS})
JSON_CELLS = (*LIST_KEYS, "geocode")  # CSV cells that hold JSON text
GEOCODE_KEYS = {"provider": "geocode_provider", "query": "geocode_query", "geocoded_at": "geocoded_at"}
TEXT_FIELDS = ("title", "summary", "admin1", "place")
NULLABLE_FIELDS = ("latitude", "longitude", "geo_precision")


# --- Reading files --------------------------------------------------------------------------------


class ImportFileError(ValueError):
    """The file as a whole cannot be read (not a row of it)."""


def read_records(text: str, file_format: str | None = None) -> list[tuple[int, object]]:
    """(row number, record) for each record of a CSV or JSON file. A CSV row's number is its row in a
    spreadsheet (the header is row 1); a JSON record's number is its position, from 1."""
    file_format = file_format or ("json" if text.lstrip()[:1] in ("[", "{") else "csv")
    if file_format == "json":
        return _json_records(text)
    if file_format == "csv":
        return _csv_records(text)
    raise ImportFileError(f"Unknown format {file_format!r}: give csv or json.")


def _json_records(text: str) -> list[tuple[int, object]]:
    try:
        data = json.loads(text)
    except ValueError as error:
        raise ImportFileError(f"Not valid JSON: {error}") from None
    return records_from_json(data)


def records_from_json(data) -> list[tuple[int, object]]:
    """Numbered records of parsed JSON: a list of records, a page of the API's list, or GeoJSON."""
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        data = [_from_feature(feature) for feature in data.get("features") or []]
    elif isinstance(data, dict) and "results" in data:
        data = data["results"]  # a page of the API's list
    if not isinstance(data, list):
        raise ImportFileError("Give a JSON list of incident records (as export_incidents --format json writes).")
    return list(enumerate(data, start=1))


def _from_feature(feature) -> object:
    if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
        return feature
    return dict(feature["properties"])


def _csv_records(text: str) -> list[tuple[int, object]]:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    unknown = [name for name in header if name not in RECORD_KEYS | IGNORED_KEYS]
    if unknown:
        raise ImportFileError(f"Unknown columns: {', '.join(unknown)}.")
    if len(set(header)) != len(header):
        raise ImportFileError("A column is repeated in the header.")
    records = []
    for number, row in enumerate(reader, start=2):
        if None in row:
            records.append((number, {None: "This row has more cells than the header."}))
            continue
        records.append((number, {name: _from_cell(name, value) for name, value in row.items() if value is not None}))
    return records


class _BadCell(str):
    """A cell whose JSON could not be read (reported for its column)."""


def _from_cell(name: str, value: str):
    if value.startswith("'") and value[1:].startswith(records.FORMULA_PREFIXES):
        value = value[1:]  # the export's guard against spreadsheet formulas
    if name in JSON_CELLS:
        if value == "":
            return None if name == "geocode" else []
        try:
            return json.loads(value)
        except ValueError:
            return _BadCell(value)
    if name in NULLABLE_FIELDS and value == "":
        return None
    return value


# --- Importing ------------------------------------------------------------------------------------


@dataclass
class RowError:
    row: int
    field: str
    message: str


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected_rows: int = 0
    without_coordinates: int = 0  # rows with a place the offline geocoder did not find (for geocode_incidents)
    dry_run: bool = False
    errors: list[RowError] = field(default_factory=list)


class _Rejected(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors


def import_records(
    records: list[tuple[int, object]], *, user, dry_run: bool = False, progress: bool = False
) -> ImportReport:
    """Import numbered records (from `read_records`); see the module's docstring."""
    report = ImportReport(rows=len(records), dry_run=dry_run)
    importer = _Importer(user=user, report=report)
    with Progress(len(records), "import", "row", enabled=progress) as bar:
        if dry_run:
            with transaction.atomic():
                importer.run(records, bar)
                transaction.set_rollback(True)
        else:
            importer.run(records, bar)
    return report


class _Importer:
    def __init__(self, *, user, report: ImportReport):
        self.user = user
        self.report = report
        self.sources: dict[str, Source] = {}  # by URL: stored, or new and shared by the rows that cite it
        self.actors: dict[tuple[str, str], Actor] = {}
        self.seen_uids: dict[uuid.UUID, int] = {}

    def run(self, records: list[tuple[int, object]], bar) -> None:
        for start in range(0, len(records), BATCH_SIZE):
            batch = records[start : start + BATCH_SIZE]
            self._import_batch(batch)
            bar.update(len(batch))

    def _import_batch(self, batch: list[tuple[int, object]]) -> None:
        self._load_references([record for _, record in batch if isinstance(record, dict)])
        existing = _stored_records([uid for _, record in batch if (uid := self._uid_or_none(record))])
        new_plans, changes = [], []
        for number, record in batch:
            try:
                data, uid = self._data_from(record, number)
                stored = existing.get(uid)
                if stored is None:
                    if data.get("latitude") is None and data.get("longitude") is None:
                        data.pop("latitude", None)  # no coordinates: the place is geocoded (offline)
                        data.pop("longitude", None)
                    data = services.with_geocoded_place(data, incident=None, offline=True)
                plan = services.plan_incident(
                    Incident(uid=uid or uuid.uuid4()), data, creating=True, check_unique=False
                )
            except _Rejected as rejected:
                self._reject(number, rejected.errors)
                continue
            except ValidationError as error:
                self._reject(number, _api_names(error.message_dict))
                continue
            if stored is None:
                new_plans.append(plan)
                self.report.created += 1
                self.report.without_coordinates += bool(plan.incident.place and not plan.incident.has_coordinates)
            elif _same(stored, plan, data):
                self.report.unchanged += 1
            else:
                changes.append((number, stored.pk, data))
        services.incidents_bulk_create(new_plans, user=self.user)
        for number, pk, data in changes:
            try:
                incident = Incident.objects.get(pk=pk)
                services.incident_update(incident=incident, user=self.user, data=data, geocode_offline=True)
            except ValidationError as error:
                self._reject(number, _api_names(error.message_dict))
                continue
            self.report.updated += 1

    def _reject(self, number: int, errors: dict[str, list[str]]) -> None:
        self.report.rejected_rows += 1
        for name, messages in errors.items():
            self.report.errors += [RowError(number, name, str(message)) for message in messages]

    def _load_references(self, records: list[dict]) -> None:
        """Look up, in two queries per batch, the sources and actors its rows name (not those of a row over
        the limits, which is rejected before anything it names is looked up)."""
        urls, names = set(), set()
        for record in records:
            if _over_limits(record) or _null_characters(record):
                continue
            for citation in _list_or_empty(record.get("sources")):
                if isinstance(citation, dict) and isinstance(citation.get("url"), str):
                    urls.add(citation["url"])
            for actor in _list_or_empty(record.get("actors")):
                if isinstance(actor, dict) and isinstance(actor.get("name"), str):
                    names.add(actor["name"].strip())
        urls -= set(self.sources)
        self.sources.update({source.url: source for source in Source.objects.filter(url__in=urls)})
        self.actors.update({(a.name, a.kind): a for a in Actor.objects.filter(name__in=names)})

    @staticmethod
    def _uid_or_none(record) -> uuid.UUID | None:
        try:
            return uuid.UUID(str(record["uid"]))
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def _data_from(self, record, number: int) -> tuple[dict, uuid.UUID | None]:
        """The services' data for one record, with its references resolved; `_Rejected` names bad fields."""
        if not isinstance(record, dict):
            raise _Rejected({"row": ["Give each incident as an object."]})
        if over := _over_limits(record) or _null_characters(record):
            raise _Rejected(over)
        errors: dict[str, list[str]] = {}
        for key in record:
            if key is None:
                errors["row"] = [record[key]]
            elif key not in RECORD_KEYS | IGNORED_KEYS:
                errors[str(key)] = ["Unknown field."]
            elif isinstance(record[key], _BadCell):
                errors[key] = ["Not valid JSON."]
        uid = None
        if record.get("uid") not in (None, ""):
            uid = self._uid_or_none(record)
            if uid is None:
                errors["uid"] = ["Not a valid UUID."]
            elif uid in self.seen_uids:
                errors["uid"] = [f"The same uid is in row {self.seen_uids[uid]}."]
            else:
                self.seen_uids[uid] = number
        if errors:
            raise _Rejected(errors)

        data = {name: record[name] for name in shapes.EDITABLE_INCIDENT_FIELDS if name in record}
        for name in TEXT_FIELDS:
            if name in data and data[name] is None:
                data[name] = ""
        for name in ("latitude", "longitude"):
            if name in data:
                data[name] = _six_decimals(data[name])
        if isinstance(data.get("country"), str):
            data["country"] = data["country"].strip().upper()
        if "geocode" in record:
            data.update(self._geocode_fields(record["geocode"], errors))
        if "weapons" in record:
            data["weapons"] = self._weapons(record["weapons"], errors)
        if "sources" in record:
            data["citations"] = self._citations(record["sources"], errors)
        if "actors" in record:
            data["actors"] = self._actors(record["actors"], errors)
        if "tags" in record:
            tags = _list_or_error(record["tags"], "tags", errors)
            if any(not isinstance(tag, str) for tag in tags):
                errors["tags"] = ["Give tags as a list of slugs."]
            data["tags"] = tags
        if errors:
            raise _Rejected(errors)
        return data, uid

    @staticmethod
    def _geocode_fields(geocode, errors: dict) -> dict:
        if geocode is None:
            return {"geocode_provider": "", "geocode_query": "", "geocoded_at": None, "geocode_warning": ""}
        if not isinstance(geocode, dict) or set(geocode) - {*GEOCODE_KEYS, "warning"}:
            errors["geocode"] = ["Give an object with provider, query, geocoded_at and warning, or null."]
            return {}
        fields = {name: geocode.get(key) or "" for key, name in GEOCODE_KEYS.items()}
        fields["geocoded_at"] = geocode.get("geocoded_at") or None
        fields["geocode_warning"] = geocode.get("warning") or ""
        return fields

    @staticmethod
    def _weapons(items, errors: dict) -> list[dict]:
        weapons = []
        for index, item in enumerate(_list_or_error(items, "weapons", errors)):
            if not isinstance(item, dict):
                errors[f"weapons[{index}]"] = ["Give each weapon as an object."]
                continue
            for key in set(item) - set(shapes.WEAPON_FIELDS):
                errors[f"weapons[{index}].{key}"] = ["Unknown field."]
            weapon = {name: item[name] for name in shapes.WEAPON_FIELDS if name in item}
            for name in ("description", "markings"):
                weapon[name] = weapon.get(name) or ""
            weapon["quantity_precision"] = weapon.get("quantity_precision") or QuantityPrecision.EXACT
            weapon["serials"] = weapon.get("serials") or []
            if isinstance(weapon.get("suspected_origin"), str):
                weapon["suspected_origin"] = weapon["suspected_origin"].strip().upper() or None
            weapons.append(weapon)
        return weapons

    def _citations(self, items, errors: dict) -> list[services.CitationData]:
        citations = []
        own_fields = set(shapes.CITATION_FIELDS)
        for index, item in enumerate(_list_or_error(items, "sources", errors)):
            name = f"sources[{index}]"
            if not isinstance(item, dict) or not isinstance(item.get("url"), str):
                errors[name] = ["Give each citation as an object with the source's url."]
                continue
            for key in set(item) - own_fields - set(shapes.SOURCE_FIELDS) - {"id"}:
                errors[f"{name}.{key}"] = ["Unknown field."]
            given = {key: item[key] for key in shapes.SOURCE_FIELDS if key in item}
            for key in ("title", "language", "archived_url"):
                if key in given and given[key] is None:
                    given[key] = ""
            source = self._source(given, name, errors)
            own = {key: item[key] for key in shapes.CITATION_FIELDS if item.get(key) is not None}
            if isinstance(own.get("excerpt"), str) or "excerpt" not in own:
                new_fields = given if source.pk is None else None
                citations.append(services.CitationData(source=source, source_fields=new_fields, **own))
            else:
                errors[f"{name}.excerpt"] = ["Give the excerpt as text."]
        return citations

    def _source(self, given: dict, name: str, errors: dict) -> Source:
        """The stored source with this URL (whose fields must match, as in the API), or a new one."""
        source = self.sources.get(given["url"])
        if source is None:
            source = Source(**given)
            try:
                source.clean_fields(exclude=[f.name for f in Source._meta.fields if f.name not in given])
            except ValidationError as error:
                for key, messages in error.message_dict.items():
                    errors[f"{name}.{key}"] = messages
                return source
            self.sources[source.url] = source  # later rows citing this URL get the same (new) source
            return source
        for key, messages in services.source_differences(source, given).items():
            errors[f"{name}.{key}"] = messages
        return source

    def _actors(self, items, errors: dict) -> list[Actor]:
        actors = []
        for index, item in enumerate(_list_or_error(items, "actors", errors)):
            if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
                errors[f"actors[{index}]"] = ["Give each actor as an object with its name and kind."]
                continue
            key = (item["name"].strip(), item.get("kind") or "unknown")
            if key not in self.actors:
                self.actors[key] = Actor(name=key[0], kind=key[1])
            actors.append(self.actors[key])
        return actors


LIST_LIMITS = {"weapons": MAX_WEAPONS, "sources": MAX_CITATIONS, "actors": MAX_ACTORS, "tags": MAX_TAGS}


def _over_limits(record: dict) -> dict[str, list[str]]:
    """The lists of a row longer than an incident may hold, checked on the raw row."""
    return {
        key: [too_many_items(limit, len(record[key]))]
        for key, limit in LIST_LIMITS.items()
        if isinstance(record.get(key), list) and len(record[key]) > limit
    }


def _null_characters(value, name: str = "") -> dict[str, list[str]]:
    """The first text of a raw row holding a NUL character, named as the API names fields
    (`sources[0].url`): PostgreSQL can neither store nor even look up such text."""
    if isinstance(value, str):
        return {name or "row": ["Null characters are not allowed."]} if "\x00" in value else {}
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _null_characters(item, f"{name}[{key}]" if isinstance(key, int) else f"{name}.{key}" if name else key)
        if found:
            return found
    return {}


def _six_decimals(value):
    """A coordinate rounded to the 6 decimals stored, as the API rounds it; anything else is left for the
    model's validation to report."""
    if isinstance(value, bool) or not isinstance(value, int | float | str) or value == "":
        return value
    try:
        return round(Decimal(str(value)), 6)
    except ArithmeticError:
        return value


def _list_or_empty(value) -> list:
    return value if isinstance(value, list) else []


def _list_or_error(value, name: str, errors: dict) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        errors[name] = ["Give a list."]
        return []
    return value


def _api_names(errors: dict[str, list]) -> dict[str, list]:
    """Model field names as the API calls them."""
    names = {"citations": "sources", "geocode_provider": "geocode.provider", "geocode_query": "geocode.query"}
    names |= {"geocoded_at": "geocode.geocoded_at", "geocode_warning": "geocode.warning", "__all__": "row"}
    return {names.get(key, key): value for key, value in errors.items()}


def _comparable(value):
    if isinstance(value, Decimal):
        return round(value, 6)  # as stored
    return "" if value is None else str(value)  # a country object and its code compare equal


@dataclass
class _Stored:
    """What a stored incident returns, in plain values, to compare an imported row with."""

    pk: int
    fields: dict
    weapons: list = field(default_factory=list)
    citations: list = field(default_factory=list)
    actors: list = field(default_factory=list)
    tags: list = field(default_factory=list)


def _stored_records(uids: list[uuid.UUID]) -> dict[uuid.UUID, _Stored]:
    """The stored incidents with these uids, in five queries of plain values (no model instances: an import
    compares every row of a file with its stored incident)."""
    rows = Incident.objects.filter(uid__in=uids).values("pk", "uid", *shapes.INCIDENT_FIELDS)
    by_id = {row["pk"]: _Stored(row["pk"], row) for row in rows}
    related = [
        ("weapons", WeaponItem.objects.order_by("id").values_list("incident_id", *shapes.WEAPON_FIELDS)),
        ("citations", Citation.objects.values_list("incident_id", "source__url", *shapes.CITATION_FIELDS)),
        ("actors", IncidentActor.objects.values_list("incident_id", "actor__name", "actor__kind")),
        ("tags", IncidentTag.objects.values_list("incident_id", "tag__slug")),
    ]
    for name, query in related:
        for incident_id, *values in query.filter(incident_id__in=list(by_id)):
            getattr(by_id[incident_id], name).append(tuple(values))
    return {stored.fields["uid"]: stored for stored in by_id.values()}


def _same(stored: _Stored, plan: services.IncidentPlan, data: dict) -> bool:
    """Would importing this row change nothing that the stored incident returns?"""
    new = plan.incident
    for name in shapes.INCIDENT_FIELDS:
        if name in data and _comparable(getattr(new, name)) != _comparable(stored.fields[name]):
            return False
    if plan.weapons is not None:
        held = [(c, d, q, p, origin or "", m, tuple(s or ())) for c, d, q, p, origin, m, s in stored.weapons]
        if [services.weapon_key(w) for w in plan.weapons] != held:
            return False
    if plan.citations is not None:
        wanted = sorted((c.source.url, *services.citation_values(c)) for c in plan.citations)
        if wanted != sorted(stored.citations):
            return False
    if plan.actors is not None and sorted((a.name, a.kind) for a in plan.actors) != sorted(stored.actors):
        return False
    return plan.tags is None or sorted(plan.tags) == sorted(slug for (slug,) in stored.tags)
