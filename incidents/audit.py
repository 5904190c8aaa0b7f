"""Checks of the stored data against the rules and against the research it was transcribed from.

`python manage.py audit_data` prints every finding and exits non-zero when there is one. `.ci/run` runs it
on the sourced fixtures, with `--research-file` where the project's research notes are beside the
repository (`make test` never reads them: it must pass on a bare clone).
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from incidents import services
from incidents.choices import Credibility, QuantityPrecision, Reliability, Stance, Verification
from incidents.models import Citation, Incident, Source

# Guidance of docs/grading.md that the services cannot decide for a single write.
MAX_UNJUDGED_SHARE = 0.25  # of sources graded F, and of citations graded 6
AID_TAG = "ukraine-aid"


@dataclass(frozen=True)
class Finding:
    subject: str  # "source 12", "incident 7"
    message: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.message}"


def research_findings(research_file: Path) -> Iterator[Finding]:
    """Every source must be an http(s) URL that appears, exactly, in the research notes."""
    research = research_file.read_text(encoding="utf-8")
    for source in Source.objects.order_by("id"):
        if not re.fullmatch(r"https?://\S+", source.url):
            yield Finding(f"source {source.pk}", f"not an http(s) URL: {source.url!r}")
        elif source.url not in research:
            yield Finding(f"source {source.pk}", f"URL not in {research_file.name}: {source.url}")
        if not source.publisher.strip():
            yield Finding(f"source {source.pk}", "no publisher")


def rule_findings() -> Iterator[Finding]:
    """Every rule the services enforce, checked again on what is stored (data loaded or written around the
    services would show here), and every incident whose verification is stronger than its graded sources."""
    incidents = Incident.objects.order_by("id").prefetch_related("weapons", "tags", "citations__source")
    for incident in incidents:
        subject = f"incident {incident.pk}"
        citations = services.stored_citations(incident)
        errors = services.citation_rule_errors(
            status=incident.status, verification=incident.verification, citations=citations, field="sources"
        )
        for field, messages in errors.items():
            yield from (Finding(subject, f"{field}: {message}") for message in messages)
        for index, citation in enumerate(citations):
            if citation.excerpt.strip() and not citation.excerpt_language:
                yield Finding(subject, f"sources[{index}].excerpt_language: {services.EXCERPT_NEEDS_LANGUAGE}")
        yield from _derived_findings(incident, citations)
        yield from _verification_findings(incident, citations)


def _derived_findings(incident: Incident, citations: list) -> Iterator[Finding]:
    weapons = list(incident.weapons.all())
    known = [weapon for weapon in weapons if weapon.quantity is not None]
    total = sum(weapon.quantity for weapon in known)
    approximate = sum(w.quantity for w in known if w.quantity_precision != QuantityPrecision.EXACT)
    if (incident.weapons_total, incident.weapons_approximate) != (total, approximate):
        yield Finding(f"incident {incident.pk}", f"weapons_total/approximate are not the sum ({total}/{approximate})")
    dates = [c.source.published_on for c in citations if c.stance == Stance.SUPPORTS and c.source.published_on]
    if incident.reported_on != (min(dates) if dates else None):
        yield Finding(f"incident {incident.pk}", "reported_on is not the earliest date of a supporting source")


def _verification_findings(incident: Incident, citations: list) -> Iterator[Finding]:
    """Stronger than the graded sources justify (docs/grading.md, "Verification")."""
    subject = f"incident {incident.pk}"
    supporting = [c for c in citations if c.stance == Stance.SUPPORTS]
    if incident.verification == Verification.CORROBORATED:
        publishers = {c.source.publisher.casefold() for c in supporting}
        fair = [c for c in supporting if c.source.reliability in (Reliability.A, Reliability.B, Reliability.C)]
        if len(publishers) < 2 or not fair:
            yield Finding(
                subject, "corroborated needs supporting citations from two publishers, one graded C or better"
            )
    if incident.verification == Verification.DISPUTED and not any(c.stance == Stance.DISPUTES for c in citations):
        yield Finding(subject, "disputed, but no citation disputes it")
    if incident.verification == Verification.CONFIRMED and AID_TAG in {tag.slug for tag in incident.tags.all()}:
        yield Finding(subject, f"confirmed and tagged {AID_TAG}: no source confirms a diversion of aid")


def grading_findings() -> Iterator[Finding]:
    """Grades left at "cannot be judged" beyond a quarter of sources or citations."""
    for subject, rows, unjudged in (
        ("sources", Source.objects.all(), {"reliability": Reliability.F}),
        ("citations", Citation.objects.all(), {"credibility": Credibility.CANNOT_BE_JUDGED}),
    ):
        count = rows.count()
        left = rows.filter(**unjudged).count()
        if count and left / count > MAX_UNJUDGED_SHARE:
            yield Finding(subject, f"{left} of {count} cannot be judged (at most a quarter may be)")


def findings(*, research_file: Path | None = None) -> list[Finding]:
    found: list[Finding] = [*rule_findings(), *grading_findings()]
    if research_file is not None:
        found += research_findings(research_file)
    return found
