"""Each class of defect a security review found, held closed with several values each (not only the
example the review gave): hidden names, ids of invisible records, unbounded work, values at the edges,
work before limits, races that refuse valid writes, admin writes, brute force, and `If-None-Match: *`."""

import csv
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework import status

from incidents import services
from incidents.models import Incident, Source
from tests.factories import cite, make_actor, make_incident, make_source

pytestmark = pytest.mark.django_db

LIST = reverse("incident-list")


def detail(incident_id) -> str:
    return reverse("incident-detail", args=[incident_id])


# --- 1. Nothing is ordered by a hidden name ---------------------------------------------------------

VISIBLE_NAMES = ["Bravo Crew", "Mike Network", "Yankee Gang"]


@pytest.fixture
def with_individual(request):
    """A published incident linked to visible groups and to an individual named `request.param`."""
    groups = [make_actor(name=name, kind="criminal_network") for name in VISIBLE_NAMES]
    person = make_actor(name=request.param, kind="individual")
    incident = make_incident(published=True, actors=[*groups, person])
    return incident, person


def public_positions(anon_client, incident, person) -> dict[str, int]:
    """Where the individual stands among the actors in each public view of them."""
    positions = {}
    actors = anon_client.get(reverse("actor-list")).json()["results"]
    positions["actors/"] = [actor["id"] for actor in actors].index(person.pk)
    record = anon_client.get(detail(incident.pk)).json()
    positions["detail"] = [actor["id"] for actor in record["actors"]].index(person.pk)
    listed = anon_client.get(LIST).json()["results"][0]
    positions["list"] = [actor["id"] for actor in listed["actors"]].index(person.pk)
    exported = b"".join(anon_client.get(LIST, {"format": "csv"}).streaming_content).decode()
    row = next(csv.DictReader(io.StringIO(exported)))
    positions["csv"] = [actor["id"] for actor in json.loads(row["actors"])].index(person.pk)
    return positions


@pytest.mark.parametrize(
    "with_individual", ["Aaron Aaronson", "Lars Larsson", "Zed Zedson", "mia", "Ötzi Öberg"], indirect=True
)
def test_an_individual_stands_in_the_same_place_whatever_its_name(anon_client, with_individual):
    incident, person = with_individual
    positions = public_positions(anon_client, incident, person)
    # After every named actor, whatever its name sorts as: the order reveals nothing about it.
    assert positions == {"actors/": 3, "detail": 3, "list": 3, "csv": 3}
    names = [actor["name"] for actor in anon_client.get(reverse("actor-list")).json()["results"]]
    assert names == [*VISIBLE_NAMES, None]


@pytest.mark.parametrize("names", [["Zoe", "Adam", "Mia"], ["Adam", "Zoe", "Mia"], ["Mia", "Zoe", "Adam"]])
def test_several_individuals_are_ordered_by_id_for_the_public(anon_client, names):
    people = [make_actor(name=name, kind="individual") for name in names]
    incident = make_incident(published=True, actors=people)
    record = anon_client.get(detail(incident.pk)).json()
    assert [actor["id"] for actor in record["actors"]] == sorted(person.pk for person in people)
    listed = anon_client.get(reverse("actor-list")).json()["results"]
    assert [actor["id"] for actor in listed] == sorted(person.pk for person in people)


def test_editors_still_see_actors_by_name(editor_client):
    make_incident(published=True, actors=[make_actor(name="Zed", kind="individual"), make_actor(name="Adam")])
    names = [actor["name"] for actor in editor_client.get(reverse("actor-list")).json()["results"]]
    assert names == ["Adam", "Zed"]


# --- 2. No id of a record the caller cannot see -------------------------------------------------------


def merged_into(target_status: str, editor_user) -> tuple[Incident, Incident]:
    duplicate = make_incident(published=True, title="Reported twice")
    target = make_incident(status=target_status, title="Kept", citations=[cite(make_source())])
    services.incident_merge(kept=target, duplicates=[duplicate], user=editor_user)
    return duplicate, target


@pytest.mark.parametrize("target_status", ["draft", "archived"])
@pytest.mark.parametrize("client_name", ["anon_client", "reader_client"])
def test_a_merge_into_an_invisible_incident_does_not_name_it(request, client_name, target_status, editor_user):
    duplicate, target = merged_into(target_status, editor_user)
    client = request.getfixturevalue(client_name)
    response = client.get(detail(duplicate.pk))
    assert response.status_code == status.HTTP_410_GONE
    assert response.json()["merged_into"] is None
    assert str(target.pk) not in response.json()["detail"]
    removals = client.get(reverse("incident-deleted"), {"since": "2000-01-01T00:00:00Z"}).json()["results"]
    assert [(row["id"], row["merged_into"]) for row in removals] == [(duplicate.pk, None)]


