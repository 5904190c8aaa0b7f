"""python manage.py audit_rollups: compare the rollups and the spatial index with a fresh computation from the
incidents; exit 1 on a difference."""

from django.core.management.base import BaseCommand, CommandError

from incidents import geo, rollups


class Command(BaseCommand):
    help = "Compare the rollups and the spatial index with the incidents they are kept from."

    def handle(self, *args, **options):
        differences = rollups.audit() + geo.spatial_index_audit()
        for difference in differences:
            self.stdout.write(difference)
        if differences:
            raise CommandError(
                f"{len(differences)} difference(s): run rebuild_rollups, and find the write that missed."
            )
        self.stdout.write("0 differences.")
