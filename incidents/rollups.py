"""Rollups: counts and weapon sums of incidents by the dimensions that `stats/`, `countries/`, map grids and
list counts read, kept in step with the data so that those answers cost a few thousand rows, not a million.

An incident's contribution is a function of its stored record (`contribution`), and the rollup tables
always hold the sum of the contributions of the stored records: when `records.store` replaces a record it
applies the difference between the old record's contribution and the new one's, and a deleted record
takes its contribution with it (`_withdraw_deleted_record`). So the rollups change in the write's own
transaction, by the same path as the records, and are exactly as current as they are.

`rebuild()` recomputes the tables from the incidents with one aggregate per table (after bringing stale
records up to date), and `audit()` compares the tables with that fresh aggregate.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import orjson
from django.db import connection
from django.db.models import BigIntegerField, Case, Count, Exists, F, OuterRef, Q, QuerySet, Sum, When
from django.db.models.functions import Cast, ExtractMonth, ExtractYear, Mod, Round
from django.db.models.signals import pre_delete
from django.dispatch import receiver

from incidents.choices import ActorKind, DatePrecision, QuantityPrecision
from incidents.geo import CELL_MICRO, GRID_LEVELS, MICRO, cell_of, micro
from incidents.models import GridCell, Incident, IncidentActor, IncidentRecord, Rollup, WeaponItem

KIND = Rollup.Kind

# The tables, their key columns and their summed columns.
ROLLUP_KEYS = ("kind", "status", "country", "period", "incident_type", "verification", "key")
ROLLUP_SUMS = ("incidents", "weapons", "weapons_approximate")
CELL_KEYS = ("status", "level", "x", "y")
CELL_SUMS = ("incidents", "weapons", "weapons_approximate", "longitude_sum", "latitude_sum")
TABLES = {
    "rollup": (Rollup._meta.db_table, ROLLUP_KEYS, ROLLUP_SUMS),
    "cell": (GridCell._meta.db_table, CELL_KEYS, CELL_SUMS),
}


# --- An incident's contribution --------------------------------------------------------------------


def period(day: datetime.date, date_precision: str) -> int:
    """The rollups' time dimension: year × 100 + month, with month 0 for a year-precise date."""
    return day.year * 100 + (0 if date_precision == DatePrecision.YEAR else day.month)


def contribution(record: dict) -> dict[tuple, tuple]:
    """What one incident adds to the rollups, from its editors' record: {(table, *key): sums}.

    The multi-valued keys follow API.md "Stats": an incident counts once under each key it has; `weapons`
    is the quantity under that key for weapon categories and suspected origins, and the incident's own
    weapons for actor kinds and for the rows of incidents without a key."""
    if "status" not in record:
        return {}  # not a record (a test's tampering): it never contributed
    status, country = record["status"], record["country"]
    when = period(datetime.date.fromisoformat(record["occurred_on"]), record["date_precision"])
    weapons = record["weapons"]
    total = record["weapons_total"]
    approximate = sum(_approximate(weapon) for weapon in weapons)
    own = (1, total, approximate)
    found = {
        ("rollup", KIND.INCIDENT, status, country, when, record["incident_type"], record["verification"], ""): own,
        ("rollup", KIND.PLACE_AND_TIME, status, country, when, "", "", ""): own,
        ("rollup", KIND.INCIDENT_TYPE, status, country, when, "", "", record["incident_type"]): own,
        ("rollup", KIND.VERIFICATION, status, country, when, "", "", record["verification"]): own,
    }

    def under(kind: int, sums: dict[str, list[int]], without: tuple) -> None:
        for key, (quantity, approximate_quantity) in (sums or {"": without[1:]}).items():
            found[("rollup", kind, status, country, when, "", "", key)] = (1, quantity, approximate_quantity)

    categories: dict[str, list[int]] = {}
    origins: dict[str, list[int]] = {}
    for weapon in weapons:
        for sums, key in ((categories, weapon["category"]), (origins, weapon["suspected_origin"])):
            if key:
                known = sums.setdefault(key, [0, 0])
                known[0] += weapon["quantity"] or 0
                known[1] += _approximate(weapon)
    under(KIND.WEAPON_CATEGORY, categories, (1, 0, 0))
    under(KIND.SUSPECTED_ORIGIN, origins, own)
    under(KIND.ACTOR_KIND, {actor["kind"]: [total, approximate] for actor in record["actors"]}, own)
    if record["latitude"] is not None and record["longitude"] is not None:
        longitude, latitude = micro(record["longitude"]), micro(record["latitude"])
        for level in GRID_LEVELS:
            cell = cell_of(longitude, latitude, level)
            found[("cell", status, level, *cell)] = (1, total, approximate, longitude, latitude)
    return found