@pytest.mark.parametrize("target_status", ["draft", "published"])
def test_editors_and_visible_targets_are_named(editor_client, anon_client, editor_user, target_status):
    duplicate, target = merged_into(target_status, editor_user)
    assert editor_client.get(detail(duplicate.pk)).json()["merged_into"] == target.pk
    shown = anon_client.get(detail(duplicate.pk)).json()["merged_into"]
    assert shown == (target.pk if target_status == "published" else None)


def test_a_chain_of_merges_ending_in_a_draft_names_nothing(anon_client, editor_user):
    first, middle = merged_into("published", editor_user)
    draft = make_incident(title="Draft at the end", citations=[cite(make_source())])
    services.incident_merge(kept=draft, duplicates=[middle], user=editor_user)
    for merged in (first, middle):
        assert anon_client.get(detail(merged.pk)).json()["merged_into"] is None


def test_similar_never_lists_a_draft_to_the_public(anon_client):
    shown = make_incident(published=True, title="Grenades found in a Malmö car park", country="SE")
    make_incident(title="Grenades found in a Malmö car park", country="SE")
    similar = anon_client.get(reverse("incident-similar", args=[shown.pk])).json()
    assert similar == []


# --- 3. Bounded work for anonymous clients ------------------------------------------------------------


@pytest.mark.parametrize(
    "q",
    [
        "a b c d e f g h i",
        "one two three four five six seven eight nine",
        " ".join(f"t{n}" for n in range(20)),
        "x y z w v u t s r q",
    ],
)
def test_more_than_eight_distinct_terms_answer_400(anon_client, q):
    response = anon_client.get(LIST, {"q": q})
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert "8" in response.json()["q"][0]


@pytest.mark.parametrize(
    "q", ["a a a a a a a a a a a a", "grenade grenade Grenade GRENADE", "a b c d e f g h a b c d e f g h"]
)
def test_repeated_terms_count_once(anon_client, q):
    assert anon_client.get(LIST, {"q": q}).status_code == status.HTTP_200_OK


def test_repeated_terms_share_one_etag(anon_client):
    make_incident(published=True, title="Grenades in Malmö")
    once = anon_client.get(LIST, {"q": "grenades"})["ETag"]
    assert anon_client.get(LIST, {"q": "Grenades grenades GRENADES"})["ETag"] == once


# --- 4. Values at the edges answer 400, never 500 -------------------------------------------------------

EDGE_DATETIMES = [
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-23:59",
    "1899-12-31T23:59:59Z",
    "1900-01-01T00:00:00+00:01",
    "9999-01-01T00:00:00Z",
    "9998-12-31T23:59:59-00:01",
]
ENDPOINTS = [
    (LIST, {}),
    (LIST, {"format": "csv"}),
    (LIST, {"format": "geojson"}),
    (reverse("stats"), {"group_by": "country"}),
    (reverse("country-list"), {}),
]


@pytest.mark.parametrize("value", EDGE_DATETIMES)
@pytest.mark.parametrize(("path", "extra"), ENDPOINTS)
def test_updated_since_outside_1900_to_9998_answers_400(anon_client, path, extra, value):
    response = anon_client.get(path, {**extra, "updated_since": value})
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert list(response.json()) == ["updated_since"]


@pytest.mark.parametrize("value", EDGE_DATETIMES)
def test_deleted_since_outside_1900_to_9998_answers_400(anon_client, value):
    response = anon_client.get(reverse("incident-deleted"), {"since": value})
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert list(response.json()) == ["since"]


@pytest.mark.parametrize("value", ["1900-01-01T00:00:00Z", "9998-12-31T23:59:59Z", "2022-10-30T12:00:00+03:00"])
def test_updated_since_inside_the_range_answers(anon_client, value):
    for path, extra in ENDPOINTS:
        assert anon_client.get(path, {**extra, "updated_since": value}).status_code == status.HTTP_200_OK


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("min_weapons", str(10**30)),
        ("min_weapons", "-1"),
        ("offset", str(10**30)),
        ("offset", str(2**63)),
        ("limit", str(10**30)),
        ("actor", str(2**64)),
        ("lat", "1e308"),
        ("bbox", "-1e400,0,1,1"),
        ("occurred_after", "10000-01-01"),
        ("min_credibility", "7"),
    ],
)
def test_numbers_and_dates_beyond_their_range_answer_400(anon_client, parameter, value):
    query = {parameter: value}
    if parameter == "lat":
        query.update(lon="0", radius_km="10")
    response = anon_client.get(LIST, query)
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert parameter in response.json()


