"""The rules of API.md, enforced by the services whatever the entry point."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from incidents import services
from incidents.limits import MAX_WEAPONS
from incidents.models import Citation, Incident, Source, Tag, WeaponItem
from tests.factories import cite, incident_data, make_actor, make_incident, make_source

pytestmark = pytest.mark.django_db


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


def tomorrow() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=1)


# --- Published needs a citation -------------------------------------------------------------------


def test_publishing_on_create_without_citation_is_refused_and_writes_nothing():
    """A published incident without citations is refused, and no row is left behind."""
    with pytest.raises(ValidationError) as excinfo:
        services.incident_create(user=None, data=incident_data(status="published", weapons=[{"category": "rifle"}]))
    assert errors_of(excinfo) == {"status": [services.PUBLISHED_NEEDS_CITATION]}
    assert Incident.objects.count() == 0
    assert WeaponItem.objects.count() == 0


def test_publishing_a_draft_without_citation_is_refused():
    incident = make_incident()
    with pytest.raises(ValidationError) as excinfo:
        services.incident_publish(incident=incident, user=None)
    assert errors_of(excinfo) == {"status": [services.PUBLISHED_NEEDS_CITATION]}
    incident.refresh_from_db()
    assert (incident.status, incident.version) == ("draft", 1)


def test_removing_the_last_citation_of_a_published_incident_is_refused():
    incident = make_incident(published=True)
    with pytest.raises(ValidationError) as excinfo:
        services.incident_update(incident=incident, user=None, data={"citations": []})
    assert errors_of(excinfo) == {"sources": [services.PUBLISHED_NEEDS_CITATION]}
    assert Citation.objects.filter(incident=incident).count() == 1
    incident.refresh_from_db()
    assert incident.version == 1


def test_removing_the_last_citation_while_unpublishing_is_allowed():
    """The rule is checked on the final state: archive and drop the citation in one write."""
    incident = make_incident(published=True)
    services.incident_update(incident=incident, user=None, data={"status": "archived", "citations": []})
    assert Citation.objects.filter(incident=incident).count() == 0


def test_publishing_with_a_citation_succeeds():
    incident = make_incident()
    services.incident_update(incident=incident, user=None, data={"citations": [cite(make_source())]})
    published = services.incident_publish(incident=incident, user=None)
    assert (published.status, published.version) == ("published", 3)


# --- Coordinates, dates, quantities, URLs ---------------------------------------------------------


@pytest.mark.parametrize(
    ("coordinates", "field"),
    [
        ({"latitude": Decimal("60.1")}, "longitude"),
        ({"longitude": Decimal("24.9")}, "latitude"),
        ({"latitude": Decimal("90.000001"), "longitude": Decimal("0")}, "latitude"),
        ({"latitude": Decimal("-90.5"), "longitude": Decimal("0")}, "latitude"),
        ({"latitude": Decimal("0"), "longitude": Decimal("180.000001")}, "longitude"),
        ({"latitude": Decimal("0"), "longitude": Decimal("-181")}, "longitude"),
    ],
)
def test_coordinates_out_of_range_or_unpaired_are_refused(coordinates, field):
    with pytest.raises(ValidationError) as excinfo:
        services.incident_create(user=None, data=incident_data(**coordinates))
    assert field in errors_of(excinfo)
    assert Incident.objects.count() == 0


def test_coordinates_at_the_edges_of_the_range_are_kept():
    incident = make_incident(latitude=Decimal("-90"), longitude=Decimal("180"))
    incident.refresh_from_db()
    assert (incident.latitude, incident.longitude) == (Decimal("-90"), Decimal("180"))


def test_manual_coordinates_record_their_provenance():
    incident = make_incident(latitude=Decimal("60.16952"), longitude=Decimal("24.93545"))
    assert incident.geocode_provider == "manual"
    assert incident.geo_precision == "exact"
    assert incident.geocoded_at is not None


def test_removing_coordinates_removes_their_precision_and_provenance():
    incident = make_incident(latitude=Decimal("60.16952"), longitude=Decimal("24.93545"), geo_precision="locality")
    services.incident_update(incident=incident, user=None, data={"latitude": None, "longitude": None})
    incident.refresh_from_db()
    assert (incident.geo_precision, incident.geocode_provider, incident.geocoded_at) == (None, "", None)


def test_geo_precision_without_coordinates_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        services.incident_create(user=None, data=incident_data(geo_precision="locality"))
    assert list(errors_of(excinfo)) == ["geo_precision"]


def test_future_occurred_on_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        services.incident_create(user=None, data=incident_data(occurred_on=tomorrow()))
    assert errors_of(excinfo) == {"occurred_on": ["Date cannot be in the future."]}


def test_today_is_not_in_the_future():
    assert make_incident(occurred_on=timezone.localdate()).occurred_on == timezone.localdate()


def test_future_publication_date_of_a_source_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        make_source(published_on=tomorrow())
    assert list(errors_of(excinfo)) == ["published_on"]


@pytest.mark.parametrize(
    ("precision", "stored"), [("day", "2022-10-30"), ("month", "2022-10-01"), ("year", "2022-01-01")]
)
def test_occurred_on_is_stored_as_the_first_day_of_its_precision(precision, stored):
    incident = make_incident(occurred_on=datetime.date(2022, 10, 30), date_precision=precision)
    incident.refresh_from_db()
    assert incident.occurred_on.isoformat() == stored


def test_negative_weapon_quantity_is_refused_naming_the_item():
    with pytest.raises(ValidationError) as excinfo:
        services.incident_create(
            user=None,
            data=incident_data(weapons=[{"category": "rifle", "quantity": 2}, {"category": "pistol", "quantity": -1}]),
        )
    assert list(errors_of(excinfo)) == ["weapons[1].quantity"]
    assert Incident.objects.count() == 0


def test_unknown_weapon_category_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        services.incident_create(user=None, data=incident_data(weapons=[{"category": "laser"}]))
    assert list(errors_of(excinfo)) == ["weapons[0].category"]


def test_source_url_is_unique():
    make_source(url="https://yle.fi/a/3-12670239")
    with pytest.raises(ValidationError) as excinfo:
        make_source(url="https://yle.fi/a/3-12670239")
    assert list(errors_of(excinfo)) == ["url"]
    assert Source.objects.count() == 1


@pytest.mark.parametrize("url", ["ftp://example.org/file", "javascript:alert(1)", "not a url"])
def test_source_url_must_be_http_or_https(url):
    with pytest.raises(ValidationError) as excinfo:
        make_source(url=url)
    assert list(errors_of(excinfo)) == ["url"]


def test_citing_the_same_source_twice_is_refused():
    source = make_source()
    with pytest.raises(ValidationError) as excinfo:
        services.incident_create(user=None, data=incident_data(citations=[cite(source), cite(source)]))
    assert list(errors_of(excinfo)) == ["sources[1]"]


def test_too_many_weapons_are_refused():
    weapons = [{"category": "pistol", "quantity": 1}] * (MAX_WEAPONS + 1)
    with pytest.raises(ValidationError) as excinfo:
        services.incident_create(user=None, data=incident_data(weapons=weapons))
    assert list(errors_of(excinfo)) == ["weapons"]


def test_invalid_tag_slug_is_refused_and_creates_no_tag():
    with pytest.raises(ValidationError) as excinfo:
        services.incident_create(user=None, data=incident_data(tags=["ukraine-aid", "not a slug"]))
    assert list(errors_of(excinfo)) == ["tags[1]"]
    assert Tag.objects.count() == 0


# --- The database holds what it can, even when the services are bypassed ---------------------------


@pytest.mark.parametrize(
    "values",
    [
        {"latitude": Decimal("10"), "longitude": None, "geo_precision": "exact"},
        {"latitude": Decimal("91"), "longitude": Decimal("0"), "geo_precision": "exact"},
        {"latitude": Decimal("0"), "longitude": Decimal("-181"), "geo_precision": "exact"},
        {"status": "secret"},
        {"version": 0},
    ],
)
def test_database_constraints_refuse_what_the_services_would(values):
    incident = Incident(**{**incident_data(), **values})
    with pytest.raises(IntegrityError), transaction.atomic():
        incident.save()


def test_database_refuses_a_negative_quantity_and_a_duplicate_url():
    incident = make_incident()
    with pytest.raises(IntegrityError), transaction.atomic():
        WeaponItem.objects.create(incident=incident, category="rifle", quantity=-1)
    Source.objects.create(url="https://example.org/a", publisher="P")
    with pytest.raises(IntegrityError), transaction.atomic():
        Source.objects.create(url="https://example.org/a", publisher="Q")


def test_database_refuses_a_duplicate_uid():
    incident = make_incident()
    with pytest.raises(ValidationError) as excinfo:
        services.incident_create(user=None, data=incident_data(), uid=incident.uid)
    assert list(errors_of(excinfo)) == ["uid"]


# --- Derived values and version ------------------------------------------------------------------


def test_weapons_total_sums_known_quantities_only():
    incident = make_incident(
        weapons=[
            {"category": "assault_rifle", "quantity": 22},
            {"category": "anti_tank_weapon", "quantity": 4},
            {"category": "ammunition", "quantity": None},
        ]
    )
    assert incident.weapons_total == 26
    services.incident_update(incident=incident, user=None, data={"weapons": [{"category": "pistol", "quantity": 3}]})
    incident.refresh_from_db()
    assert incident.weapons_total == 3
    assert list(incident.weapons.values_list("category", flat=True)) == ["pistol"]


def test_reported_on_is_the_earliest_publication_date_of_its_sources():
    later = make_source(published_on=datetime.date(2022, 11, 1))
    earlier = make_source(published_on=datetime.date(2022, 10, 30))
    undated = make_source(published_on=None)
    incident = make_incident(citations=[cite(later), cite(undated)])
    assert incident.reported_on == datetime.date(2022, 11, 1)
    services.incident_update(incident=incident, user=None, data={"citations": [cite(later), cite(earlier)]})
    incident.refresh_from_db()
    assert incident.reported_on == datetime.date(2022, 10, 30)
    services.incident_update(incident=incident, user=None, data={"citations": [cite(undated)]})
    incident.refresh_from_db()
    assert incident.reported_on is None


def test_editing_a_source_date_moves_reported_on_and_version_of_citing_incidents():
    source = make_source(published_on=datetime.date(2022, 11, 1))
    citing = make_incident(citations=[cite(source)])
    other = make_incident()
    services.source_update(source=source, user=None, data={"published_on": datetime.date(2022, 10, 31)})
    citing.refresh_from_db()
    other.refresh_from_db()
    assert (citing.reported_on, citing.version) == (datetime.date(2022, 10, 31), 2)
    assert other.version == 1


def test_editing_an_actor_raises_the_version_of_linked_incidents():
    actor = make_actor(name="Bandidos MC", kind="motorcycle_gang")
    incident = make_incident(actors=[actor])
    services.actor_update(actor=actor, user=None, data={"name": "Bandidos Motorcycle Club"})
    incident.refresh_from_db()
    assert incident.version == 2


def test_version_rises_once_per_change_and_not_for_a_repeated_write():
    incident = make_incident(weapons=[{"category": "rifle", "quantity": 1}], tags=["ukraine"])
    assert incident.version == 1
    services.incident_update(incident=incident, user=None, data={"title": "Renamed", "tags": ["ukraine", "nordic"]})
    incident.refresh_from_db()
    assert incident.version == 2
    history_rows = incident.history.count()
    services.incident_update(
        incident=incident,
        user=None,
        data={"title": "Renamed", "tags": ["ukraine", "nordic"], "weapons": [{"category": "rifle", "quantity": 1}]},
    )
    incident.refresh_from_db()
    assert incident.version == 2
    assert incident.history.count() == history_rows


@pytest.mark.parametrize(
    "data",
    [
        {"weapons": [{"category": "rifle", "quantity": 2}]},
        {"tags": ["other"]},
        {"summary": "New wording."},
        {"latitude": Decimal("60"), "longitude": Decimal("25")},
    ],
)
def test_each_kind_of_change_raises_the_version(data):
    incident = make_incident(weapons=[{"category": "rifle", "quantity": 1}], tags=["ukraine"])
    services.incident_update(incident=incident, user=None, data=data)
    incident.refresh_from_db()
    assert incident.version == 2


def test_changing_a_citation_stance_raises_the_version():
    source = make_source()
    incident = make_incident(citations=[cite(source)])
    services.incident_update(incident=incident, user=None, data={"citations": [cite(source, stance="disputes")]})
    incident.refresh_from_db()
    assert incident.version == 2
    assert incident.citations.get().stance == "disputes"


def test_absent_lists_are_left_unchanged():
    actor = make_actor()
    source = make_source()
    incident = make_incident(
        weapons=[{"category": "grenade", "quantity": 2}], citations=[cite(source)], actors=[actor], tags=["grenades"]
    )
    services.incident_update(incident=incident, user=None, data={"title": "Only the title"})
    assert list(incident.weapons.values_list("category", "quantity")) == [("grenade", 2)]
    assert list(incident.citations.values_list("source_id", flat=True)) == [source.pk]
    assert list(incident.actors.all()) == [actor]
    assert list(incident.tags.values_list("slug", flat=True)) == ["grenades"]


def test_tags_are_created_on_first_use_and_reused():
    first = make_incident(tags=["ukraine-aid"])
    second = make_incident(tags=["ukraine-aid", "nordic"])
    assert Tag.objects.count() == 2
    assert first.tags.get() == second.tags.get(slug="ukraine-aid")


def test_stale_expected_version_is_refused_and_changes_nothing():
    incident = make_incident()
    services.incident_update(incident=incident, user=None, data={"title": "First edit"})
    with pytest.raises(services.VersionConflict) as excinfo:
        services.incident_update(incident=incident, user=None, data={"title": "Lost edit"}, expected_version=1)
    assert excinfo.value.current_version == 2
    incident.refresh_from_db()
    assert incident.title == "First edit"


def test_deleting_a_cited_source_is_refused():
    from django.db.models import ProtectedError

    source = make_source()
    make_incident(citations=[cite(source)])
    with pytest.raises(ProtectedError):
        services.source_delete(source=source, user=None)
    assert Source.objects.filter(pk=source.pk).exists()
