"""python manage.py rebuild_records: build and store every incident's records (after `loaddata`, after a
restore, or when the record's definition changed: see `incidents.records.CODEC`). `--stale` rebuilds only
the records that are missing or out of date, which costs one query when there are none (`make run` runs it
after `migrate`)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from incidents import records
from incidents.models import Incident
from incidents.progress import Progress


class Command(BaseCommand):
    help = "Build and store the records of every incident (reads assemble them; see incidents/records.py)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--stale", action="store_true", help="Only incidents whose stored record is missing or out of date."
        )

    def handle(self, *args, stale=False, **options):
        if stale:
            ids = records.stale_ids()
        else:
            ids = list(Incident.objects.order_by("id").values_list("pk", flat=True))
        with Progress(len(ids), "records", "incident") as progress:
            for start in range(0, len(ids), 5000):
                chunk = ids[start : start + 5000]
                with transaction.atomic():
                    records.store(chunk)
                progress.update(len(chunk))
        self.stdout.write(f"{len(ids)} records stored.")
