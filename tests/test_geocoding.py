"""Geocoding with the network blocked: the offline gazetteer, the cache, provenance, the country check, and
the networked path run against a fake at geopy's HTTP boundary."""

import io
import math
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.urls import reverse
from geopy.adapters import BaseSyncAdapter
from geopy.exc import GeocoderTimedOut, GeocoderUnavailable
from rest_framework import status

from incidents import geocoding, services
from incidents.models import GeocodeCache, Incident
from tests.factories import make_incident

pytestmark = pytest.mark.django_db

LIST_URL = reverse("incident-list")
NOMINATIM_AGENT = "arms-diversion-tracker-tests/1.0 (tests@example.org)"


def distance_km(lat1, lon1, lat2, lon2) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, map(float, (lat1, lon1, lat2, lon2)))
    a = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def create(client, **fields) -> dict:
    body = {"title": "Seizure", "incident_type": "seizure", "occurred_on": "2023-01-01", **fields}
    response = client.post(LIST_URL, body, format="json")
    assert response.status_code == status.HTTP_201_CREATED, response.json()
    return response.json()


# --- The offline gazetteer, through the API --------------------------------------------------------

# Widely published city-centre coordinates, independent of GeoNames.
REAL_PLACES = [
    ("Helsinki", "FI", 60.1699, 24.9384),
    ("Tampere", "FI", 61.4978, 23.7610),
    ("Stockholm", "SE", 59.3293, 18.0686),
    ("Gothenburg", "SE", 57.7089, 11.9746),
    ("Copenhagen", "DK", 55.6761, 12.5683),
    ("Amsterdam", "NL", 52.3676, 4.9041),
    ("Rotterdam", "NL", 51.9244, 4.4777),
    ("Linz", "AT", 48.3069, 14.2858),
    ("Derry", "GB", 54.9966, -7.3086),
    ("Kyiv", "UA", 50.4501, 30.5234),
    ("Paris", "FR", 48.8566, 2.3522),
]


@pytest.mark.parametrize(("place", "country", "latitude", "longitude"), REAL_PLACES)
def test_a_place_lands_within_25_km_of_its_true_position(editor_client, place, country, latitude, longitude):
    record = create(editor_client, place=place, country=country)
    assert distance_km(record["latitude"], record["longitude"], latitude, longitude) < 25
    assert record["geo_precision"] == "locality"
    assert record["geocode"]["provider"] == "gazetteer"
    assert record["geocode"]["query"] == place
    assert record["geocode"]["geocoded_at"] is not None
    assert record["geocode"]["warning"] is None


def test_the_same_name_resolves_by_country():
    paris_fr = geocoding.locate(place="Paris", admin1="", country="FR")
    paris_us = geocoding.locate(place="Paris", admin1="", country="US")
    assert distance_km(paris_fr.latitude, paris_fr.longitude, 48.8566, 2.3522) < 25
    assert 25 < paris_us.latitude < 50 and -125 < paris_us.longitude < -65


@pytest.mark.parametrize(
    ("typed", "country", "latitude", "longitude"),
    [
        ("Malmo", "SE", 55.6050, 13.0038),
        ("MALMÖ", "SE", 55.6050, 13.0038),
        ("Helsingfors", "FI", 60.1699, 24.9384),
        ("Göteborg", "SE", 57.7089, 11.9746),
        ("Kiev", "UA", 50.4501, 30.5234),
        ("Londonderry", "GB", 54.9966, -7.3086),
        ("Den Haag", "NL", 52.0705, 4.3007),
    ],
)
def test_accents_case_and_alternate_names(typed, country, latitude, longitude):
    result = geocoding.locate(place=typed, admin1="", country=country)
    assert distance_km(result.latitude, result.longitude, latitude, longitude) < 25


def test_a_small_town_is_found_too():
    """Strabane has fewer than 15,000 people: only the fuller GeoNames list has it."""
    result = geocoding.locate(place="Strabane", admin1="", country="GB")
    assert distance_km(result.latitude, result.longitude, 54.8273, -7.4633) < 10


def test_an_unknown_place_saves_without_coordinates(editor_client):
    record = create(editor_client, place="Kulhuse", country="DK")
    assert (record["latitude"], record["longitude"], record["geo_precision"], record["geocode"]) == (
        None,
        None,
        None,
        None,
    )


def test_a_region_alone_is_not_geocoded_by_the_gazetteer(editor_client):
    record = create(editor_client, admin1="Uusimaa", country="FI")
    assert record["latitude"] is None


def test_a_repeated_lookup_is_served_by_the_cache(monkeypatch):
    calls = []
    real_geocode = geocoding.GazetteerGeocoder.geocode

    def counting_geocode(self, query, **kwargs):
        calls.append(query)
        return real_geocode(self, query, **kwargs)

    monkeypatch.setattr(geocoding.GazetteerGeocoder, "geocode", counting_geocode)
    first = geocoding.locate(place="Malmö", admin1="", country="SE")
    second = geocoding.locate(place="malmo", admin1="", country="se")
    assert calls == ["Malmö"]
    assert (first.latitude, first.longitude) == (second.latitude, second.longitude)
    assert geocoding.locate(place="Nowhere Town", admin1="", country="SE") is None
    assert geocoding.locate(place="Nowhere Town", admin1="", country="SE") is None
    assert calls == ["Malmö", "Nowhere Town"]
    assert GeocodeCache.objects.filter(found=False).count() == 1


