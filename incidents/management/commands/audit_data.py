"""python manage.py audit_data [--research-file PATH]: print every finding; exit 1 when there is one."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from incidents.audit import findings


class Command(BaseCommand):
    help = "Check the stored data against the tracker's rules (and, with --research-file, its research notes)."

    def add_arguments(self, parser):
        parser.add_argument("--research-file", type=Path, help="the research notes every source URL must appear in")

    def handle(self, *args, research_file, **options):
        if research_file is not None and not research_file.is_file():
            raise CommandError(f"No such file: {research_file}")
        found = findings(research_file=research_file)
        for finding in found:
            self.stdout.write(str(finding))
        if found:
            raise CommandError(f"{len(found)} finding(s).")
        self.stdout.write("0 findings.")
