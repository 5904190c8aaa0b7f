"""The Atom feed of recent incidents (API.md "Releases and feeds"), read by feedparser as a feed reader would:
well-formed, one entry per recent published incident, the list's filters, conditional GETs."""

import datetime
import re
from xml.etree import ElementTree

import feedparser
import pytest

from incidents import services
from incidents.choices import Status
from tests.factories import cite, make_actor, make_incident, make_source

pytestmark = pytest.mark.django_db

FEED = "/api/v1/incidents/feed.atom"


def parsed(client, **params):
    response = client.get(FEED, params)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed, response


@pytest.fixture
def recorded(editor_user):
    """Incidents in three countries, a draft, and a person's name; updated one after another."""
    source = make_source(editor_user, title="Police report on the seizure", url="https://police.example.se/report")
    person = make_actor(editor_user, name="Private Person Name", kind="individual")
    swedish = make_incident(
        editor_user,
        published=True,
        country="SE",
        place="Malmö",
        title="Grenades found in Malmö",
        occurred_on=datetime.date(2022, 10, 1),
        date_precision="month",
        weapons=[{"category": "grenade", "quantity": 50, "quantity_precision": "exact"}],
        citations=[cite(source, stance="supports", credibility=2)],
        actors=[person],
    )
    finnish = make_incident(editor_user, published=True, country="FI", title="Rifles stolen in Finland")
    danish = make_incident(editor_user, published=True, country="DK", title="Pistols seized in Denmark")
    make_incident(editor_user, country="SE", title="A Swedish draft", status=Status.DRAFT)
    return {"SE": swedish, "FI": finnish, "DK": danish}


def test_one_entry_per_published_incident_most_recently_updated_first(anon_client, recorded, editor_user):
    services.incident_update(incident=recorded["FI"], user=editor_user, data={"summary": "Updated."})
    feed, _ = parsed(anon_client)
    assert [entry.title for entry in feed.entries] == [
        "Rifles stolen in Finland",
        "Pistols seized in Denmark",
        "Grenades found in Malmö",
    ]
    finnish = feed.entries[0]
    recorded["FI"].refresh_from_db()
    assert finnish.id == f"urn:uuid:{recorded['FI'].uid}"
    assert finnish.link == f"http://testserver/api/v1/incidents/{recorded['FI'].pk}/"
    assert datetime.datetime(*finnish.updated_parsed[:6], tzinfo=datetime.UTC) == recorded["FI"].updated_at.replace(
        microsecond=0
    )
    assert feed.feed.title.startswith("Arms-diversion incident tracker")
    assert feed.feed.id == "http://testserver/api/v1/incidents/"


def test_an_entry_holds_place_date_precision_verification_weapons_and_linked_sources(anon_client, recorded):
    feed, _ = parsed(anon_client, country="SE")
    (entry,) = feed.entries
    summary = entry.summary
    assert "Date: 2022-10 (month-precise)" in summary
    assert "Place: Malmö, Sweden" in summary
    assert "Verification: reported" in summary
    assert "50 grenade" in summary
    assert '<a href="https://police.example.se/report">Police report on the seizure</a>' in summary
    assert "supports" in summary and "credibility 2" in summary
    assert {tag.term for tag in entry.tags} == {"seizure", "reported", "SE"}


def test_filters_select_entries_and_drafts_and_names_never_appear(anon_client, editor_client, recorded):
    feed, response = parsed(anon_client, country="SE,DK")
    assert sorted(entry.title for entry in feed.entries) == ["Grenades found in Malmö", "Pistols seized in Denmark"]
    assert feed.feed.links[1].href == "http://testserver/api/v1/incidents/feed.atom?country=SE%2CDK"
    for client in (anon_client, editor_client):  # the feed is the public view, whoever asks
        body = client.get(FEED).content
        assert b"A Swedish draft" not in body
        assert b"Private Person Name" not in body
    feed, _ = parsed(anon_client, weapon_category="grenade")
    assert [entry.title for entry in feed.entries] == ["Grenades found in Malmö"]