GOOD = {"title": "A seizure", "incident_type": "seizure", "occurred_on": "2022-10-30", "country": "FI"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"weapons": [{"category": "rifle", "quantity": 1_000_001}]}, "weapons[0].quantity"),
        ({"weapons": [{"category": "rifle", "quantity": 2**31}]}, "weapons[0].quantity"),
        ({"weapons": [{"category": "rifle", "quantity": 2**63}]}, "weapons[0].quantity"),
        ({"occurred_on": "0001-01-01"}, "occurred_on"),
        ({"occurred_on": "1899-12-31"}, "occurred_on"),
        ({"sources": [{"url": "https://e.example/1", "publisher": "P", "published_on": "1000-01-01"}]}, None),
        ({"latitude": 1e308, "longitude": 0}, "latitude"),
    ],
)
def test_values_beyond_their_range_in_a_body_answer_400_naming_the_field(editor_client, changes, field):
    response = editor_client.post(LIST, {**GOOD, **changes}, format="json")
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    if field:
        assert field in response.json()
    else:
        assert any(name.startswith("sources[0]") for name in response.json())
    assert not Incident.objects.exists() and not Source.objects.exists()


def test_the_largest_quantities_allowed_sum_without_overflow(editor_client):
    weapons = [{"category": "ammunition", "quantity": 1_000_000}] * 200
    response = editor_client.post(LIST, {**GOOD, "weapons": weapons}, format="json")
    assert response.status_code == status.HTTP_201_CREATED
    assert response.json()["weapons_total"] == 200_000_000


@pytest.mark.parametrize("depth", [33, 100, 200_000])
def test_json_nested_deeper_than_32_levels_answers_400(editor_client, depth):
    body = "[" * depth + "]" * depth
    response = editor_client.generic("POST", LIST, body, content_type="application/json")
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert "nested deeper than 32" in response.json()["detail"]
    assert not Incident.objects.exists()


def test_json_nested_32_levels_is_read_and_judged_on_its_fields(editor_client):
    nested = "[" * 31 + "]" * 31
    body = json.dumps({**GOOD, "title": "x"})[:-1] + f', "tags": {nested}}}'
    response = editor_client.generic("POST", LIST, body, content_type="application/json")
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert "tags[0]" in response.json()


def test_an_import_row_beyond_the_quantity_range_is_rejected_and_the_others_land(editor_client):
    rows = [
        {**GOOD, "title": "Too many", "weapons": [{"category": "rifle", "quantity": 2**40}]},
        {**GOOD, "title": "Fine", "weapons": [{"category": "rifle", "quantity": 3}]},
    ]
    response = editor_client.post(reverse("incident-import"), rows, format="json")
    assert response.status_code == status.HTTP_200_OK
    report = response.json()
    assert (report["created"], report["rejected_rows"]) == (1, 1)
    assert report["errors"][0]["field"] == "weapons[0].quantity"
    assert list(Incident.objects.values_list("title", flat=True)) == ["Fine"]


# --- 5. Limits before any lookup ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "items", "table"),
    [
        ("actors", [1] * 51, "incidents_actor"),
        ("actors", [1] * 10_000, "incidents_actor"),
        ("actors", [1] * 400_000, "incidents_actor"),
        ("actors", list(range(1, 120_001)), "incidents_actor"),
        ("sources", [{"id": 1}] * 51, "incidents_source"),
        ("sources", [{"id": n} for n in range(1, 60_001)], "incidents_source"),
        ("sources", [{"url": f"https://e.example/{n}"} for n in range(51)], "incidents_source"),
        ("tags", [f"tag-{n}" for n in range(31)], "incidents_tag"),
        ("weapons", [{"category": "rifle"}] * 201, "incidents_weaponitem"),
    ],
)
def test_too_many_items_answer_400_before_any_is_looked_up(editor_client, field, items, table):
    body = json.dumps({**GOOD, field: items}, separators=(",", ":"))
    assert len(body) < 1024 * 1024
    with CaptureQueriesContext(connection) as queries:
        response = editor_client.generic("POST", LIST, body, content_type="application/json")
    assert response.status_code == status.HTTP_400_BAD_REQUEST
    assert "At most" in response.json()[field][0]
    assert not [query["sql"] for query in queries.captured_queries if table in query["sql"]]
    assert not Incident.objects.exists()


