"""Places on the Earth, in Python and in SQL: the one Earth radius, the great-circle distance, the regions of
the `bbox` and radius filters, the spatial index that finds their candidates (migration 0013), and which
0.01° cells of the grid rollup (`incidents.rollups`) lie wholly inside a region.

A region's filter is the exact test (the coordinates against the box, the great-circle distance) plus, when
the caller asks for it, the spatial index as a prefilter: the index holds SQLite's 32-bit floats, so it
only narrows the candidates and the exact test decides.
"""

import math
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import BooleanField, F, FloatField, Func, Q, QuerySet
from django.db.models.lookups import LessThanOrEqual

EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)
MICRO = 1_000_000  # coordinates are kept to six decimals: in millionths of a degree they are integers
CELLS_PER_DEGREE = 100  # the grid rollup's finest cells (level 0) are 0.01° square
CELL_MICRO = MICRO // CELLS_PER_DEGREE
GRID_LEVELS = (0, 1, 2)  # cells of 0.01°, 0.1° and 1°: level L's cell is 10**L fine cells wide
# How far inside a circle a cell must lie to count as wholly inside it: the SQL distance and this module's
# trigonometry round differently in the last bits, never by a metre.
MARGIN_KM = 0.001


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (lat1, lon1, lat2, lon2))
    a = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(a, 1.0)))


def latitude_delta(radius_km: float) -> float:
    """How many degrees of latitude `radius_km` spans (the same everywhere)."""
    return math.degrees(radius_km / EARTH_RADIUS_KM)


def micro(degrees: float) -> int:
    return round(degrees * MICRO)


def cell_of(longitude_micro: int, latitude_micro: int, level: int = 0) -> tuple[int, int]:
    """The cell of a point at a grid level (0.01° at level 0), numbered from 180°W and 90°S (never negative)."""
    size = CELL_MICRO * 10**level
    return (longitude_micro + 180 * MICRO) // size, (latitude_micro + 90 * MICRO) // size


# A box in degrees: (min_lon, min_lat, max_lon, max_lat), GeoJSON's order, as the `bbox` filter takes it.
Box = tuple[float, float, float, float]


# --- Regions ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoxRegion:
    box: Box

    def boxes(self) -> list[Box]:
        return [self.box]

    def exact(self) -> list:
        """The exact test, as arguments of `QuerySet.filter`."""
        return [_in_boxes(self.boxes())]

    def inner_cells(self, level: int = 0) -> list[tuple[int, int, int, int]] | None:
        """The cells of a grid level wholly inside, as (first x, last x, first y, last y) bands: here one
        rectangle."""
        min_lon, min_lat, max_lon, max_lat = self.box
        size = CELL_MICRO * 10**level
        xs = _inner_range(min_lon, max_lon, 180, size)
        ys = _inner_range(min_lat, max_lat, 90, size)
        return [(*xs, *ys)] if xs and ys else []


@dataclass(frozen=True)
class CircleRegion:
    lat: float
    lon: float
    radius_km: float

    def boxes(self) -> list[Box]:
        """The bounding box, as two boxes where it crosses the antimeridian (or a band round a pole)."""
        lat_delta = latitude_delta(self.radius_km)
        south, north = max(-90.0, self.lat - lat_delta), min(90.0, self.lat + lat_delta)
        lon_delta = self._longitude_reach()
        if lon_delta is None:
            return [(-180.0, south, 180.0, north)]
        west, east = self.lon - lon_delta, self.lon + lon_delta
        if west < -180:
            return [(west + 360, south, 180.0, north), (-180.0, south, east, north)]
        if east > 180:
            return [(west, south, 180.0, north), (-180.0, south, east - 360, north)]
        return [(west, south, east, north)]

    def _longitude_reach(self) -> float | None:
        """Half the box's width in degrees of longitude; None where the circle reaches a pole or round the
        Earth (the box is then a band of every longitude)."""
        lat_delta = latitude_delta(self.radius_km)
        cos_lat = math.cos(math.radians(self.lat))
        if self.lat + lat_delta >= 90 or self.lat - lat_delta <= -90 or cos_lat <= 0:
            return None
        lon_delta = math.degrees(self.radius_km / (EARTH_RADIUS_KM * cos_lat))
        return lon_delta if lon_delta < 180 else None

    def exact(self) -> list:
        """The exact test, as arguments of `QuerySet.filter`: the box first (cheap), then the distance."""
        return [_in_boxes(self.boxes()), LessThanOrEqual(DistanceKm(self.lat, self.lon), self.radius_km)]

    def inner_cells(self) -> list[tuple[int, int, int, int]] | None:
        """The cells wholly inside the circle, as (first x, last x, y, y) bands of one row each; None where
        the circle crosses the antimeridian or reaches a pole (counted exactly there)."""
        boxes = self.boxes()
        if len(boxes) > 1 or self._longitude_reach() is None:
            return None
        _, south, _, north = boxes[0]
        inner = self.radius_km - MARGIN_KM
        bands = []
        first_y, last_y = cell_of(0, micro(south))[1], cell_of(0, micro(north))[1]
        for y in range(first_y, last_y + 1):
            edges = ((y * CELL_MICRO - 90 * MICRO) / MICRO, ((y + 1) * CELL_MICRO - 90 * MICRO) / MICRO)
            reaches = [self._reach_at(latitude, inner) for latitude in edges]
            if None in reaches:  # the circle does not span this row of cells
                continue
            reach = min(reaches)
            xs = _inner_range(self.lon - reach, self.lon + reach, 180)
            if xs:
                bands.append((*xs, y, y))
        return bands

    def _reach_at(self, latitude: float, radius_km: float) -> float | None:
        """How far in longitude (degrees) the circle of `radius_km` reaches at `latitude`; None if not there."""
        phi, phi_c = math.radians(latitude), math.radians(self.lat)
        denominator = math.cos(phi) * math.cos(phi_c)
        if denominator <= 0:
            return None
        cosine = (math.cos(radius_km / EARTH_RADIUS_KM) - math.sin(phi) * math.sin(phi_c)) / denominator
        if cosine > 1:
            return None
        return math.degrees(math.acos(max(-1.0, cosine)))


