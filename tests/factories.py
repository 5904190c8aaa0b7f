"""Small builders of test data, all going through the services like every other entry point."""

import datetime
import itertools

from incidents import services
from incidents.choices import IncidentType, Status, Verification
from incidents.models import Actor, Incident, Source

_sequence = itertools.count(1)


def make_source(user=None, **overrides) -> Source:
    number = next(_sequence)
    data = {
        "url": f"https://news.example.org/articles/{number}",
        "title": f"Article {number}",
        "publisher": "Example News",
        "published_on": datetime.date(2022, 11, 1),
        "source_type": "news",
        "language": "en",
        # Graded B (docs/grading.md: an established outlet), so that a test's incident may be `confirmed`;
        # tests of the grading rules give their sources other grades.
        "reliability": "B",
    }
    data.update(overrides)
    return services.source_create(user=user, data=data)


def make_actor(user=None, **overrides) -> Actor:
    data = {"name": f"Group {next(_sequence)}", "kind": "criminal_network"}
    data.update(overrides)
    return services.actor_create(user=user, data=data)


def cite(source: Source, **overrides) -> services.CitationData:
    return services.CitationData(source=source, **overrides)


def incident_data(**overrides) -> dict:
    data = {
        "title": f"Seizure {next(_sequence)}",
        "summary": "Police seized weapons.",
        "incident_type": IncidentType.SEIZURE,
        "occurred_on": datetime.date(2022, 10, 30),
        "date_precision": "day",
        "country": "FI",
        "verification": Verification.REPORTED,
        "status": Status.DRAFT,
    }
    data.update(overrides)
    return data


def make_incident(user=None, *, published: bool = False, **overrides) -> Incident:
    """An incident; a published one gets a fresh citation unless citations are given."""
    data = incident_data(**overrides)
    if published:
        data["status"] = overrides.get("status", Status.PUBLISHED)
        if "citations" not in data:
            data["citations"] = [cite(make_source())]
    return services.incident_create(user=user, data=data)