def _approximate(weapon: dict) -> int:
    exact = weapon["quantity"] is None or weapon["quantity_precision"] == QuantityPrecision.EXACT
    return 0 if exact else weapon["quantity"]


# --- Keeping them ----------------------------------------------------------------------------------


def apply(removed: Iterable[dict], added: Iterable[dict]) -> None:
    """Move the rollups from the contributions `removed` to the contributions `added` (call inside the
    write's transaction). Rows are written in key order, so concurrent writers lock them in one order."""
    delta: dict[tuple, list[int]] = defaultdict(lambda: [0] * 5)
    for sign, contributions in ((-1, removed), (1, added)):
        for each in contributions:
            for key, sums in each.items():
                total = delta[key]
                for position, value in enumerate(sums):
                    total[position] += sign * value
    changed = sorted((key, sums) for key, sums in delta.items() if any(sums))
    if changed:
        _write(changed)


def _write(changed: list[tuple[tuple, list[int]]]) -> None:
    with connection.cursor() as cursor:
        for table_name, (table, keys, sums) in TABLES.items():
            mine = [(key[1:], values[: len(sums)]) for key, values in changed if key[0] == table_name]
            if not mine:
                continue
            placeholders = ", ".join(["%s"] * (len(keys) + len(sums)))
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join((*keys, *sums))}) VALUES ({placeholders}) "
                f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
                + ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in sums),
                [(*key, *values) for key, values in mine],
            )
            emptied = [key for key, values in mine if values[0] < 0]
            if emptied:  # a row no incident falls in any more
                cursor.executemany(
                    f"DELETE FROM {table} WHERE {' AND '.join(f'{name} = %s' for name in keys)} AND incidents = 0",
                    emptied,
                )


def stored_contribution(editor_json, public_json) -> dict[tuple, tuple]:
    """The contribution of a stored record (its editors' JSON, or the public one where they are the same)."""
    body = editor_json if editor_json is not None else public_json
    try:
        return contribution(orjson.loads(bytes(body)))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return {}  # not a record (a test's tampering): it never contributed


@receiver(pre_delete, sender=IncidentRecord)
def _withdraw_deleted_record(sender, instance: IncidentRecord, **kwargs) -> None:
    """An incident's record goes with the incident: so does its part of the rollups."""
    apply([stored_contribution(instance.editor_json, instance.public_json)], [])


# --- A fresh aggregate: rebuilding and auditing -----------------------------------------------------


def fresh() -> dict[tuple, tuple]:
    """Every rollup row computed now from the incidents themselves, by the database: {(table, *key): sums}.
    Independent of `contribution`, so that the audit checks that too."""
    found: dict[tuple, tuple] = {}
    incident_dims = ("status", "country", "period")
    own = {"incidents": Count("id"), "weapons": Sum("weapons_total"), "weapons_approximate": Sum("weapons_approximate")}

    def add(kind: int, rows, *, key=None) -> None:
        for row in rows:
            dims = (
                row["status"],
                row["country"],
                row["period"],
                row.get("incident_type", ""),
                row.get("verification", ""),
            )
            found[("rollup", kind, *dims, key if key is not None else row["key"] or "")] = (
                row["incidents"],
                row["weapons"] or 0,
                row["weapons_approximate"] or 0,
            )

    incidents = Incident.objects.order_by().annotate(period=_period())
    add(KIND.INCIDENT, incidents.values(*incident_dims, "incident_type", "verification").annotate(**own), key="")
    add(KIND.PLACE_AND_TIME, incidents.values(*incident_dims).annotate(**own), key="")
    for kind, name in ((KIND.INCIDENT_TYPE, "incident_type"), (KIND.VERIFICATION, "verification")):
        add(kind, incidents.values(*incident_dims, key=F(name)).annotate(**own))
    # Multi-valued keys: one row per incident and key first (an incident counts once under each key it has).
    weapons = WeaponItem.objects.order_by().annotate(
        status=F("incident__status"), country=F("incident__country"), period=_period("incident__")
    )
    by_key = {
        "incidents": Count("incident_id", distinct=True),
        "weapons": Sum("quantity"),
        "weapons_approximate": Sum("quantity", filter=~Q(quantity_precision=QuantityPrecision.EXACT)),
    }
    add(KIND.WEAPON_CATEGORY, weapons.values(*incident_dims, key=F("category")).annotate(**by_key))
    unarmed = incidents.exclude(Exists(WeaponItem.objects.filter(incident=OuterRef("pk"))))
    add(KIND.WEAPON_CATEGORY, unarmed.values(*incident_dims).annotate(**own), key="")
    with_origin = weapons.exclude(suspected_origin__isnull=True).exclude(suspected_origin="")
    add(KIND.SUSPECTED_ORIGIN, with_origin.values(*incident_dims, key=F("suspected_origin")).annotate(**by_key))
    origin = WeaponItem.objects.filter(incident=OuterRef("pk"), suspected_origin__isnull=False).exclude(
        suspected_origin=""
    )
    add(KIND.SUSPECTED_ORIGIN, incidents.exclude(Exists(origin)).values(*incident_dims).annotate(**own), key="")
    for actor_kind in ActorKind.values:
        linked = IncidentActor.objects.filter(incident=OuterRef("pk"), actor__kind=actor_kind)
        add(KIND.ACTOR_KIND, incidents.filter(Exists(linked)).values(*incident_dims).annotate(**own), key=actor_kind)
    alone = incidents.exclude(Exists(IncidentActor.objects.filter(incident=OuterRef("pk"))))
    add(KIND.ACTOR_KIND, alone.values(*incident_dims).annotate(**own), key="")

    longitude = Cast(Round(F("longitude") * MICRO), BigIntegerField())
    latitude = Cast(Round(F("latitude") * MICRO), BigIntegerField())
    for level in GRID_LEVELS:
        size = CELL_MICRO * 10**level
        located = incidents.filter(latitude__isnull=False, longitude__isnull=False).annotate(
            x=(longitude + 180 * MICRO) / size, y=(latitude + 90 * MICRO) / size
        )
        for row in located.values("status", "x", "y").annotate(
            **own, longitude_sum=Sum(longitude), latitude_sum=Sum(latitude)
        ):
            found[("cell", row["status"], level, row["x"], row["y"])] = tuple(row[name] or 0 for name in CELL_SUMS)
    return found


