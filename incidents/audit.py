"""Checks of the stored data against the rules and against the research it was transcribed from.

`python manage.py audit_data` prints every finding and exits non-zero when there is one. `.ci/run` runs it
on the sourced fixtures, with `--research-file` where the project's research notes are beside the
repository (`make test` never reads them: it must pass on a bare clone).
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from incidents.models import Source


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


def findings(*, research_file: Path | None = None) -> list[Finding]:
    found: list[Finding] = []
    if research_file is not None:
        found += research_findings(research_file)
    return found