def test_an_import_row_with_too_many_items_is_rejected_without_resolving_them(editor_client):
    row = {**GOOD, "sources": [{"url": f"https://e.example/{n}", "publisher": "P"} for n in range(5000)]}
    with CaptureQueriesContext(connection) as queries:
        response = editor_client.post(reverse("incident-import"), [row], format="json")
    assert response.json()["errors"][0]["field"] == "sources"
    assert not [query["sql"] for query in queries.captured_queries if "incidents_source" in query["sql"]]


# --- 6. A concurrent first citation of a URL is the one source (see test_faults for processes) -------------


def test_a_source_created_meanwhile_is_reused_by_a_citation_resolved_before_it(editor_user):
    """The API resolves a citation's URL before the write transaction; the service looks again inside it."""
    given = {"url": "https://news.example.org/raced", "publisher": "Raced"}
    unsaved = Source(**given)  # what the API resolved the citation to, before the write transaction
    services.source_create(user=editor_user, data=given)
    citation = services.CitationData(source=unsaved, source_fields=given)
    incident = services.incident_create(user=editor_user, data={**GOOD, "citations": [citation]})
    assert list(incident.citations.values_list("source__url", flat=True)) == [unsaved.url]
    assert Source.objects.count() == 1


def test_a_source_created_meanwhile_with_other_fields_is_a_400_naming_them(editor_user):
    from django.core.exceptions import ValidationError

    given = {"url": "https://news.example.org/raced", "publisher": "Mine"}
    services.source_create(user=editor_user, data={**given, "publisher": "Theirs"})
    citation = services.CitationData(source=Source(**given), source_fields=given)
    with pytest.raises(ValidationError) as refused:
        services.incident_create(user=editor_user, data={**GOOD, "citations": [citation]})
    assert "sources[0].publisher" in refused.value.message_dict
    assert not Incident.objects.exists()


# --- 7. Admin writes move versions, ETags, history and the sync feed --------------------------------------


@pytest.fixture
def editor_admin(client, editor_user):
    client.force_login(editor_user)
    return client


def admin_edits():
    return {
        "tag": lambda incident: (
            reverse("admin:incidents_tag_change", args=[incident.tags.get().pk]),
            {"slug": "renamed-tag"},
        ),
        "actor": lambda incident: (
            reverse("admin:incidents_actor_change", args=[incident.actors.get().pk]),
            {"name": "Renamed Network", "kind": "criminal_network"},
        ),
        "source": lambda incident: (
            reverse("admin:incidents_source_change", args=[incident.citations.get().source_id]),
            {
                "url": incident.citations.get().source.url,
                "title": "Renamed article",
                "publisher": "Example News",
                "published_on": "2022-11-01",
                "source_type": "news",
                "language": "en",
                "archived_url": "",
                "archived_at_0": "",
                "archived_at_1": "",
                "reliability": "F",
            },
        ),
    }


@pytest.mark.parametrize("edited", ["tag", "actor", "source"])
def test_an_admin_edit_of_a_related_record_is_seen_by_every_reader(editor_admin, anon_client, edited):
    incident = make_incident(published=True, tags=["some-tag"], actors=[make_actor(name="Some Network")])
    record_etag = anon_client.get(detail(incident.pk))["ETag"]
    list_etag = anon_client.get(LIST)["ETag"]
    since = timezone.now().isoformat()
    url, form = admin_edits()[edited](incident)
    assert editor_admin.post(url, form).status_code == status.HTTP_302_FOUND
    incident.refresh_from_db()
    assert incident.version == 2
    assert anon_client.get(detail(incident.pk), HTTP_IF_NONE_MATCH=record_etag).status_code == 200
    assert anon_client.get(LIST, HTTP_IF_NONE_MATCH=list_etag).status_code == 200
    assert [row["id"] for row in anon_client.get(LIST, {"updated_since": since}).json()["results"]] == [incident.pk]
    assert incident.history.count() == 2


# --- 8. Brute force -----------------------------------------------------------------------------------------

LOGIN = reverse("admin:login")


