"""generate_synthetic: benchmark data only, reproducible, tagged, without history, derived values right."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from incidents.changesets import current_data_version
from incidents.models import Actor, Incident, Source, Transfer, WeaponItem
from tests.factories import make_incident

pytestmark = pytest.mark.django_db


def generate(count: int, seed: int = 7) -> None:
    call_command("generate_synthetic", "--count", str(count), "--seed", str(seed), stdout=io.StringIO())


def test_synthetic_incidents_are_tagged_written_without_history_and_derived_right():
    version = current_data_version()
    generate(300)
    incidents = Incident.objects.all()
    assert incidents.count() == 300
    assert incidents.filter(tag_links__tag__slug="synthetic").count() == 300
    assert all(title.startswith("Synthetic incident ") for title in incidents.values_list("title", flat=True))
    assert Incident.history.count() == 0 and WeaponItem.history.count() == 0
    for incident in incidents.prefetch_related("weapons", "citations__source")[:50]:
        assert incident.weapons_total == sum(w.quantity or 0 for w in incident.weapons.all())
        assert incident.reported_on == min(c.source.published_on for c in incident.citations.all())
        assert 1 <= incident.citations.count() <= 3
        assert incident.weapons.count() <= 5
    assert incidents.filter(latitude__isnull=False).count() > 240
    assert current_data_version() > version


def test_the_same_seed_gives_the_same_data():
    generate(100, seed=11)
    first = list(Incident.objects.order_by("id").values_list("uid", "country", "occurred_on", "weapons_total"))
    total = WeaponItem.objects.aggregate(total=Sum("quantity"))
    Incident.objects.all().delete()
    Transfer.objects.all().delete()
    Source.objects.all().delete()
    Actor.objects.all().delete()
    generate(100, seed=11)
    assert list(Incident.objects.order_by("id").values_list("uid", "country", "occurred_on", "weapons_total")) == first
    assert WeaponItem.objects.aggregate(total=Sum("quantity")) == total


def test_a_database_with_real_incidents_is_refused():
    make_incident(published=True)
    with pytest.raises(CommandError, match="not synthetic"):
        generate(10)
    assert Incident.objects.count() == 1
