"""Tracing (API.md "Tracing"): recovered weapons linked to declared transfers and to each other.

The one place for what a serial, a lot and a marking are once normalised, for the index rows the services
keep beside them (`WeaponSerial`, `TransferRange`, `TransferMark`), and for matching. Every lookup is an
index probe: a serial by its normal form, a number by its prefix and range, a marking by its token.
"""

import functools
import operator
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from incidents.choices import WeaponCategory
from incidents.limits import MAX_SERIALS, SERIAL_MAX_LENGTH, SERIAL_NUMBER_DIGITS, too_many_items
from incidents.models import (
    Transfer,
    TransferCitation,
    TransferMark,
    TransferRange,
    WeaponItem,
    WeaponSerial,
)
from incidents.prepared import Prepared, text
from incidents.selectors import incident_visibility
from incidents.serials import marking_tokens, marking_words, normal_serial, shown_number, split_serial
from incidents.shapes import AUDIENCES, EDITOR

# Scores from 0 to 1: a serial inside a declared range is the strongest link, a shared token the weakest.
SCORES = {"serial_in_range": 0.9, "lot": 0.7, "markings": 0.3}
SAME_ORIGIN_BONUS = 0.05  # the weapon's suspected origin is the transfer's supplier
MARKING_TOKEN_BONUS = 0.05  # per shared marking token beyond the first, up to 0.2
MAX_CANDIDATES = 200  # per answer, best first: a trace is read by a person
MAX_RECOVERED = 200

# --- Validating what a write gives ---------------------------------------------------------------------


def clean_serials(values, field: str = "serials") -> list[str]:
    """A weapon's serials as given (trimmed), or a ValidationError naming `field` and the item."""
    if not isinstance(values, list | tuple):
        raise ValidationError({field: ["Give serials as a list of strings."]})
    if len(values) > MAX_SERIALS:
        raise ValidationError({field: [too_many_items(MAX_SERIALS, len(values))]})
    cleaned, errors, seen = [], {}, {}
    for index, value in enumerate(values):
        if not isinstance(value, str):
            errors[f"{field}[{index}]"] = ["Give a serial as a string."]
            continue
        value = value.strip()
        normal = normal_serial(value)
        if "\x00" in value:  # PostgreSQL stores no NUL, in text or JSON (the API's parser refuses it too)
            errors[f"{field}[{index}]"] = ["Null characters are not allowed."]
        elif not normal:
            errors[f"{field}[{index}]"] = ["A serial needs at least one letter or digit."]
        elif len(value) > SERIAL_MAX_LENGTH or len(normal) > SERIAL_MAX_LENGTH:  # NFKC may lengthen it
            errors[f"{field}[{index}]"] = [f"At most {SERIAL_MAX_LENGTH} characters."]
        elif normal in seen:
            errors[f"{field}[{index}]"] = [f"Repeats serial {seen[normal]!r} ({normal} in normal form)."]
        else:
            seen[normal] = value
            cleaned.append(value)
    if errors:
        raise ValidationError(errors)
    return cleaned


def clean_serial_ranges(values, field: str = "serial_ranges") -> list[dict]:
    """Declared ranges as `{prefix, first, last}` with the prefix in normal form and first ≤ last."""
    if not isinstance(values, list | tuple):
        raise ValidationError({field: ["Give serial ranges as a list of {prefix, first, last} objects."]})
    if len(values) > MAX_SERIALS:
        raise ValidationError({field: [too_many_items(MAX_SERIALS, len(values))]})
    cleaned, errors = [], {}
    largest = 10**SERIAL_NUMBER_DIGITS - 1
    for index, value in enumerate(values):
        name = f"{field}[{index}]"
        if not isinstance(value, dict) or set(value) - {"prefix", "first", "last"}:
            errors[name] = ["Give a range as an object with prefix, first and last."]
            continue
        prefix = value.get("prefix", "")
        if not isinstance(prefix, str) or len(prefix) > SERIAL_MAX_LENGTH or "\x00" in prefix:
            errors[f"{name}.prefix"] = [f"Give the prefix as a string of at most {SERIAL_MAX_LENGTH} characters."]
            continue
        prefix = normal_serial(prefix)
        if len(prefix) > SERIAL_MAX_LENGTH:
            errors[f"{name}.prefix"] = [f"At most {SERIAL_MAX_LENGTH} characters."]
            continue
        if prefix and prefix[-1] in "0123456789":
            errors[f"{name}.prefix"] = ["A prefix ends before the serial's trailing digits; move them to first/last."]
            continue
        bounds = {}
        for end in ("first", "last"):
            number = value.get(end)
            if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= largest:
                errors[f"{name}.{end}"] = [f"Give a whole number from 0 to {largest}."]
            bounds[end] = number
        if f"{name}.first" in errors or f"{name}.last" in errors:
            continue
        if bounds["first"] > bounds["last"]:
            errors[f"{name}.last"] = ["The last serial of a range cannot come before its first."]
            continue
        cleaned.append({"prefix": prefix, "first": bounds["first"], "last": bounds["last"]})
    if errors:
        raise ValidationError(errors)
    return cleaned


