"""Distances on the Earth, in Python and in SQL: the one Earth radius, the great-circle distance, and the
radius filter (an index-friendly box first, then the exact distance on the candidates)."""

import math

from django.db.models import F, FloatField, Func, Q, QuerySet

EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (lat1, lon1, lat2, lon2))
    a = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(a, 1.0)))


def latitude_delta(radius_km: float) -> float:
    """How many degrees of latitude `radius_km` spans (the same everywhere)."""
    return math.degrees(radius_km / EARTH_RADIUS_KM)


def within_radius(queryset: QuerySet, *, lat: float, lon: float, radius_km: float) -> QuerySet:
    """Incidents within a great-circle radius: an index-friendly box first, then the exact distance."""
    lat_delta = latitude_delta(radius_km)
    box = Q(latitude__gte=max(-90.0, lat - lat_delta), latitude__lte=min(90.0, lat + lat_delta))
    cos_lat = math.cos(math.radians(lat))
    near_pole = lat + lat_delta >= 90 or lat - lat_delta <= -90
    if not near_pole and cos_lat > 0:
        lon_delta = math.degrees(radius_km / (EARTH_RADIUS_KM * cos_lat))
        if lon_delta < 180:
            west, east = lon - lon_delta, lon + lon_delta
            if west < -180:  # the box crosses the antimeridian: two longitude ranges
                box &= Q(longitude__gte=west + 360) | Q(longitude__lte=east)
            elif east > 180:
                box &= Q(longitude__gte=west) | Q(longitude__lte=east - 360)
            else:
                box &= Q(longitude__gte=west, longitude__lte=east)
    return queryset.filter(box).alias(distance_km=DistanceKm(lat, lon)).filter(distance_km__lte=radius_km)


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
