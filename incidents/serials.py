"""The normal forms of tracing (API.md "Tracing"): what a serial, a lot and a marking token are, compared.

A leaf module, so that the filters, the services and the matching (`incidents.tracing`) read one definition.
"""

import re
import unicodedata

from incidents.limits import SERIAL_MAX_LENGTH, SERIAL_NUMBER_DIGITS

_TOKEN_SEPARATORS = re.compile(r"[\s,;/|()\[\]]+")


def normal_serial(text: str) -> str:
    """Upper case, letters and digits only: `"ab-0012 34"` → `"AB001234"` (NFKC first, so full-width and
    superscript characters count as the letters and digits they stand for)."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isalnum()).upper()


def split_serial(normal: str) -> tuple[str, int | None]:
    """A normal serial as its prefix and number (its trailing ASCII digits, at most 18 of them; any more
    belong to the prefix). A serial without trailing digits has no number."""
    digits = len(normal) - len(normal.rstrip("0123456789"))
    digits = min(digits, SERIAL_NUMBER_DIGITS)
    if not digits:
        return normal, None
    return normal[:-digits], int(normal[-digits:])


def marking_tokens(text: str) -> set[str]:
    """The tokens of free-text markings that can identify a batch: normalised words of at least two
    characters with a digit in them (factory codes such as `22` or `R-7`, year marks such as `1987`,
    lot numbers such as `12-34`). Words alone (`lot`, `made`) say nothing."""
    tokens = (normal_serial(word) for word in _TOKEN_SEPARATORS.split(text or ""))
    return {token[:SERIAL_MAX_LENGTH] for token in tokens if len(token) >= 2 and any(c.isdigit() for c in token)}


def shown_number(prefix: str, number: int, width: int) -> str:
    return f"{prefix}{number:0{width}d}"
