"""The aggregates of API.md "Stats", `countries/` and map grids, over a `selectors.Selection`: from the
rollups (`incidents.rollups`) where the filters are their dimensions, from the rows otherwise, with one
shape of answer either way (the tests hold the two to each other)."""

from decimal import Decimal

from django.db.models import BigIntegerField, CharField, Count, Exists, F, Func, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast, Round
from django_countries import countries
from django_countries.fields import Country

from incidents import geo, rollups
from incidents.choices import ActorKind, DatePrecision, IncidentType, QuantityPrecision, Verification, WeaponCategory
from incidents.models import GridCell, Incident, IncidentActor, WeaponItem
from incidents.selectors import Selection

# An incident's weapons, and how many of them are approximate or lower-bound counts ("about 35", "60+").
INCIDENT_WEAPONS = {"weapons": Sum("weapons_total"), "weapons_approximate": Sum("weapons_approximate")}
NOT_EXACT = ~Q(quantity_precision=QuantityPrecision.EXACT)
SUM_NAMES = ("incidents", "weapons", "weapons_approximate")

TIME_KEYS = {"year", "month"}
NULL_LABELS = {"weapon_category": "No weapons", "suspected_origin": "No suspected origin", "actor_kind": "No actors"}


# --- countries/ ------------------------------------------------------------------------------------


def country_summaries(selection: Selection) -> list[dict]:
    """One row per country of the selected incidents: how many, how many weapons (and how many of those
    are approximate counts), the latest date."""
    split = selection.rollup_scope()
    if split is None:
        rows = list(
            selection.incidents.order_by().values("country").annotate(incidents=Count("id"), **INCIDENT_WEAPONS)
        )
    else:
        scope, edges = split
        by_country = scope.incident_rows().values("country").annotate(**rollups.SUMS)
        rows = _merged([by_country, *(_by_country(edge.incidents) for edge in edges)], "country")
    summaries = []
    for row in sorted(rows, key=lambda row: row["country"]):
        if not row["incidents"]:
            continue
        latest = selection.incidents.filter(country=row["country"]).order_by("-occurred_on")
        summaries.append(
            {
                "code": row["country"],
                "name": Country(code=row["country"]).name,
                "incidents": row["incidents"],
                "weapons": row["weapons"] or 0,
                "weapons_approximate": row["weapons_approximate"] or 0,
                # The index of country and date answers this by reading one entry backwards.
                "latest_occurred_on": latest.values_list("occurred_on", flat=True).first(),
            }
        )
    return summaries


def _by_country(incidents: QuerySet[Incident]) -> QuerySet:
    return incidents.order_by().values("country").annotate(incidents=Count("id"), **INCIDENT_WEAPONS)


def _merged(row_lists, key: str) -> list[dict]:
    """Rows of disjoint sets of incidents, summed by `key`."""
    merged: dict = {}
    for rows in row_lists:
        for row in rows:
            kept = merged.setdefault(row[key], {key: row[key], **dict.fromkeys(SUM_NAMES, 0)})
            for name in SUM_NAMES:
                kept[name] += row[name] or 0
    return list(merged.values())


# --- stats/ ------------------------------------------------------------------------------------------


def incident_stats(selection: Selection, group_by: str, *, cell: Decimal | None = None) -> dict:
    """Aggregates of API.md "Stats": one row per key, with how many incidents and weapons, and how many of
    those weapons are approximate or lower-bound counts (`weapons_approximate`).

    For the multi-valued keys (weapon_category, suspected_origin, actor_kind) an incident counts once under
    each key it has; `weapons` is the quantity under that key (for actor_kind: the weapons of the incidents
    linked to such an actor). Incidents with no value form the `null` row. `grid` counts incidents per
    square cell of `cell` degrees (API.md "Releases and feeds")."""
    if group_by == "grid":
        total, rows = grid_stats(selection, cell)
    else:
        total, rows = _stats(selection, group_by)
    labels = _stats_labels(group_by)
    results = [
        {
            "key": row["key"],
            "label": NULL_LABELS.get(group_by, "None") if row["key"] is None else labels.get(row["key"], row["key"]),
            **_weapons_counted(row),
            **({"center": row["center"]} if "center" in row else {}),
        }
        for row in rows
        if row["incidents"]
    ]
    if group_by in TIME_KEYS:
        results.sort(key=lambda row: row["key"])
    else:
        results.sort(key=lambda row: (-row["incidents"], row["key"] is None, row["key"] or ""))
    return {"group_by": group_by, "total": total, "results": results}