# --- Provenance on writes -------------------------------------------------------------------------


def test_manual_coordinates_are_kept(editor_client):
    record = create(editor_client, place="Helsinki", country="FI", latitude=60.20963, longitude=25.14195)
    assert (record["latitude"], record["longitude"]) == (60.20963, 25.14195)
    assert record["geocode"]["provider"] == "manual"


def test_a_changed_place_re_geocodes_gazetteer_coordinates(editor_client):
    record = create(editor_client, place="Helsinki", country="FI")
    response = editor_client.patch(reverse("incident-detail", args=[record["id"]]), {"place": "Tampere"}, format="json")
    moved = response.json()
    assert distance_km(moved["latitude"], moved["longitude"], 61.4978, 23.7610) < 25
    assert moved["geocode"]["query"] == "Tampere"


def test_a_changed_place_keeps_manual_coordinates(editor_client):
    record = create(editor_client, place="Vuosaari", country="FI", latitude=60.20963, longitude=25.14195)
    response = editor_client.patch(reverse("incident-detail", args=[record["id"]]), {"place": "Tampere"}, format="json")
    assert (response.json()["latitude"], response.json()["geocode"]["provider"]) == (60.20963, "manual")


def test_a_changed_place_that_cannot_be_found_drops_the_old_coordinates(editor_client):
    record = create(editor_client, place="Helsinki", country="FI")
    response = editor_client.patch(
        reverse("incident-detail", args=[record["id"]]), {"place": "Unknownplace"}, format="json"
    )
    assert (response.json()["latitude"], response.json()["geocode"]) == (None, None)


# --- The country check ----------------------------------------------------------------------------


def test_coordinates_far_from_the_country_carry_a_warning(editor_client):
    far = create(editor_client, country="FI", latitude=48.8566, longitude=2.3522)
    near = create(editor_client, country="FI", latitude=60.3, longitude=25.0)
    assert far["geocode"]["warning"] == "More than 100 km from every gazetteer place in Finland."
    assert near["geocode"]["warning"] is None


def test_changing_the_country_runs_the_check_again(editor_client):
    record = create(editor_client, country="FI", latitude=59.3293, longitude=18.0686)
    assert record["geocode"]["warning"]
    response = editor_client.patch(reverse("incident-detail", args=[record["id"]]), {"country": "SE"}, format="json")
    assert response.json()["geocode"]["warning"] is None


def test_editors_can_filter_warnings_in_the_admin(client, editor_user):
    make_incident(title="Far", country="FI", latitude=Decimal("48.8566"), longitude=Decimal("2.3522"))
    make_incident(title="Near", country="FI", latitude=Decimal("60.3"), longitude=Decimal("25.0"))
    client.force_login(editor_user)
    response = client.get(reverse("admin:incidents_incident_changelist"), {"geocode_warning": "yes"})
    assert [incident.title for incident in response.context["cl"].result_list] == ["Far"]


# --- Editors' tools -------------------------------------------------------------------------------


def test_geocode_endpoint_answers_editors(editor_client):
    response = editor_client.get(reverse("geocode"), {"q": "malmo", "country": "se"})
    assert response.status_code == status.HTTP_200_OK
    body = response.json()
    assert set(body) == {"query", "country", "latitude", "longitude", "geo_precision", "provider", "warning"}
    assert (body["query"], body["country"], body["provider"], body["geo_precision"]) == (
        "malmo",
        "SE",
        "gazetteer",
        "locality",
    )
    assert distance_km(body["latitude"], body["longitude"], 55.6050, 13.0038) < 25


def test_geocode_endpoint_404_400_401_403(anon_client, reader_client, editor_client):
    assert editor_client.get(reverse("geocode"), {"q": "Nowhere Town", "country": "SE"}).status_code == 404
    bad = editor_client.get(reverse("geocode"), {"q": "Malmö"})
    assert (bad.status_code, list(bad.json())) == (400, ["country"])
    assert anon_client.get(reverse("geocode"), {"q": "Malmö", "country": "SE"}).status_code == 401
    assert reader_client.get(reverse("geocode"), {"q": "Malmö", "country": "SE"}).status_code == 403


def place_without_coordinates(place: str, country: str) -> Incident:
    """An incident whose place was typed while it could not be geocoded (coordinates since removed)."""
    incident = make_incident(place=place, country=country)
    services.incident_update(incident=incident, user=None, data={"latitude": None, "longitude": None})
    incident.refresh_from_db()
    assert not incident.has_coordinates
    return incident


