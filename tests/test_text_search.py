"""`q` is served by a trigram index (SQLite FTS5 kept by triggers, PostgreSQL pg_trgm): it must find
exactly what a plain substring scan of the stored search text finds, after every kind of write."""

import pytest
from django.db.models import Q

from incidents import services
from incidents.models import Incident
from incidents.search import term_matches
from tests.factories import make_actor, make_incident

pytestmark = pytest.mark.django_db

TERMS = ["malm", "malmo", "helsinki", "ak", "a", "ö", "jane doe", 'o"b', "50%", "x_y", "nowhere", "seizure"]


def found(term: str, *, private: bool) -> set[int]:
    return set(Incident.objects.filter(term_matches(term, private=private)).values_list("id", flat=True))


def scanned(term: str, *, private: bool) -> set[int]:
    matches = Q(search_text__contains=term)
    if private:
        matches |= Q(private_search_text__contains=term)
    return set(Incident.objects.filter(matches).values_list("id", flat=True))


def assert_index_agrees_with_a_scan() -> None:
    for term in TERMS:
        for private in (False, True):
            assert found(term, private=private) == scanned(term, private=private), (term, private)


def test_the_index_follows_creates_updates_and_deletes():
    jane = make_actor(name="Jane Doe", kind="individual")
    malmo = make_incident(title="Seizure in Malmö", place="Malmö", country="SE", actors=[jane])
    helsinki = make_incident(title="Rifles found in Helsinki", summary='Labelled "O"B", 50% x_y')
    make_incident(title="AK-47 seized", country="DK")
    assert found("malmo", private=False) == {malmo.pk}
    assert found("jane", private=True) == {malmo.pk} and found("jane", private=False) == set()
    assert_index_agrees_with_a_scan()

    services.incident_update(incident=malmo, user=None, data={"title": "Seizure in Lund", "place": "Lund"})
    services.actor_update(actor=jane, user=None, data={"name": "Jane Roe", "kind": "individual"})
    services.incident_delete(incident=helsinki, user=None)
    assert found("malmo", private=False) == set()
    assert found("helsinki", private=False) == set()
    assert found("jane roe", private=True) == {malmo.pk}
    assert_index_agrees_with_a_scan()


def test_a_query_too_short_for_trigrams_still_matches():
    incident = make_incident(title="AK rifles", country="SE")
    assert found("ak", private=False) == {incident.pk}
