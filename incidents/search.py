"""Free-text search that ignores case and accents on SQLite and PostgreSQL alike.

Each incident stores its searchable text already folded (see `services`), so a query is a plain
substring match on both databases, with no database extension to install.
"""

import unicodedata


def fold(text: str) -> str:
    """Lower-case, accent-free form of `text`: "Malmö" and "MALMO" both become "malmo"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def search_terms(query: str) -> list[str]:
    """The folded words of a query; an incident matches when it contains every one of them."""
    return fold(query).split()
