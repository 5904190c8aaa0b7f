"""Free-text search that ignores case and accents on SQLite and PostgreSQL alike.

Each incident stores its searchable text already folded (see `services`), so a query term is a substring
to find. A substring match scans every row unless a trigram index serves it: on SQLite an FTS5 table with
the trigram tokenizer, kept in step with the incident table by triggers; on PostgreSQL pg_trgm's GIN
indexes, which `LIKE '%term%'` uses directly. Both are created by migration 0008.
"""

import unicodedata

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

# Trigram indexes find terms of three characters or more; shorter ones fall back to a scan.
MIN_INDEXED_TERM = 3


def fold(text: str) -> str:
    """Lower-case, accent-free form of `text`: "Malmö" and "MALMO" both become "malmo"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def search_terms(query: str) -> list[str]:
    """The distinct folded words of a query, in order; an incident matches when it contains every one."""
    return list(dict.fromkeys(fold(query).split()))


def term_matches(term: str, *, private: bool) -> Q:
    """Incidents whose search text (and, for editors, the private one) contains `term`."""
    if connection.vendor == "sqlite" and len(term) >= MIN_INDEXED_TERM:
        # A quoted FTS5 string is a substring match under the trigram tokenizer.
        columns = "{search_text private_search_text}" if private else "search_text"
        phrase = '"' + term.replace('"', '""') + '"'
        found = "SELECT rowid FROM incident_search WHERE incident_search MATCH %s"
        return Q(id__in=RawSQL(found, [f"{columns} : {phrase}"]))
    matches = Q(search_text__contains=term)
    if private:
        matches |= Q(private_search_text__contains=term)
    return matches
