"""python manage.py rebuild_rollups: recompute the rollups (`incidents.rollups`) from the incidents, after
bringing every stale stored record up to date (the rollups always sum the stored records' contributions)."""

from django.core.management.base import BaseCommand
from django.db import transaction

from incidents import records, rollups


class Command(BaseCommand):
    help = "Recompute the rollups that stats/, countries/, map grids and list counts read."

    def handle(self, *args, **options):
        with transaction.atomic():
            stale = records.stale_ids()
            records.store(stale)
            rows = rollups.rebuild()
        self.stdout.write(f"{len(stale)} stale records stored; {rows} rollup rows written.")
