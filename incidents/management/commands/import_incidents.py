"""python manage.py import_incidents FILE [--dry-run] [--user NAME] [--format csv|json]"""

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from incidents.bulk import refresh_planner_statistics
from incidents.importing import ImportFileError, import_records, read_records


class Command(BaseCommand):
    help = (
        "Import incidents from a CSV or JSON file in the export's shape. Idempotent by uid; each rejected "
        "row is reported with its row number, field and message, and writes nothing; the other rows land."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="a .csv or .json file ('-' for standard input)")
        parser.add_argument("--format", choices=("csv", "json"), help="default: from the file's content")
        parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
        parser.add_argument("--user", help="username recorded in the history")

    def handle(self, *args, file, format, dry_run, user, **options):
        acting = None
        if user:
            acting = get_user_model().objects.filter(username=user).first()
            if acting is None:
                raise CommandError(f"No user named {user!r}.")
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8-sig")
            records = read_records(text, format)
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {file}: {error}") from None
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        report = import_records(records, user=acting, dry_run=dry_run, progress=True)
        if report.created:
            refresh_planner_statistics()
        for error in report.errors:
            self.stderr.write(f"row {error.row}: {error.field}: {error.message}")
        prefix = "Dry run, nothing written: would have " if dry_run else ""
        self.stdout.write(
            f"{prefix}{report.rows} rows: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.rejected_rows} rejected."
        )
        if report.without_coordinates:
            self.stdout.write(
                f"{report.without_coordinates} new incidents have a place but no coordinates yet: "
                "run `python manage.py geocode_incidents`."
            )
