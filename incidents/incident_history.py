"""An incident's history as its editors read it: one entry per change (an incident and its weapons,
citations, actors and tags saved together are one change, tied by the services' change id), newest
first, each with who, when and every field's old and new value.

django-simple-history keeps a row per model per save; this replays the incident's rows and those of its
inlines in order, rebuilding the record after each change, and compares consecutive states.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from incidents.models import Actor, Citation, Incident, IncidentActor, IncidentTag, Tag, WeaponItem
from incidents.shapes import CITATION_FIELDS, INCIDENT_FIELDS, WEAPON_FIELDS

CHANGE_TYPES = {"+": "created", "~": "changed", "-": "deleted"}
LISTS = ("weapons", "sources", "actors", "tags")


@dataclass
class _State:
    fields: dict = field(default_factory=dict)
    weapons: dict = field(default_factory=dict)  # weapon id -> its fields
    sources: dict = field(default_factory=dict)  # citation id -> the citation
    actors: dict = field(default_factory=dict)  # link id -> actor id
    tags: dict = field(default_factory=dict)  # link id -> tag id

    def record(self, names: dict) -> dict:
        """The state as the history shows it: fields, and the lists in a stable order."""
        shown = {name: _plain(value) for name, value in self.fields.items()}
        shown["weapons"] = [self.weapons[key] for key in sorted(self.weapons)]
        shown["sources"] = sorted(self.sources.values(), key=lambda citation: citation["id"])
        shown["actors"] = sorted((names["actors"].get(i, {"id": i}) for i in self.actors.values()), key=_by_id)
        shown["tags"] = sorted(names["tags"].get(i, str(i)) for i in self.tags.values())
        return shown


def incident_changes(incident_id: int) -> list[dict]:
    """Every change of the incident, newest first: `{changed_at, user, change_type, changes}`."""
    streams = [
        ("incident", Incident.history.filter(id=incident_id).select_related("history_user")),
        ("weapons", WeaponItem.history.filter(incident_id=incident_id).select_related("history_user")),
        ("sources", Citation.history.filter(incident_id=incident_id).select_related("history_user", "source")),
        ("actors", IncidentActor.history.filter(incident_id=incident_id).select_related("history_user")),
        ("tags", IncidentTag.history.filter(incident_id=incident_id).select_related("history_user")),
    ]
    rows = sorted(
        ((row.history_date, row.history_id, kind, row) for kind, query in streams for row in query),
        key=lambda item: (item[0], item[1]),
    )
    groups: dict = defaultdict(list)
    for _, history_id, kind, row in rows:
        groups[row.change_id or f"row-{kind}-{history_id}"].append((kind, row))
    names = _names(rows)

    state, changes = _State(), []
    for group in sorted(groups.values(), key=lambda group: min(row.history_date for _, row in group)):
        before = state.record(names)
        change_type = "changed"
        for kind, row in group:
            _apply(state, kind, row)
            if kind == "incident" and row.history_type != "~":
                change_type = CHANGE_TYPES[row.history_type]
        after = state.record(names)
        diff = {key: [before.get(key), after.get(key)] for key in after if before.get(key) != after.get(key)}
        if change_type == "deleted":
            diff = {}
        user = next((row.history_user for _, row in group if row.history_user), None)
        changes.append(
            {
                "changed_at": max(row.history_date for _, row in group),
                "user": user.get_username() if user else None,
                "change_type": change_type,
                "changes": diff,
            }
        )
    return changes[::-1]


def _apply(state: _State, kind: str, row) -> None:
    removed = row.history_type == "-"
    if kind == "incident":
        if not removed:
            state.fields = {name: getattr(row, name) for name in INCIDENT_FIELDS}
        return
    target = getattr(state, kind)
    if removed:
        target.pop(row.id, None)
    elif kind == "weapons":
        target[row.id] = {name: _plain(getattr(row, name)) for name in WEAPON_FIELDS}
    elif kind == "sources":
        citation = {"id": row.source_id, "url": row.source.url if row.source else None}
        target[row.id] = citation | {name: getattr(row, name) for name in CITATION_FIELDS}
    elif kind == "actors":
        target[row.id] = row.actor_id
    else:
        target[row.id] = row.tag_id


def _names(rows) -> dict:
    """Current names of the actors and tags the history mentions (links keep ids only)."""
    actor_ids = {row.actor_id for _, _, kind, row in rows if kind == "actors"}
    tag_ids = {row.tag_id for _, _, kind, row in rows if kind == "tags"}
    return {
        "actors": {a.pk: {"id": a.pk, "name": a.name, "kind": a.kind} for a in Actor.objects.filter(pk__in=actor_ids)},
        "tags": dict(Tag.objects.filter(pk__in=tag_ids).values_list("pk", "slug")),
    }


def _by_id(item: dict) -> int:
    return item["id"]


def _plain(value):
    """JSON-friendly: countries as codes, decimals as numbers, dates and times as ISO text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, list):  # serials
        return [_plain(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)