def _in_boxes(boxes: list[Box]) -> Q:
    found = Q()
    for min_lon, min_lat, max_lon, max_lat in boxes:
        found |= Q(latitude__gte=min_lat, latitude__lte=max_lat, longitude__gte=min_lon, longitude__lte=max_lon)
    return found


def _inner_range(low: float, high: float, offset: int, size: int = CELL_MICRO) -> tuple[int, int] | None:
    """The cells of `size` micro-degrees [first, last] (numbered from `offset`° west or south) whose every
    six-decimal point lies within [low, high] degrees. Computed on the bounds' exact binary values: a
    coordinate inside them exactly is inside them in the database's float comparison too (rounding is
    monotonic)."""
    low_micro, high_micro = (Decimal(low) + offset) * MICRO, (Decimal(high) + offset) * MICRO
    first = math.ceil(low_micro / size)
    last = math.floor((high_micro + 1) / size) - 1  # a cell's last point is one millionth before the next
    return (first, last) if first <= last else None


def in_fine_cells(bands: list[tuple[int, int, int, int]], level: int) -> list[tuple[int, int, int, int]]:
    """Bands of a grid level's cells, in level 0's cells (which `border_boxes` and `inner_test` read)."""
    factor = 10**level
    return [
        (first_x * factor, (last_x + 1) * factor - 1, first_y * factor, (last_y + 1) * factor - 1)
        for first_x, last_x, first_y, last_y in bands
    ]


def border_boxes(region, bands: list[tuple[int, int, int, int]]) -> list[Box]:
    """Boxes covering the parts of the region's bounding box outside the cells of `bands` (its inner
    cells): where the incidents not counted by the grid rollup may lie. At most about MAX_BORDER_BOXES:
    rows of cells are joined where there would be more (the boxes then also cover some inner cells, whose
    incidents the caller skips)."""
    (west, south, east, north), *_ = region.boxes()
    rows = sorted((first_y, last_y, first_x, last_x) for first_x, last_x, first_y, last_y in bands)
    while len(rows) * 3 + 1 > MAX_BORDER_BOXES:
        rows = [_joined(rows[index : index + 2]) for index in range(0, len(rows), 2)]
    boxes = []
    reached = south  # everything south of this is covered
    for first_y, last_y, first_x, last_x in rows:
        row_south, row_north = _edge(first_y, 90), _edge(last_y + 1, 90)
        if row_south > reached:  # rows without inner cells: their whole width
            boxes.append((west, reached, east, row_south))
        boxes.append((west, row_south, _edge(first_x, 180), row_north))
        boxes.append((_edge(last_x + 1, 180), row_south, east, row_north))
        reached = max(reached, row_north)
    if reached < north or not boxes:
        boxes.append((west, reached, east, north))
    return boxes


MAX_BORDER_BOXES = 400  # SQLite joins at most 500 SELECTs in one compound


