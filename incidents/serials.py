"""The normal forms of tracing (API.md "Tracing"): what a serial, a lot and a marking token are, compared.

A leaf module, so that the filters, the services and the matching (`incidents.tracing`) read one definition.
"""

import re
import unicodedata

from incidents.limits import SERIAL_MAX_LENGTH, SERIAL_NUMBER_DIGITS

_TOKEN_SEPARATORS = re.compile(r"[\s,;/|()\[\]]+")


def normal_serial(text: str) -> str:
    """Upper case, letters and digits only: `"ab-0012 34"` → `"AB001234"`. Compatibility forms (NFKC)
    first, so that full-width and superscript characters count as the letters and digits they stand for;
    repeated until stable, as upper-casing can undo NFKC (`ǰ` upper-cases to J and a combining caron)."""
    normal = text
    for _ in range(4):
        again = "".join(ch for ch in unicodedata.normalize("NFKC", normal.upper()) if ch.isalnum())
        if again == normal:
            break
        normal = again
    return normal


def split_serial(normal: str) -> tuple[str, int | None]:
    """A normal serial as its prefix and number (its trailing ASCII digits, at most 18 of them; any more
    belong to the prefix). A serial without trailing digits has no number."""
    digits = len(normal) - len(normal.rstrip("0123456789"))
    digits = min(digits, SERIAL_NUMBER_DIGITS)
    if not digits:
        return normal, None
    return normal[:-digits], int(normal[-digits:])


def marking_words(text: str) -> set[str]:
    """Every word of free-text markings in normal form: what a weapon is probed by (a lot declared in a
    transfer may be any word; a marking token only one of `marking_tokens`)."""
    words = (normal_serial(word) for word in _TOKEN_SEPARATORS.split(text or ""))
    return {word[:SERIAL_MAX_LENGTH] for word in words if word}


def marking_tokens(text: str) -> set[str]:
    """The words of free-text markings that can identify a batch: at least two characters with a digit in
    them (factory codes such as `22` or `R-7`, year marks such as `1987`, lot numbers such as `12-34`).
    Words alone (`lot`, `made`) say nothing."""
    return {word for word in marking_words(text) if len(word) >= 2 and any(c.isdigit() for c in word)}


def shown_number(prefix: str, number: int, width: int) -> str:
    return f"{prefix}{number:0{width}d}"