def clean_lots(values, field: str = "lots") -> list[str]:
    if not isinstance(values, list | tuple):
        raise ValidationError({field: ["Give lots as a list of strings."]})
    if len(values) > MAX_SERIALS:
        raise ValidationError({field: [too_many_items(MAX_SERIALS, len(values))]})
    errors = {}
    for index, value in enumerate(values):
        normal = normal_serial(value) if isinstance(value, str) and "\x00" not in value else ""
        if not normal or len(value.strip()) > SERIAL_MAX_LENGTH or len(normal) > SERIAL_MAX_LENGTH:
            errors[f"{field}[{index}]"] = [
                f"Give a lot number with a letter or digit, at most {SERIAL_MAX_LENGTH} long."
            ]
    if errors:
        raise ValidationError(errors)
    return list(dict.fromkeys(value.strip() for value in values))


# --- Index rows the services keep -------------------------------------------------------------------


def serial_rows(weapons: Iterable[WeaponItem]) -> list[WeaponSerial]:
    rows = []
    for weapon in weapons:
        for serial in weapon.serials or ():
            normal = normal_serial(serial)
            prefix, number = split_serial(normal)
            rows.append(WeaponSerial(weapon=weapon, normal=normal, prefix=prefix, number=number))
    return rows


def transfer_rows(transfer: Transfer) -> tuple[list[TransferRange], list[TransferMark]]:
    ranges = [
        TransferRange(transfer=transfer, prefix=r["prefix"], first=r["first"], last=r["last"])
        for r in transfer.serial_ranges
    ]
    lots = {normal_serial(lot) for lot in transfer.lots}  # at most SERIAL_MAX_LENGTH long (`clean_lots`)
    marks = [TransferMark(transfer=transfer, kind=TransferMark.Kind.LOT, token=token) for token in sorted(lots)]
    marks += [
        TransferMark(transfer=transfer, kind=TransferMark.Kind.MARKING, token=token)
        for token in sorted(marking_tokens(transfer.description) - lots)
    ]
    return ranges, marks


# --- Visibility --------------------------------------------------------------------------------------


def transfer_visibility(audience: str, transfer_path: str = "pk") -> Q:
    """Editors see every transfer; everybody else those that cite a source (API.md "Tracing"). A condition
    on `transfer_path`, so that an index row is checked by one probe rather than a subquery of all."""
    if audience == EDITOR:
        return Q()
    return Q(Exists(TransferCitation.objects.filter(transfer=OuterRef(transfer_path))))


def transfers_visible(audience: str) -> QuerySet[Transfer]:
    return Transfer.objects.filter(transfer_visibility(audience))


# --- Matching ---------------------------------------------------------------------------------------
# The reads of a trace run on every lookup: compiled once (`incidents.prepared`), since building a query
# cost more than running these index probes.


@dataclass(frozen=True)
class TransferBrief:
    id: int
    supplier: str
    recipient: str
    year: int
    weapon_category: str

    @property
    def label(self) -> str:
        return f"the {self.year} {self.supplier}→{self.recipient} transfer"

    def as_dict(self) -> dict:
        return {"id": self.id, "supplier": self.supplier, "recipient": self.recipient, "year": self.year}


BRIEF = ("transfer_id", "transfer__supplier", "transfer__recipient", "transfer__year", "transfer__weapon_category")


def _brief(values: Sequence) -> TransferBrief:
    id_, supplier, recipient, year, category = values
    return TransferBrief(id_, str(supplier), str(recipient), year, category)


def _ranges(audience: str) -> Prepared:
    """Declared ranges holding any of the numbers wanted, given as (prefix, highest, lowest) per prefix."""

    def build(values: list) -> QuerySet:
        # (`Prepared` first builds it from one value, to learn the model: an incomplete triple is left out.)
        triples = [values[i : i + 3] for i in range(0, len(values) - 2, 3)]
        spans = [Q(prefix=text(prefix), first__lte=high, last__gte=low) for prefix, high, low in triples]
        return (
            TransferRange.objects.filter(transfer_visibility(audience, "transfer_id"))
            .filter(functools.reduce(operator.or_, spans, Q()))
            .order_by("prefix", "first", "id")
            .values_list("prefix", "first", "last", *BRIEF)
        )

    return Prepared(f"trace ranges, {audience}", build)


