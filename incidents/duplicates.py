"""Likely duplicate reports of one event: the candidates near an incident in place and time, scored.

One place for the scoring, used by `incidents/{id}/similar/` and by the admin after a save.
"""

import datetime
from dataclasses import dataclass
from difflib import SequenceMatcher

from django.db.models import Exists, OuterRef, Q, QuerySet

from incidents.geo import haversine_km
from incidents.models import Citation, Incident
from incidents.search import fold

WINDOW_DAYS = 90  # reports of one event rarely disagree on its date by more
NEAR_KM = 100  # places farther apart than this score nothing for closeness
MAX_CANDIDATES = 1000
WEIGHTS = {"date": 0.3, "place": 0.2, "title": 0.3, "sources": 0.2}
LIKELY_DUPLICATE = 0.6  # the score from which the admin warns after a save


@dataclass
class Similar:
    incident: Incident
    score: float
    reasons: list[str]


def similar_incidents(incident: Incident, candidates: QuerySet[Incident], *, limit: int = 10) -> list[Similar]:
    """The `limit` candidates most likely to report the same event as `incident`, best first: the same
    country within WINDOW_DAYS, or any incident citing one of its sources."""
    source_ids = set(incident.citations.values_list("source_id", flat=True))
    window = datetime.timedelta(days=WINDOW_DAYS)
    dates = (incident.occurred_on - window, incident.occurred_on + window)
    nearby = Q(country=incident.country, occurred_on__range=dates)
    shares_source = Exists(Citation.objects.filter(incident=OuterRef("pk"), source_id__in=source_ids))
    pool = (
        candidates.exclude(pk=incident.pk)
        .filter(nearby | shares_source if source_ids else nearby)
        .prefetch_related("citations")
        .order_by("-occurred_on", "-id")[:MAX_CANDIDATES]
    )
    scored = [_score(incident, other, source_ids) for other in pool]
    scored = [item for item in scored if item.score > 0]
    scored.sort(key=lambda item: (-item.score, item.incident.pk))
    return scored[:limit]


def _score(incident: Incident, other: Incident, source_ids: set[int]) -> Similar:
    parts: dict[str, float] = {}
    reasons: list[str] = []
    if other.country == incident.country:
        reasons.append("same country")
    days = abs((other.occurred_on - incident.occurred_on).days)
    parts["date"] = max(0.0, 1 - days / WINDOW_DAYS)
    if parts["date"]:
        reasons.append("same date" if days == 0 else f"occurred {days} day{'s' * (days != 1)} apart")
    if incident.has_coordinates and other.has_coordinates:
        km = haversine_km(*map(float, (incident.latitude, incident.longitude, other.latitude, other.longitude)))
        parts["place"] = max(0.0, 1 - km / NEAR_KM)
        if parts["place"]:
            reasons.append(f"{km:.0f} km apart")
    elif incident.place and fold(incident.place) == fold(other.place):
        parts["place"] = 1.0
        reasons.append("same place")
    parts["title"] = SequenceMatcher(None, fold(incident.title), fold(other.title)).ratio()
    if parts["title"] >= 0.5:
        reasons.append(f"titles {parts['title']:.0%} alike")
    shared = source_ids & {citation.source_id for citation in other.citations.all()}
    if shared:
        parts["sources"] = len(shared) / min(len(source_ids), len(other.citations.all()))
        reasons.append(f"{len(shared)} shared source{'s' * (len(shared) != 1)}")
    score = sum(WEIGHTS[name] * value for name, value in parts.items())
    return Similar(other, round(score, 3), reasons)
