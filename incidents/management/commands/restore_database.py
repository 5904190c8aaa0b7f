"""python manage.py restore_database FILE: replace the whole database with a backup (`make restore`)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from incidents.backup import restore


class Command(BaseCommand):
    help = "Replace the whole database with FILE, made by backup_database. Stop the service first."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        try:
            restore(Path(file))
        except FileNotFoundError as error:
            raise CommandError(f"No such backup: {error}") from None
        self.stdout.write(f"Restored from {file}.")
