"""python manage.py export_incidents --format csv|json|geojson [--output FILE] [--<filter> VALUE …]"""

import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.http import QueryDict

from incidents import exports
from incidents.filters import IncidentFilterSet
from incidents.progress import Progress
from incidents.selectors import incidents_filtered
from incidents.shapes import EDITOR


class Command(BaseCommand):
    help = (
        "Write the editor's view of incidents (every status, full names) as CSV, JSON or GeoJSON, with the "
        "API's filters (--country FI,SE --occurred_after 2022-01-01 …). import_incidents reads CSV and JSON back."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=exports.FORMATS, default="json")
        parser.add_argument("--output", help="a file to write (default: standard output)")
        filters = parser.add_argument_group("filters (as in API.md; lists are comma-separated)")
        for name in IncidentFilterSet.base_filters:
            filters.add_argument(f"--{name}", dest=f"filter_{name}", metavar="VALUE")

    def handle(self, *args, format, output, **options):
        query = QueryDict(mutable=True)
        for name in IncidentFilterSet.base_filters:
            if options.get(f"filter_{name}") is not None:
                query[name] = options[f"filter_{name}"]
        try:
            incidents = incidents_filtered(query, audience=EDITOR)
        except ValidationError as error:
            problems = "; ".join(f"--{name}: {' '.join(messages)}" for name, messages in error.message_dict.items())
            raise CommandError(problems) from None
        incidents = incidents.order_by("id")
        with Progress(incidents.count(), "export", "incident") as progress:
            if output:
                with open(output, "wb") as out:
                    written = exports.write(incidents, format, out, audience=EDITOR, progress=progress)
            else:
                written = exports.write(incidents, format, _Text(self.stdout), audience=EDITOR, progress=progress)
        sys.stderr.write(f"{written} incidents exported.\n")


class _Text:
    """The command's standard output (text, as `call_command` captures it) taking the export's bytes."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, body: bytes) -> None:
        self.stream.write(body.decode(), ending="")