def _period(prefix: str = "") -> Case:
    """`period` in SQL, for the fresh aggregate."""
    year = ExtractYear(f"{prefix}occurred_on") * 100
    return Case(
        When(**{f"{prefix}date_precision": DatePrecision.YEAR}, then=year),
        default=year + ExtractMonth(f"{prefix}occurred_on"),
    )


def stored() -> dict[tuple, tuple]:
    """The rollup tables as they are: {(table, *key): sums}."""
    found = {}
    for table_name, model in (("rollup", Rollup), ("cell", GridCell)):
        _, keys, sums = TABLES[table_name]
        for row in model.objects.values_list(*keys, *sums).iterator(chunk_size=5000):
            found[(table_name, *row[: len(keys)])] = tuple(row[len(keys) :])
    return found


def rebuild() -> int:
    """Replace the tables with a fresh aggregate (the stored records must be current: `rebuild_rollups`
    brings them up to date first). Returns how many rows were written."""
    rows = fresh()
    Rollup.objects.all().delete()
    GridCell.objects.all().delete()
    for table_name, model in (("rollup", Rollup), ("cell", GridCell)):
        _, keys, sums = TABLES[table_name]
        model.objects.bulk_create(
            (
                model(**dict(zip((*keys, *sums), (*key[1:], *values), strict=True)))
                for key, values in sorted(rows.items())
                if key[0] == table_name
            ),
            batch_size=2000,
        )
    return len(rows)


def audit() -> list[str]:
    """Every rollup row that differs from a fresh aggregate (or is missing, or should not be there)."""
    kept, now = stored(), fresh()
    differences = []
    for key in sorted(kept.keys() | now.keys(), key=repr):
        if kept.get(key) != now.get(key):
            differences.append(f"{' '.join(map(str, key))}: stored {kept.get(key)}, fresh {now.get(key)}")
    return differences


# --- Reading -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """A selection the rollups can answer: values of their dimensions (None: any), and whole months."""

    statuses: tuple[str, ...]
    countries: tuple[str, ...] | None = None
    periods: tuple[int, int] | None = None  # (first, last) inclusive; see `periods_between`
    incident_types: tuple[str, ...] | None = None
    verifications: tuple[str, ...] | None = None

    @property
    def detailed(self) -> bool:
        """Whether the filters name incident types or verification states (read from the incident rows)."""
        return {self.incident_types, self.verifications} != {None}

    def incident_rows(self) -> QuerySet[Rollup]:
        """The incident rows: by country and month only, unless the filters need types or verifications."""
        return self.rows(KIND.INCIDENT if self.detailed else KIND.PLACE_AND_TIME)

    def rows(self, kind: int) -> QuerySet[Rollup]:
        rows = Rollup.objects.filter(kind=kind, status__in=self.statuses)
        if self.countries is not None:
            rows = rows.filter(country__in=self.countries)
        if self.periods is not None:
            rows = rows.filter(period__range=self.periods)
        if self.incident_types is not None:
            rows = rows.filter(incident_type__in=self.incident_types)
        if self.verifications is not None:
            rows = rows.filter(verification__in=self.verifications)
        return rows.order_by()