def test_geocode_incidents_command_fills_missing_coordinates(editor_user):
    missing = place_without_coordinates("Turku", "FI")
    manual = make_incident(place="Turku", country="FI", latitude=Decimal("60.0"), longitude=Decimal("22.0"))
    out = io.StringIO()
    call_command("geocode_incidents", "--user", editor_user.username, stdout=out, stderr=io.StringIO())
    missing.refresh_from_db()
    manual.refresh_from_db()
    assert distance_km(missing.latitude, missing.longitude, 60.4518, 22.2666) < 25
    assert missing.history.first().history_user == editor_user
    assert (manual.latitude, manual.geocode_provider) == (Decimal("60.0"), "manual")
    assert out.getvalue().strip() == "1 of 1 incidents have coordinates."


def test_geocode_selected_admin_action(client, editor_user):
    incident = place_without_coordinates("Lahti", "FI")
    client.force_login(editor_user)
    response = client.post(
        reverse("admin:incidents_incident_changelist"),
        {"action": "geocode_selected", "_selected_action": [incident.pk]},
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.geocode_provider, incident.geo_precision) == ("gazetteer", "locality")


# --- The networked path, against a fake at geopy's HTTP boundary ----------------------------------


class FakeNominatim(BaseSyncAdapter):
    """Stands in for the HTTP client geopy would use; the geocoder code above it runs for real."""

    requests: list = []
    answer = None  # a list of Nominatim results, or an exception to raise

    def __init__(self, *, proxies=None, ssl_context=None):
        super().__init__(proxies=proxies, ssl_context=ssl_context)

    def get_json(self, url, *, timeout, headers):
        FakeNominatim.requests.append({"url": url, "timeout": timeout, "headers": headers})
        if isinstance(FakeNominatim.answer, Exception):
            raise FakeNominatim.answer
        return FakeNominatim.answer

    def get_text(self, url, *, timeout, headers):
        raise NotImplementedError


@pytest.fixture
def nominatim(settings, monkeypatch):
    import geopy.geocoders

    settings.GEOCODER = "nominatim"
    settings.GEOCODER_USER_AGENT = NOMINATIM_AGENT
    settings.GEOCODER_MIN_DELAY_SECONDS = 0.0
    monkeypatch.setattr(geopy.geocoders.options, "default_adapter_factory", FakeNominatim)
    FakeNominatim.requests = []
    FakeNominatim.answer = [
        {
            "lat": "60.1674881",
            "lon": "24.9427473",
            "display_name": "Helsinki, Helsinki sub-region, Uusimaa, Finland",
            "addresstype": "city",
            "type": "administrative",
        }
    ]
    return FakeNominatim


def test_nominatim_is_asked_with_our_user_agent_and_country(editor_client, nominatim):
    record = create(editor_client, place="Helsinki", admin1="Uusimaa", country="FI")
    assert (record["latitude"], record["longitude"]) == (60.167488, 24.942747)
    assert (record["geo_precision"], record["geocode"]["provider"]) == ("locality", "nominatim")
    [request] = nominatim.requests
    assert request["headers"]["User-Agent"] == NOMINATIM_AGENT
    assert "countrycodes=fi" in request["url"] and "q=Helsinki%2C+Uusimaa" in request["url"]
    assert request["timeout"] == 5


def test_a_region_alone_goes_to_nominatim(editor_client, nominatim):
    nominatim.answer[0]["addresstype"] = "state"
    record = create(editor_client, admin1="Uusimaa", country="FI")
    assert record["geo_precision"] == "region"


@pytest.mark.parametrize("failure", [GeocoderTimedOut("timed out"), GeocoderUnavailable("503")])
def test_a_provider_failure_saves_without_coordinates_and_is_not_cached(editor_client, nominatim, failure):
    nominatim.answer = failure
    record = create(editor_client, place="Helsinki", country="FI")
    assert record["latitude"] is None
    assert not GeocodeCache.objects.exists()


def test_the_rate_limit_holds_across_workers():
    """Two limiters (two workers) share the cache: the second waits for the first one's slot to pass."""
    now = [1000.0]
    waits = []

    def sleep(seconds):
        waits.append(round(seconds, 3))
        now[0] += seconds

    worker_a = geocoding.SharedRateLimiter("nominatim-test", 1.0, clock=lambda: now[0], sleep=sleep)
    worker_b = geocoding.SharedRateLimiter("nominatim-test", 1.0, clock=lambda: now[0], sleep=sleep)
    worker_a.wait_for_slot()
    now[0] += 0.25
    worker_b.wait_for_slot()
    worker_a.wait_for_slot()
    assert waits == [0.75, 1.0]


@pytest.mark.parametrize("user_agent", ["", "my-application", "my_app/1", "specify_your_app_name_here", "geopy/2.5.0"])
def test_a_user_agent_nominatim_would_refuse_is_a_configuration_error(user_agent):
    with pytest.raises(ImproperlyConfigured, match="GEOCODER_USER_AGENT"):
        geocoding.check_geocoder_settings("nominatim", user_agent)


def test_a_proper_user_agent_and_the_gazetteer_pass_the_check():
    geocoding.check_geocoder_settings("nominatim", NOMINATIM_AGENT)
    geocoding.check_geocoder_settings("gazetteer", "")
    with pytest.raises(ImproperlyConfigured, match="not a geopy geocoder"):
        geocoding.check_geocoder_settings("no-such-service", NOMINATIM_AGENT)
