"""python manage.py backup_database FILE: a consistent copy of the whole database (`make backup`)."""

from pathlib import Path

from django.core.management.base import BaseCommand

from incidents.backup import backup


class Command(BaseCommand):
    help = "Copy the whole database to FILE (SQLite: online backup; PostgreSQL: pg_dump, custom format)."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        target = Path(file)
        target.parent.mkdir(parents=True, exist_ok=True)
        backup(target)
        self.stdout.write(str(target))