def _marks(audience: str) -> Prepared:
    return Prepared(
        f"trace marks, {audience}",
        lambda tokens: (
            TransferMark.objects.filter(
                transfer_visibility(audience, "transfer_id"), token__in=[text(token) for token in tokens]
            )
            .order_by("token", "id")
            .values_list("kind", "token", *BRIEF)
        ),
    )


def _recovered(audience: str, *, elsewhere: bool) -> Prepared:
    """Visible incidents with a weapon of one of these serials (newest first), with the weapon's position
    in its incident; `elsewhere`: the last value is an incident to leave out."""

    def build(values: list) -> QuerySet:
        normals = values[:-1] if elsewhere else values
        rows = WeaponSerial.objects.filter(
            incident_visibility(audience, "weapon__incident__"), normal__in=[text(normal) for normal in normals]
        )
        if elsewhere:
            rows = rows.exclude(weapon__incident_id=values[-1])
        earlier = (
            WeaponItem.objects.filter(incident_id=OuterRef("weapon__incident_id"), id__lt=OuterRef("weapon_id"))
            .order_by()
            .values("incident_id")
            .annotate(count=Count("id"))
            .values("count")
        )
        return rows.order_by(
            "-weapon__incident__occurred_on", "-weapon__incident_id", "weapon_id", "normal"
        ).values_list(
            "normal",
            "weapon__incident_id",
            "weapon__incident__title",
            "weapon__incident__country",
            "weapon__incident__occurred_on",
            Coalesce(Subquery(earlier), 0),
        )[:MAX_RECOVERED]

    return Prepared(f"trace recovered{' elsewhere' if elsewhere else ''}, {audience}", build)


# Values per prepared query: an incident may carry 40,000 serials, more than a query may bind. A query's
# values are padded (repeating its last group) to a power of two, so that few sizes are ever compiled.
CHUNK = 256


