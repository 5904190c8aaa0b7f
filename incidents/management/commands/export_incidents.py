"""python manage.py export_incidents --format csv|json|geojson [--output FILE] [--<filter> VALUE …]"""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.http import QueryDict

from incidents.api.filters import IncidentFilterSet
from incidents.models import Incident
from incidents.selectors import EDITOR_VIEW
from incidents.transfer import write_export

FORMATS = ("csv", "json", "geojson")


class Command(BaseCommand):
    help = (
        "Write the editor's view of incidents (every status, full names) as CSV, JSON or GeoJSON, with the "
        "API's filters (--country FI,SE --occurred_after 2022-01-01 …). import_incidents reads CSV and JSON back."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=FORMATS, default="json")
        parser.add_argument("--output", help="a file to write (default: standard output)")
        filters = parser.add_argument_group("filters (as in API.md; lists are comma-separated)")
        for name in IncidentFilterSet.base_filters:
            filters.add_argument(f"--{name}", dest=f"filter_{name}", metavar="VALUE")

    def handle(self, *args, format, output, **options):
        query = QueryDict(mutable=True)
        for name in IncidentFilterSet.base_filters:
            if options.get(f"filter_{name}") is not None:
                query[name] = options[f"filter_{name}"]
        request = type("CommandRequest", (), {"user": EDITOR_VIEW, "query_params": query})()
        filterset = IncidentFilterSet(data=query, queryset=Incident.objects.order_by("id"), request=request)
        if not filterset.is_valid():
            problems = "; ".join(f"--{name}: {' '.join(messages)}" for name, messages in filterset.errors.items())
            raise CommandError(problems)
        incidents = filterset.qs
        if output:
            with open(output, "w", encoding="utf-8", newline="") as out:
                written = write_export(incidents, format, out, progress=True)
        else:
            written = write_export(incidents, format, self.stdout, progress=True)
        sys.stderr.write(f"{written} incidents exported.\n")