def _stats(selection: Selection, group_by: str) -> tuple[dict, list[dict]]:
    """From the rollups (whole months) and the rows (days that do not fill a month), or from the rows."""
    split = selection.rollup_scope(incident_rows=group_by not in rollups.MULTI_VALUED)
    if split is None:
        return stats_from_rows(selection.incidents, group_by)
    scope, edges = split
    parts = [rollups.stats(scope, group_by), *(stats_from_rows(edge.incidents, group_by) for edge in edges)]
    total = dict.fromkeys(parts[0][0], 0)
    for part_total, _ in parts:
        for name, value in part_total.items():
            total[name] = total.get(name, 0) + value
    return total, _merged([rows for _, rows in parts], "key")


def _weapons_counted(row: dict) -> dict:
    return {
        "incidents": row["incidents"],
        "weapons": row["weapons"] or 0,
        "weapons_approximate": row["weapons_approximate"] or 0,
    }


def stats_from_rows(incidents: QuerySet[Incident], group_by: str) -> tuple[dict, list[dict]]:
    """`stats/`'s total and rows, aggregated from the incidents themselves."""
    incidents = incidents.order_by()
    total = _weapons_counted(incidents.aggregate(incidents=Count("id"), **INCIDENT_WEAPONS))

    def grouped(queryset, key_expression, **weapons):
        # An incident is one row of its own table, but may have several weapons of one category.
        count = Count("id") if queryset.model is Incident else Count("incident_id", distinct=True)
        rows = queryset.annotate(key=key_expression).values("key").annotate(incidents=count, **weapons).order_by()
        return [{**row, "key": None if row["key"] is None else str(row["key"])} for row in rows]

    def rest(queryset, key=None) -> dict:
        return {"key": key, **queryset.aggregate(incidents=Count("id"), **INCIDENT_WEAPONS)}

    if group_by in ("country", "incident_type", "verification"):
        return total, grouped(incidents, F(group_by), **INCIDENT_WEAPONS)
    if group_by == "year":
        return total, grouped(incidents, DatePart("occurred_on", "year"), **INCIDENT_WEAPONS)
    if group_by == "month":
        total["imprecise"] = incidents.filter(date_precision=DatePrecision.YEAR).count()
        precise = incidents.exclude(date_precision=DatePrecision.YEAR)
        return total, grouped(precise, DatePart("occurred_on", "month"), **INCIDENT_WEAPONS)
    weapons = WeaponItem.objects.filter(incident__in=incidents)
    quantities = {"weapons": Sum("quantity"), "weapons_approximate": Sum("quantity", filter=NOT_EXACT)}
    if group_by == "weapon_category":
        without = incidents.exclude(Exists(WeaponItem.objects.filter(incident=OuterRef("pk"))))
        none = {"key": None, "incidents": without.count(), "weapons": 0, "weapons_approximate": 0}
        return total, [*grouped(weapons, F("category"), **quantities), none]
    if group_by == "suspected_origin":
        with_origin = weapons.exclude(suspected_origin__isnull=True).exclude(suspected_origin="")
        has_origin = WeaponItem.objects.filter(incident=OuterRef("pk"), suspected_origin__isnull=False)
        without = incidents.exclude(Exists(has_origin.exclude(suspected_origin="")))
        return total, [*grouped(with_origin, F("suspected_origin"), **quantities), rest(without)]
    if group_by == "actor_kind":
        rows = [
            rest(
                incidents.filter(Exists(IncidentActor.objects.filter(incident=OuterRef("pk"), actor__kind=kind))), kind
            )
            for kind in ActorKind.values
        ]
        return total, [*rows, rest(incidents.exclude(Exists(IncidentActor.objects.filter(incident=OuterRef("pk")))))]
    raise ValueError(f"unknown group_by {group_by!r}")


