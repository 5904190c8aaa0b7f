"""python manage.py build_gazetteer: build the offline gazetteer's index file (once per machine)."""

import time

from django.core.management.base import BaseCommand

from incidents.geocoding import gazetteer_index


class Command(BaseCommand):
    help = "Build the offline GeoNames gazetteer index used by the default geocoder (skipped when it exists)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="rebuild even when the index exists")

    def handle(self, *args, force, **options):
        index = gazetteer_index()
        if index.path.exists() and not force:
            self.stdout.write(f"Gazetteer index present: {index.path}")
            return
        started = time.perf_counter()
        places = index.build()
        self.stdout.write(f"Indexed {places} GeoNames places in {time.perf_counter() - started:.1f} s: {index.path}")
