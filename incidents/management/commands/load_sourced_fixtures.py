"""Load the sourced fixtures into an empty incidents table, and never over editors' work."""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from incidents import records
from incidents.changesets import bump_data_version
from incidents.models import Actor, Incident, Source, Tag

FIXTURES_DIR = Path(settings.BASE_DIR) / "fixtures"


class Command(BaseCommand):
    help = "Load fixtures/*.json into a database without incidents, sources, actors or tags; otherwise do nothing."

    def handle(self, *args, **options):
        fixtures = sorted(str(path) for path in FIXTURES_DIR.glob("*.json"))
        if not fixtures:
            self.stdout.write("No fixtures to load.")
            return
        # The fixtures carry fixed primary keys: load them only where they cannot overwrite anything.
        if any(model.objects.exists() for model in (Incident, Source, Actor, Tag)):
            self.stdout.write("Data already present: fixtures not loaded, nothing overwritten.")
            return
        with transaction.atomic():
            call_command("loaddata", *fixtures, verbosity=options["verbosity"])
            # loaddata writes around the services: build the records, and retire cached aggregates.
            records.store(Incident.objects.values_list("pk", flat=True))
            bump_data_version()
        self.stdout.write(f"Loaded {Incident.objects.count()} sourced incidents.")
