"""python manage.py geocode_incidents [--all]: fill in coordinates from places, with progress."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from incidents import services
from incidents.models import Incident
from incidents.progress import Progress


class Command(BaseCommand):
    help = (
        "Geocode incidents that have a place but no coordinates; with --all, every incident with a place "
        "whose coordinates were not typed by hand."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="also re-geocode coordinates from a geocoder")
        parser.add_argument("--user", help="username recorded in the history (default: none)")

    def handle(self, *args, all, user, **options):
        acting = None
        if user:
            acting = get_user_model().objects.filter(username=user).first()
            if acting is None:
                raise CommandError(f"No user named {user!r}.")
        candidates = Incident.objects.filter(~Q(place="") | ~Q(admin1=""))
        candidates = candidates.exclude(geocode_provider=services.MANUAL, latitude__isnull=False)
        if not all:
            candidates = candidates.filter(latitude__isnull=True)
        ids = list(candidates.order_by("id").values_list("id", flat=True))
        placed = 0
        with Progress(len(ids), "geocode", "incident") as progress:
            for incident_id in ids:
                incident = Incident.objects.get(pk=incident_id)
                updated = services.incident_geocode(incident=incident, user=acting)
                placed += updated.has_coordinates
                progress.update()
        self.stdout.write(f"{placed} of {len(ids)} incidents have coordinates.")