def test_at_most_fifty_entries(anon_client, editor_user):
    source = make_source(editor_user)
    for number in range(53):
        make_incident(editor_user, published=True, title=f"Incident {number}", citations=[cite(source)])
    feed, _ = parsed(anon_client)
    assert len(feed.entries) == 50
    assert feed.entries[0].title == "Incident 52"  # the newest; the three oldest left out
    assert "Incident 2" not in {entry.title for entry in feed.entries}


def test_conditional_get_answers_304_until_the_data_changes(anon_client, recorded, editor_user):
    _, response = parsed(anon_client, country="SE")
    etag = response["ETag"]
    assert anon_client.get(FEED, {"country": "SE"}, HTTP_IF_NONE_MATCH=etag).status_code == 304
    services.incident_update(incident=recorded["SE"], user=editor_user, data={"title": "Grenades found in Malmö, 50"})
    again = anon_client.get(FEED, {"country": "SE"}, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200
    assert feedparser.parse(again.content).entries[0].title == "Grenades found in Malmö, 50"


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"country": "XX"}, "country"),
        ({"contry": "SE"}, "contry"),
        ({"ordering": "id"}, "ordering"),
        ({"limit": "5"}, "limit"),
        ({"fields": "id"}, "fields"),
        ({"occurred_after": "2023-01-01", "occurred_before": "2022-01-01"}, "occurred_after"),
    ],
)
def test_a_bad_filter_is_a_json_400_naming_it(anon_client, params, parameter):
    response = anon_client.get(FEED, params, HTTP_ACCEPT="application/atom+xml")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert list(response.json()) == [parameter]


def test_a_feed_reader_fetches_it_and_revalidates_with_its_etag(live_server, recorded):
    """feedparser over HTTP, as a reader polls: the second poll sends the ETag and gets a 304."""
    url = f"{live_server.url}{FEED}?country=FI"
    first = feedparser.parse(url)
    assert first.status == 200 and not first.bozo
    assert [entry.title for entry in first.entries] == ["Rifles stolen in Finland"]
    second = feedparser.parse(url, etag=first.etag)
    assert second.status == 304 and second.entries == []


ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$"


def test_the_feed_keeps_the_atom_rules_a_validator_checks(anon_client, recorded):
    """RFC 4287 as the W3C validator applies it: the feed and every entry have an absolute-IRI id, a title
    and an RFC 3339 `updated`; the feed has an author (its entries have none) and a `self` link."""
    root = ElementTree.fromstring(anon_client.get(FEED).content)
    assert root.tag == f"{ATOM}feed"
    assert root.find(f"{ATOM}author/{ATOM}name").text
    assert [link.get("rel") for link in root.findall(f"{ATOM}link")] == ["alternate", "self"]
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 3
    for element in [root, *entries]:
        assert re.match(r"^(https?://|urn:uuid:)", element.find(f"{ATOM}id").text)
        assert element.find(f"{ATOM}title").text
        assert re.match(RFC3339, element.find(f"{ATOM}updated").text)
    ids = [entry.find(f"{ATOM}id").text for entry in entries]
    assert len(set(ids)) == len(ids)
    for entry in entries:
        assert entry.find(f"{ATOM}link").get("rel") == "alternate"
        assert entry.find(f"{ATOM}summary").get("type") == "html"


def test_characters_xml_cannot_hold_are_left_out_not_a_500(anon_client, editor_user):
    make_incident(editor_user, published=True, title="Bell\x07 and escape\x1b", summary="Form\x0cfeed")
    feed, _ = parsed(anon_client)
    assert feed.entries[0].title == "Bell and escape"
    assert "Formfeed" in feed.entries[0].summary


def test_the_feed_counts_against_the_anonymous_rate(anon_client, settings):
    settings.ANON_THROTTLE_RATE = "2/minute"
    codes = [anon_client.get(FEED).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    refused = anon_client.get(FEED)
    assert refused["Content-Type"] == "application/json" and int(refused["Retry-After"]) > 0
