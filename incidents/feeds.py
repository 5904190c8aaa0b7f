"""The Atom feed of recently published or updated incidents (API.md "Releases and feeds"), through Django's
syndication framework. Entries are the public records: drafts never appear, and no actor is named at all."""

import re

import orjson
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html, format_html_join

from incidents import records
from incidents.filters import IncidentAggregateFilterSet
from incidents.selectors import Selection
from incidents.shapes import PUBLIC

ENTRIES = 50
# Characters XML 1.0 cannot hold (Django's XML writer refuses them): a text that has one is shown without it.
NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
DATE_SHOWN = {"day": "{}", "month": "{} (month-precise)", "year": "{} (year-precise)"}
DATE_CUT = {"day": 10, "month": 7, "year": 4}


def recent_records(params) -> list[dict]:
    """The public records of the ENTRIES most recently published or updated incidents the filters select
    (every change, publishing included, moves `updated_at`). A bad filter raises ValidationError naming it."""
    selection = Selection(params, audience=PUBLIC, filterset_class=IncidentAggregateFilterSet)
    pairs = list(selection.incidents.order_by("-updated_at", "-id").values_list("pk", "version")[:ENTRIES])
    return [orjson.loads(body) for body in records.stored_json(pairs, PUBLIC)]


def xml_text(text: str) -> str:
    return NOT_IN_XML.sub("", text)


def shown_date(built: dict) -> str:
    """`2022-05` (month-precise): a month- or year-precise date is not shown as its first day."""
    precision = built["date_precision"]
    return DATE_SHOWN[precision].format(built["occurred_on"][: DATE_CUT[precision]])


def entry_html(built: dict) -> str:
    place = ", ".join(part for part in (built["place"], built["admin1"], built["country_name"]) if part)
    if built["geo_precision"]:
        place += f" ({built['geo_precision']}-level coordinates)"
    weapons = format_html_join(
        "",
        "<li>{} {}{}</li>",
        (
            (
                "unknown number of" if weapon["quantity"] is None else _quantity(weapon),
                weapon["category"].replace("_", " "),
                f": {weapon['description']}" if weapon["description"] else "",
            )
            for weapon in built["weapons"]
        ),
    )
    sources = format_html_join(
        "",
        '<li><a href="{}">{}</a> ({}{}), {}; reliability {}, credibility {}</li>',
        (
            (
                cited["url"],
                cited["title"] or cited["url"],
                cited["publisher"],
                f", {cited['published_on']}" if cited["published_on"] else "",
                "supports" if cited["stance"] == "supports" else "disputes this incident",
                cited["reliability"],
                cited["credibility"],
            )
            for cited in built["sources"]
        ),
    )
    return format_html(
        "<p>{}</p><ul><li>Date: {}</li><li>Place: {}</li><li>Type: {}</li><li>Verification: {}</li></ul>"
        "<p>Weapons:</p><ul>{}</ul><p>Sources:</p><ul>{}</ul>",
        built["summary"],
        shown_date(built),
        place,
        built["incident_type"],
        built["verification"],
        weapons or format_html("<li>{}</li>", "none recorded"),
        sources,
    )


def _quantity(weapon: dict) -> str:
    prefix = {"approximate": "about ", "at_least": "at least "}.get(weapon["quantity_precision"], "")
    return f"{prefix}{weapon['quantity']}"


class IncidentFeed(Feed):
    """One entry per incident: its title, summary, date with its precision, place, verification, weapons and
    linked sources; `updated` from `updated_at`; the entry id `urn:uuid:<uid>`, stable across databases."""

    feed_type = Atom1Feed
    title = "Arms-diversion incident tracker: recently published or updated incidents"
    subtitle = "Reported incidents with their sources and verification state. Cite the sources for the facts."
    author_name = "Arms-diversion incident tracker"
    feed_copyright = "Compiled records CC BY 4.0; each cited article belongs to its publisher."

    def __init__(self, params, entries: list[dict]):
        super().__init__()
        self.params, self.entries = params, entries

    def link(self):
        query = self.params.urlencode()
        return reverse("incident-list") + (f"?{query}" if query else "")

    def feed_url(self):
        query = self.params.urlencode()
        return reverse("incident-feed") + (f"?{query}" if query else "")

    def items(self):
        return self.entries

    def item_title(self, built):
        return xml_text(built["title"])

    def item_description(self, built):
        return xml_text(entry_html(built))

    def item_link(self, built):
        return reverse("incident-detail", args=[built["id"]])

    def item_guid(self, built):
        return f"urn:uuid:{built['uid']}"

    item_guid_is_permalink = False

    def item_updateddate(self, built):
        return parse_datetime(built["updated_at"])

    def item_categories(self, built):
        return [built["incident_type"], built["verification"], built["country"]]
