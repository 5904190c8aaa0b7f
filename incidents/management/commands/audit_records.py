"""python manage.py audit_records: compare every stored record with a fresh build; exit 1 on a difference."""

from django.core.management.base import BaseCommand, CommandError

from incidents import records


class Command(BaseCommand):
    help = "Compare every incident's stored records with records built now from its data."

    def handle(self, *args, **options):
        differences = records.audit()
        for difference in differences:
            self.stdout.write(difference)
        if differences:
            raise CommandError(
                f"{len(differences)} difference(s): run rebuild_records, and find the write that missed."
            )
        self.stdout.write("0 differences.")