def try_login(client, username: str, password: str, address: str = "203.0.113.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize("failures", [10, 12])
def test_admin_logins_lock_after_ten_failures_even_with_the_right_password(client, editor_user, failures):
    answers = [try_login(client, "editor", "wrong password").status_code for _ in range(failures)]
    assert answers == [200] * 9 + [429] * (failures - 9)  # the tenth failure locks
    locked = try_login(client, "editor", "editor-password-1")
    assert locked.status_code == status.HTTP_429_TOO_MANY_REQUESTS
    assert "_auth_user_id" not in client.session


def test_nine_failures_still_let_the_right_password_in(client, editor_user):
    for _ in range(9):
        try_login(client, "editor", "wrong password")
    assert try_login(client, "editor", "editor-password-1").status_code == status.HTTP_302_FOUND


def test_the_lock_follows_the_user_name_across_addresses(client, editor_user):
    for number in range(10):
        try_login(client, "editor", "wrong password", address=f"198.51.100.{number}")
    assert try_login(client, "editor", "editor-password-1", address="192.0.2.99").status_code == 429


def test_the_lock_follows_the_client_across_user_names(client, editor_user):
    for number in range(10):
        try_login(client, f"guess-{number}", "wrong password")
    assert try_login(client, "editor", "editor-password-1").status_code == 429


@pytest.mark.parametrize("token", ["0" * 40, "not-a-token", "x" * 400])
def test_invalid_tokens_count_against_the_anonymous_rate(settings, anon_client, token):
    settings.ANON_THROTTLE_RATE = "3/minute"
    answers = [anon_client.get(LIST, HTTP_AUTHORIZATION=f"Token {token}").status_code for _ in range(3)]
    assert answers == [401, 401, 401]
    throttled = anon_client.get(LIST, HTTP_AUTHORIZATION=f"Token {token}")
    assert throttled.status_code == status.HTTP_429_TOO_MANY_REQUESTS
    assert int(throttled["Retry-After"]) > 0
    assert anon_client.get(LIST).status_code == 429  # the same count as requests without credentials


# --- 9. If-None-Match: * on what does not exist ---------------------------------------------------------------


@pytest.mark.parametrize("kind", ["incident", "source", "actor"])
def test_if_none_match_star_on_a_missing_record_is_404(anon_client, kind):
    response = anon_client.get(reverse(f"{kind}-detail", args=[987654]), HTTP_IF_NONE_MATCH="*")
    assert response.status_code == status.HTTP_404_NOT_FOUND


@pytest.mark.parametrize("kind", ["incident", "source", "actor"])
def test_if_none_match_star_on_a_record_hidden_from_the_caller_is_404(anon_client, kind):
    draft = make_incident(citations=[cite(make_source())], actors=[make_actor()])
    target = {"incident": draft.pk, "source": draft.citations.get().source_id, "actor": draft.actors.get().pk}[kind]
    response = anon_client.get(reverse(f"{kind}-detail", args=[target]), HTTP_IF_NONE_MATCH="*")
    assert response.status_code == status.HTTP_404_NOT_FOUND


@pytest.mark.parametrize("kind", ["incident", "source", "actor"])
def test_if_none_match_star_on_a_visible_record_is_304(anon_client, kind):
    shown = make_incident(published=True, actors=[make_actor()])
    target = {"incident": shown.pk, "source": shown.citations.get().source_id, "actor": shown.actors.get().pk}[kind]
    response = anon_client.get(reverse(f"{kind}-detail", args=[target]), HTTP_IF_NONE_MATCH="*")
    assert response.status_code == status.HTTP_304_NOT_MODIFIED


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "bad\x00title"}, "title"),
        ({"place": "Hel\x00sinki"}, "place"),
        ({"weapons": [{"category": "rifle", "markings": "A\x00"}]}, "weapons[0].markings"),
        ({"weapons": [{"category": "rifle", "serials": ["A\x00B"]}]}, "weapons[0].serials[0]"),
        ({"sources": [{"url": "https://e.example/\x00", "publisher": "P"}]}, "sources[0].url"),
        ({"sources": [{"url": "https://e.example/1", "publisher": "P\x00"}]}, "sources[0].publisher"),
        ({"actors": [{"name": "Gang\x00", "kind": "criminal_network"}]}, "actors[0].name"),
        ({"tags": ["a\x00b"]}, "tags[0]"),
        ({"uid": "\x00"}, "uid"),
    ],
)
def test_an_import_row_with_a_nul_is_rejected_naming_the_field(editor_client, change, field):
    """PostgreSQL stores no NUL character: the import refuses it as the API's parser does, on both databases."""
    response = editor_client.post(reverse("incident-import"), [{**GOOD, **change}], format="json")
    assert response.status_code == status.HTTP_200_OK
    report = response.json()
    assert report["rejected_rows"] == 1 and report["errors"][0]["field"] == field, report
    assert not Incident.objects.exists()