class DatePart(Func):
    """A date's year ("2022") or month ("2022-10") as text, in the database's own functions: Django's
    ExtractYear and ExtractMonth call Python once per row on SQLite, which made the stats slow."""

    output_field = CharField()
    FORMATS = {"year": (4, "YYYY"), "month": (7, "YYYY-MM")}

    def __init__(self, expression, part: str):
        self.sqlite_length, self.postgresql_format = self.FORMATS[part]
        super().__init__(expression)

    def as_sqlite(self, compiler, connection, **extra_context):
        # Django stores a date in SQLite as ISO text, "2022-10-30": its head is the part (cheaper than strftime).
        call = Func(*self.source_expressions, Value(1), Value(self.sqlite_length), function="substr")
        return call.as_sql(compiler, connection, **extra_context)

    def as_postgresql(self, compiler, connection, **extra_context):
        call = Func(*self.source_expressions, Value(self.postgresql_format), function="to_char")
        return call.as_sql(compiler, connection, **extra_context)


def _stats_labels(group_by: str) -> dict[str, str]:
    if group_by in ("country", "suspected_origin"):
        return {country.code: country.name for country in countries}
    enums = {
        "incident_type": IncidentType,
        "verification": Verification,
        "weapon_category": WeaponCategory,
        "actor_kind": ActorKind,
    }
    return dict(enums[group_by].choices) if group_by in enums else {}


# --- Map grids ---------------------------------------------------------------------------------------