def _joined(rows: list[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    """Rows of inner cells as one: its border boxes cover what either's would."""
    return rows[0][0], rows[-1][1], max(row[2] for row in rows), min(row[3] for row in rows)


def _edge(index: int, offset_degrees: int) -> float:
    """The west (or south) edge of cell `index`, in degrees."""
    return (index * CELL_MICRO - offset_degrees * MICRO) / MICRO


def region_of(cleaned: dict) -> BoxRegion | CircleRegion | None:
    """The region that cleaned `bbox` or `lat`/`lon`/`radius_km` filters select, if one of them is given."""
    if cleaned.get("bbox") is not None:
        return BoxRegion(tuple(cleaned["bbox"]))
    if cleaned.get("radius_km") is not None:
        return CircleRegion(cleaned["lat"], cleaned["lon"], cleaned["radius_km"])
    return None


def within(queryset: QuerySet, region, *, indexed: bool = True) -> QuerySet:
    """Incidents in `region`: the exact test, after the spatial index's candidates when `indexed`."""
    if indexed:
        queryset = queryset.filter(WithinBoxes(region.boxes()))
    return queryset.filter(*region.exact())


# --- SQL ---------------------------------------------------------------------------------------------


class WithinBoxes(Func):
    """Incidents whose point may lie in one of the boxes, by the spatial index of migration 0013: SQLite's
    R*Tree table `incident_location`, PostgreSQL's GiST index over `point(longitude, latitude)` (the
    expression must be the index's own)."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, boxes: list[Box]):
        super().__init__(F("pk"), F("longitude"), F("latitude"))
        self.boxes = [tuple(float(value) for value in box) for box in boxes]

    def as_sqlite(self, compiler, connection, **extra_context):
        pk, _, _ = (compiler.compile(expression)[0] for expression in self.source_expressions)
        each = (
            "SELECT id FROM incident_location WHERE max_lon >= %s AND min_lon <= %s AND max_lat >= %s AND min_lat <= %s"
        )
        params = [
            value for min_lon, min_lat, max_lon, max_lat in self.boxes for value in (min_lon, max_lon, min_lat, max_lat)
        ]
        return f"{pk} IN ({' UNION ALL '.join([each] * len(self.boxes))})", params

    def as_postgresql(self, compiler, connection, **extra_context):
        _, longitude, latitude = (compiler.compile(expression)[0] for expression in self.source_expressions)
        point = f"point({longitude}::double precision, {latitude}::double precision)"
        each = f"{point} <@ box(point(%s, %s), point(%s, %s))"
        params = [value for box in self.boxes for value in box]
        return f"({' OR '.join([each] * len(self.boxes))})", params


class DistanceKm(Func):
    """Great-circle (haversine) distance from a point to each incident's coordinates, with the argument of
    asin capped at 1 against rounding. One SQL template rather than a tree of Django functions: building
    and compiling that tree cost a quarter of a radius request."""

    output_field = FloatField()
    template = (
        "2 * %s * ASIN(SQRT({least}(1.0, POWER(SIN((RADIANS(CAST({lat} AS double precision)) - %s) / 2), 2) "
        "+ %s * COS(RADIANS(CAST({lat} AS double precision))) "
        "* POWER(SIN((RADIANS(CAST({lon} AS double precision)) - %s) / 2), 2))))"
    )

    def __init__(self, lat: float, lon: float):
        super().__init__(F("latitude"), F("longitude"))
        self.lat, self.lon = math.radians(lat), math.radians(lon)

    def as_sql(self, compiler, connection, **extra_context):
        (lat_sql, lat_params), (lon_sql, lon_params) = (compiler.compile(e) for e in self.source_expressions)
        if lat_params or lon_params:
            raise ValueError("coordinate columns take no parameters")
        least = "MIN" if connection.vendor == "sqlite" else "LEAST"  # SQLite's two-argument MIN is LEAST
        sql = self.template.format(least=least, lat=lat_sql, lon=lon_sql)
        return sql, (EARTH_RADIUS_KM, self.lat, math.cos(self.lat), self.lon)


# --- Audit -------------------------------------------------------------------------------------------


def spatial_index_audit() -> list[str]:
    """Where SQLite's R*Tree table disagrees with the incidents' coordinates (PostgreSQL keeps its GiST index
    itself): an incident missing from it, one too many, or a point outside its entry's box."""
    if connection.vendor != "sqlite":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.id, l.id FROM incidents_incident i LEFT JOIN incident_location l ON l.id = i.id "
            "WHERE i.latitude IS NOT NULL AND i.longitude IS NOT NULL AND (l.id IS NULL OR NOT ("
            "l.min_lon <= i.longitude AND i.longitude <= l.max_lon AND l.min_lat <= i.latitude "
            "AND i.latitude <= l.max_lat)) "
            "UNION ALL SELECT NULL, l.id FROM incident_location l LEFT JOIN incidents_incident i ON i.id = l.id "
            "WHERE i.id IS NULL OR i.latitude IS NULL OR i.longitude IS NULL"
        )
        rows = cursor.fetchall()
    return [
        f"incident {incident_id}: "
        + ("missing from the spatial index" if entry is None else "outside its spatial index entry")
        if incident_id is not None
        else f"spatial index entry {entry}: no incident with coordinates"
        for incident_id, entry in rows
    ]