NO_PERIODS = (1, 0)  # an empty range: the dates hold no whole month


def periods_between(first_month: datetime.date | None, last_month: datetime.date | None) -> tuple[int, int]:
    """The `period` range of whole months from `first_month` to `last_month` (either open). A year-precise
    date is January 1st: its period (month 0) is in the range when that January is."""
    low = 0 if first_month is None else first_month.year * 100 + (0 if first_month.month == 1 else first_month.month)
    high = 999_999 if last_month is None else last_month.year * 100 + last_month.month
    return low, high


SUMS = {"incidents": Sum("incidents"), "weapons": Sum("weapons"), "weapons_approximate": Sum("weapons_approximate")}
MULTI_VALUED = {
    "weapon_category": KIND.WEAPON_CATEGORY,
    "suspected_origin": KIND.SUSPECTED_ORIGIN,
    "actor_kind": KIND.ACTOR_KIND,
}
SINGLE_VALUED = {"incident_type": KIND.INCIDENT_TYPE, "verification": KIND.VERIFICATION}


def count(scope: Scope) -> int:
    return scope.incident_rows().aggregate(incidents=Sum("incidents"))["incidents"] or 0


def totals(scope: Scope) -> dict:
    return {name: value or 0 for name, value in scope.incident_rows().aggregate(**SUMS).items()}


def stats(scope: Scope, group_by: str) -> tuple[dict, list[dict]]:
    """`stats/`'s total and rows ({key, incidents, weapons, weapons_approximate}) from the rollups; keys as
    the rows' own aggregate writes them (`selectors.incident_stats`)."""
    total = totals(scope)
    incident_rows = scope.incident_rows()
    keyed = MULTI_VALUED.get(group_by) or (None if scope.detailed else SINGLE_VALUED.get(group_by))
    if keyed is not None:  # rows of their own, `key` the value
        rows = scope.rows(keyed).values(group=F("key")).annotate(**SUMS)
        return total, [_row(row["group"] or None, row) for row in rows]
    if group_by == "month":
        imprecise = incident_rows.annotate(month=Mod("period", 100)).filter(month=0)
        total["imprecise"] = imprecise.aggregate(incidents=Sum("incidents"))["incidents"] or 0
        rows = incident_rows.annotate(month=Mod("period", 100)).exclude(month=0).values("period").annotate(**SUMS)
        return total, [_row(_month(row["period"]), row) for row in rows]
    if group_by == "year":
        rows = incident_rows.annotate(year=F("period") / 100).values("year").annotate(**SUMS)
        return total, [_row(f"{row['year']:04d}", row) for row in rows]
    rows = incident_rows.values(group=F(group_by)).annotate(**SUMS)
    return total, [_row(row["group"], row) for row in rows]


def _row(key: str | None, row: dict) -> dict:
    return {"key": key, **{name: row[name] or 0 for name in SUMS}}


def _month(period: int) -> str:
    return f"{period // 100:04d}-{period % 100:02d}"


def cells(
    statuses: tuple[str, ...], x_range: tuple[int, int], y_range: tuple[int, int], level: int = 0
) -> QuerySet[GridCell]:
    return GridCell.objects.filter(status__in=statuses, level=level, x__range=x_range, y__range=y_range).order_by()


def count_in_bands(statuses: tuple[str, ...], bands: list[tuple[int, int, int, int]]) -> int:
    """How many incidents lie in the cells of `bands` ((first x, last x, first y, last y) each)."""
    if not bands:
        return 0
    x_range = (min(band[0] for band in bands), max(band[1] for band in bands))
    y_range = (min(band[2] for band in bands), max(band[3] for band in bands))
    if len(bands) == 1:
        return cells(statuses, x_range, y_range).aggregate(incidents=Sum("incidents"))["incidents"] or 0
    inside = inner_test(bands)
    rows = cells(statuses, x_range, y_range).values_list("x", "y", "incidents")
    return sum(incidents for x, y, incidents in rows if inside(x, y))


def inner_test(bands: list[tuple[int, int, int, int]]):
    """A test of whether a cell (x, y) lies in `bands`."""
    by_row = {}
    for first_x, last_x, first_y, last_y in bands:
        for y in range(first_y, last_y + 1):
            by_row[y] = (first_x, last_x)

    def inside(x: int, y: int) -> bool:
        found = by_row.get(y)
        return found is not None and found[0] <= x <= found[1]

    return inside