def grid_stats(selection: Selection, cell: Decimal) -> tuple[dict, list[dict]]:
    """Incidents and weapons per square cell of `cell` degrees (a multiple of 0.01), keyed by the cell's
    south-west corner, with the centre of its incidents. From the grid rollup when the only filters are
    `bbox` and `status` (the cells on a box's border from their incidents); from the rows otherwise.
    `total` counts every selected incident, `unlocated` those without coordinates."""
    fine_per_cell = int(cell * geo.CELLS_PER_DEGREE)
    statuses = selection.statuses()
    region = geo.region_of(selection.cleaned)
    located_incidents = selection.incidents.filter(latitude__isnull=False, longitude__isnull=False)
    if selection.filters <= {"bbox", "status"}:
        # the coarsest level whose cells tile the requested ones: a coarse map reads few rows
        level = max(level for level in geo.GRID_LEVELS if fine_per_cell % 10**level == 0)
        cells = GridCell.objects.filter(status__in=statuses, level=level).order_by()
        extra: list[tuple] = []
        if region is not None:
            bands = region.inner_cells(level)
            if not bands:
                cells, extra = GridCell.objects.none(), _points(located_incidents)
            else:
                (first_x, last_x, first_y, last_y), *_ = bands
                cells = rollups.cells(statuses, (first_x, last_x), (first_y, last_y), level)
                fine_bands = geo.in_fine_cells(bands, level)
                border = selection.in_border(region, fine_bands)
                inside = rollups.inner_test(fine_bands)
                extra = [point for point in _points(border) if not inside(*geo.cell_of(point[3], point[4]))]
        sums = {name: Sum(name) for name in rollups.CELL_SUMS}
        rows = _coarse(cells, fine_per_cell // 10**level, sums, level) + _coarse_points(extra, fine_per_cell)
    else:
        rows = _coarse(_with_cells(located_incidents), fine_per_cell, CELL_SUMS_OF_ROWS)
    grid = _merged_cells(rows, cell)
    located = {name: sum(row[name] for row in grid) for name in SUM_NAMES}
    if region is not None:
        total = {**located, "unlocated": 0}
    else:
        everything = _totals(selection)
        total = {**everything, "unlocated": everything["incidents"] - located["incidents"]}
    return total, grid


def _totals(selection: Selection) -> dict:
    """How many incidents and weapons the selection holds: from the rollups where they can tell."""
    split = selection.rollup_scope()
    if split is None:
        return _weapons_counted(selection.incidents.aggregate(incidents=Count("id"), **INCIDENT_WEAPONS))
    scope, edges = split
    parts = [rollups.totals(scope)]
    parts += [_weapons_counted(edge.incidents.aggregate(incidents=Count("id"), **INCIDENT_WEAPONS)) for edge in edges]
    return {name: sum(part[name] for part in parts) for name in SUM_NAMES}


def _with_cells(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    """Each incident's coordinates in millionths of a degree and its 0.01° cell, as the grid rollup's."""
    return incidents.order_by().annotate(
        longitude_micro=Cast(Round(F("longitude") * geo.MICRO), BigIntegerField()),
        latitude_micro=Cast(Round(F("latitude") * geo.MICRO), BigIntegerField()),
        x=(F("longitude_micro") + 180 * geo.MICRO) / geo.CELL_MICRO,
        y=(F("latitude_micro") + 90 * geo.MICRO) / geo.CELL_MICRO,
    )


CELL_SUMS_OF_ROWS = {
    "incidents": Count("id"),
    **INCIDENT_WEAPONS,
    "longitude_sum": Sum("longitude_micro"),
    "latitude_sum": Sum("latitude_micro"),
}


def _coarse(fine: QuerySet, per_cell: int, sums: dict, level: int = 0) -> list[tuple]:
    """A level's cells (x, y from 180°W and 90°S) summed into cells of `per_cell` of them, numbered from 0°:
    floor division written for SQL's truncating one (the numerator is kept positive)."""
    per_degree = geo.CELLS_PER_DEGREE // 10**level
    lift = -(-180 * per_degree // per_cell) + 1  # whole coarse cells that make every numerator positive
    rows = (
        fine.annotate(
            cx=(F("x") + (lift * per_cell - 180 * per_degree)) / per_cell - lift,
            cy=(F("y") + (lift * per_cell - 90 * per_degree)) / per_cell - lift,
        )
        .values("cx", "cy")
        .annotate(**sums)
        .order_by()
    )
    return [(row["cx"], row["cy"], *(row[name] or 0 for name in rollups.CELL_SUMS)) for row in rows]


def _points(incidents: QuerySet[Incident]) -> list[tuple]:
    """Single incidents as grid rows: (weapons, approximate, 1, longitude and latitude in millionths)."""
    return [
        (total, approximate, 1, geo.micro(longitude), geo.micro(latitude))
        for total, approximate, longitude, latitude in incidents.values_list(
            "weapons_total", "weapons_approximate", "longitude", "latitude"
        )
    ]


def _coarse_points(points: list[tuple], per_cell: int) -> list[tuple]:
    rows = []
    for weapons, approximate, incidents, longitude, latitude in points:
        x, y = geo.cell_of(longitude, latitude)
        cx = (x - 180 * geo.CELLS_PER_DEGREE) // per_cell
        cy = (y - 90 * geo.CELLS_PER_DEGREE) // per_cell
        rows.append((cx, cy, incidents, weapons, approximate, longitude, latitude))
    return rows


def _merged_cells(rows: list[tuple], cell: Decimal) -> list[dict]:
    merged: dict[tuple[int, int], list[int]] = {}
    for cx, cy, *sums in rows:
        kept = merged.setdefault((cx, cy), [0] * len(sums))
        for position, value in enumerate(sums):
            kept[position] += value
    results = []
    for (cx, cy), (incidents, weapons, approximate, longitude_sum, latitude_sum) in merged.items():
        if not incidents:
            continue
        results.append(
            {
                "key": f"{_degrees(cx * cell)},{_degrees(cy * cell)}",
                "incidents": incidents,
                "weapons": weapons,
                "weapons_approximate": approximate,
                "center": [
                    round(longitude_sum / incidents / geo.MICRO, 6),
                    round(latitude_sum / incidents / geo.MICRO, 6),
                ],
            }
        )
    return results


def _degrees(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text