def _chunked_rows(prepared: Prepared, values: Sequence, *, group: int = 1, extra: Sequence = ()) -> list[tuple]:
    """The rows of `prepared` for all `values` (taken in groups of `group`, e.g. range triples), in queries of
    at most CHUNK values, `extra` appended to each."""
    groups = [values[i : i + group] for i in range(0, len(values), group)]
    per = 1 << ((CHUNK // group).bit_length() - 1)
    rows = []
    for start in range(0, len(groups), per):
        chunk = groups[start : start + per]
        chunk += [chunk[-1]] * ((1 << (len(chunk) - 1).bit_length()) - len(chunk))
        rows += prepared.rows([value for values_ in chunk for value in values_] + list(extra))
    return rows


RANGES = {audience: _ranges(audience) for audience in AUDIENCES}
MARKS = {audience: _marks(audience) for audience in AUDIENCES}
RECOVERED = {audience: _recovered(audience, elsewhere=False) for audience in AUDIENCES}
RECOVERED_ELSEWHERE = {audience: _recovered(audience, elsewhere=True) for audience in AUDIENCES}
WEAPONS = Prepared(
    "trace weapons",
    lambda ids: (
        WeaponItem.objects.filter(incident_id=ids[0])
        .order_by("id")
        .values_list("category", "suspected_origin", "markings", "serials")
    ),
)


@dataclass
class Probe:
    """What one weapon (or one serial on its own) is traced by."""

    weapon: int | None  # its index in the incident's weapons; None for a serial on its own
    category: str | None
    origin: str | None
    serials: list[str]  # normal forms
    tokens: set[str] = field(default_factory=set)


@dataclass
class Candidate:
    weapon: int | None
    transfer: TransferBrief
    match: str
    score: float
    reasons: list[str]

    def as_dict(self) -> dict:
        answer = {"weapon": self.weapon} if self.weapon is not None else {}
        answer.update(transfer=self.transfer.as_dict(), match=self.match, score=self.score, reasons=self.reasons)
        return answer


def _candidates(probes: Sequence[Probe], audience: str) -> list[Candidate]:
    """Every visible transfer linked to a probe, one candidate per (weapon, transfer) with its best match
    and all its reasons, best first."""
    found: dict[tuple, Candidate] = {}

    def add(probe: Probe, transfer: TransferBrief, match: str, score: float, reason: str) -> None:
        candidate = found.get((probe.weapon, transfer.id))
        if candidate is None:
            found[(probe.weapon, transfer.id)] = Candidate(probe.weapon, transfer, match, score, [reason])
            return
        candidate.reasons.append(reason)
        if score > candidate.score:
            candidate.match, candidate.score = match, score

    # Serials inside declared ranges: one query, probing the (prefix, first) index once per prefix.
    by_prefix: dict[str, list[tuple[Probe, str, int]]] = defaultdict(list)
    for probe in probes:
        for normal in probe.serials:
            prefix, number = split_serial(normal)
            if number is not None:
                by_prefix[prefix].append((probe, normal, number))
    spans = [
        value
        for prefix, wanted in by_prefix.items()
        for value in (prefix, max(n for _, _, n in wanted), min(n for _, _, n in wanted))
    ]
    for prefix, first, last, *transfer in _chunked_rows(RANGES[audience], spans, group=3):
        transfer = _brief(transfer)
        for probe, normal, number in by_prefix[prefix]:
            if not first <= number <= last:
                continue
            if probe.category is not None and probe.category != transfer.weapon_category:
                continue  # a serial of another kind of weapon: the same numbers say nothing
            digits = len(normal) - len(prefix)
            span = f"{shown_number(prefix, first, digits)}–{shown_number(prefix, last, digits)}"
            category = WeaponCategory(transfer.weapon_category).label
            same = "same category" if probe.category else f"category {category}"
            reason = f"serial {normal} lies in {span} of {transfer.label}, {same}"
            add(probe, transfer, "serial_in_range", SCORES["serial_in_range"], reason)
    # Lots and markings: one probe of the token index for all tokens.
    tokens = sorted(set().union(*(probe.tokens for probe in probes))) if probes else []
    shared: dict[tuple[int, TransferBrief], list[str]] = defaultdict(list)  # (probe, transfer) → tokens
    for kind, token, *transfer in _chunked_rows(MARKS[audience], tokens):
        transfer = _brief(transfer)
        for position, probe in enumerate(probes):
            if token not in probe.tokens:
                continue
            if kind == TransferMark.Kind.LOT:
                add(probe, transfer, "lot", SCORES["lot"], f"lot {token} is declared in {transfer.label}")
            elif probe.category == transfer.weapon_category:  # shared marks across kinds of weapon: noise
                shared[(position, transfer)].append(token)
    for (position, transfer), tokens_shared in shared.items():
        score = SCORES["markings"] + min(0.2, MARKING_TOKEN_BONUS * (len(tokens_shared) - 1))
        reason = f"markings {', '.join(tokens_shared)} appear in the description of {transfer.label}, same category"
        add(probes[position], transfer, "markings", round(score, 2), reason)
    origins = {probe.weapon: probe.origin for probe in probes}
    for (weapon, _), candidate in found.items():
        if origins[weapon] and origins[weapon] == candidate.transfer.supplier:
            candidate.score = round(min(1.0, candidate.score + SAME_ORIGIN_BONUS), 2)
            candidate.reasons.append(f"its suspected origin {origins[weapon]} is the supplier")
    ordered = sorted(found.values(), key=lambda c: (-c.score, c.weapon or 0, -c.transfer.year, c.transfer.id))
    return ordered[:MAX_CANDIDATES]


def _recovered_rows(rows: list[tuple]) -> list[dict]:
    """Rows of RECOVERED (from one query or several), newest incident first, at most MAX_RECOVERED."""
    rows = sorted(rows, key=lambda row: (-row[4].toordinal(), -row[1], row[5], row[0]))[:MAX_RECOVERED]
    return [
        {
            "incident": {"id": incident_id, "title": title, "country": str(country), "occurred_on": day.isoformat()},
            "weapon": position,
            "serial": normal,
        }
        for normal, incident_id, title, country, day, position in rows
    ]


def trace_incident(incident_id: int, audience: str) -> dict:
    """`incidents/{id}/trace/` of an incident the caller may see: transfer candidates for each weapon, and
    the other visible incidents with one of its serials."""
    probes = [
        Probe(
            weapon=index,
            category=category,
            origin=str(origin) if origin else None,
            serials=[normal_serial(serial) for serial in serials or ()],
            tokens=marking_words(markings),
        )
        for index, (category, origin, markings, serials) in enumerate(WEAPONS.rows([incident_id]))
    ]
    normals = sorted({normal for probe in probes for normal in probe.serials})
    elsewhere = _chunked_rows(RECOVERED_ELSEWHERE[audience], normals, extra=[incident_id])
    return {
        "candidates": [candidate.as_dict() for candidate in _candidates(probes, audience)],
        "recovered_elsewhere": _recovered_rows(elsewhere),
    }


def trace_serial(serial: str, audience: str) -> dict:
    """`weapons/trace/?serial=`: the transfers whose ranges hold one serial, and where it was recovered."""
    normal = normal_serial(serial)
    probe = Probe(weapon=None, category=None, origin=None, serials=[normal], tokens=set())
    return {
        "serial": normal,
        "candidates": [candidate.as_dict() for candidate in _candidates([probe], audience)],
        "recovered_in": _recovered_rows(RECOVERED[audience].rows([normal])),
    }
