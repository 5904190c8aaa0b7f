"""Tracing (API.md "Tracing"): serials on weapons, transfers, matching, the two trace endpoints, visibility
and the admin. Runs on SQLite and, in CI, on PostgreSQL."""

import pytest
from django.urls import reverse

from incidents import services
from incidents.models import Transfer, TransferMark, TransferRange, WeaponSerial
from incidents.serials import marking_tokens, normal_serial, split_serial
from tests.factories import cite, make_incident, make_source

pytestmark = pytest.mark.django_db


# --- Normal forms ---------------------------------------------------------------------------------------

SPELLINGS = [
    ("ab-0012 34", "AB001234"),
    ("AB001234", "AB001234"),
    ("ab001234", "AB001234"),
    (" AB 001234 ", "AB001234"),
    ("A.B.001234", "AB001234"),
    ("AB/001/234", "AB001234"),
    ("AB_001_234", "AB001234"),
    ("ab–001234", "AB001234"),  # an en dash
    ("ＡＢ００１２３４", "AB001234"),  # full-width letters and digits
    ("AB\u00a0001234", "AB001234"),  # a no-break space
    ("№ AB001234", "NOAB001234"),  # NFKC makes the numero sign the letters N and o
    ("ab#001234", "AB001234"),
    ("(AB) 001234", "AB001234"),
    ("AB-001234.", "AB001234"),
    ("1987-AK-12345", "1987AK12345"),
    ("ак-47 123", "АК47123"),  # Cyrillic letters stay Cyrillic, upper-cased
    ("x", "X"),
    ("0000", "0000"),
    ("k\u0301-9", "\u1e309"),  # composed first (NFKC): k and a combining acute are one letter, Ḱ
    ("A²B", "A2B"),  # a superscript two is the digit two
    ("--", ""),
    ("", ""),
]


@pytest.mark.parametrize(("given", "normal"), SPELLINGS)
def test_a_serial_is_compared_upper_case_with_letters_and_digits_only(given, normal):
    assert normal_serial(given) == normal


@pytest.mark.parametrize("given", [given for given, _ in SPELLINGS] + ["ǰ123", "ǰ", "ﬃ-7", "Ⅻ 9"])
def test_the_normal_form_of_a_normal_form_is_itself(given):
    assert normal_serial(normal_serial(given)) == normal_serial(given)


def test_upper_casing_cannot_bring_back_a_combining_mark():
    assert normal_serial("ǰ123") == "J123"  # ǰ upper-cases to J and a combining caron, which is dropped


@pytest.mark.parametrize(
    ("normal", "prefix", "number"),
    [
        ("AB001234", "AB", 1234),
        ("AB12C0034", "AB12C", 34),
        ("1987AK12345", "1987AK", 12345),
        ("XYZ", "XYZ", None),
        ("001234", "", 1234),
        ("12345678901234567890", "12", 345678901234567890),  # 18 digits at most make the number
    ],
)
def test_a_serial_splits_into_prefix_and_trailing_number(normal, prefix, number):
    assert split_serial(normal) == (prefix, number)


def test_marking_tokens_keep_only_words_with_digits():
    assert marking_tokens("Factory 22, 1987; lot 12-34 (R-7) made in USSR") == {"22", "1987", "1234", "R7"}


# --- Serials on weapons ---------------------------------------------------------------------------------


def weapon(category="assault_rifle", **overrides) -> dict:
    return {"category": category, "quantity": 1, **overrides}


def test_serials_are_stored_as_given_and_indexed_in_normal_form(editor_client):
    incident = make_incident(weapons=[weapon(serials=["ab-0012 34", "AB 9"])])
    assert incident.weapons.get().serials == ["ab-0012 34", "AB 9"]
    rows = WeaponSerial.objects.filter(weapon__incident=incident).order_by("normal")
    assert [(r.normal, r.prefix, r.number) for r in rows] == [("AB001234", "AB", 1234), ("AB9", "AB", 9)]
    record = editor_client.get(f"/api/v1/incidents/{incident.pk}/").json()
    assert record["weapons"][0]["serials"] == ["ab-0012 34", "AB 9"]


def test_changing_serials_replaces_their_index_rows(editor_client):
    incident = make_incident(weapons=[weapon(serials=["AB1"])])
    url = f"/api/v1/incidents/{incident.pk}/"
    response = editor_client.patch(url, {"weapons": [weapon(serials=["CD2", "CD3"])]}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["weapons"][0]["serials"] == ["CD2", "CD3"]
    assert sorted(WeaponSerial.objects.values_list("normal", flat=True)) == ["CD2", "CD3"]
    assert response.json()["version"] == 2
    [change, _created] = editor_client.get(f"{url}history/").json()
    old, new = change["changes"]["weapons"]
    assert [w["serials"] for w in old] == [["AB1"]] and [w["serials"] for w in new] == [["CD2", "CD3"]]


@pytest.mark.parametrize(
    ("serials", "field", "message"),
    [
        (["AB-1", "ab1"], "weapons[0].serials[1]", "Repeats serial 'AB-1' (AB1 in normal form)."),
        (["--"], "weapons[0].serials[0]", "A serial needs at least one letter or digit."),
        ([f"S{n}" for n in range(201)], "weapons[0].serials", "At most 200 items are allowed; 201 were given."),
        (["A" * 101], "weapons[0].serials[0]", "Ensure this field has no more than 100 characters."),
        ("AB1", "weapons[0].serials", 'Expected a list of items but got type "str".'),
        (["\ufdfa" * 10], "weapons[0].serials[0]", "At most 100 characters."),  # 10 characters, 180 in NFKC
    ],
)
def test_bad_serials_are_a_400_naming_the_item_and_nothing_is_written(editor_client, serials, field, message):
    body = {
        "title": "Rifles found",
        "incident_type": "seizure",
        "occurred_on": "2023-01-02",
        "country": "SE",
        "weapons": [weapon(serials=serials)],
    }
    response = editor_client.post("/api/v1/incidents/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert not WeaponSerial.objects.exists()
    assert not Transfer.objects.exists()


def test_a_nul_in_a_serial_is_refused_by_the_services_whatever_the_entry_point():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        make_incident(weapons=[weapon(serials=["A\x00B"])])
    assert refused.value.message_dict == {"weapons[0].serials[0]": ["Null characters are not allowed."]}
    with pytest.raises(ValidationError) as refused:
        make_transfer(lots=["L\x001"], serial_ranges=[{"prefix": "A\x00", "first": 1, "last": 2}])
    assert set(refused.value.message_dict) == {"lots[0]", "serial_ranges[0].prefix"}
    assert not WeaponSerial.objects.exists() and not Transfer.objects.exists()


# --- Transfers ------------------------------------------------------------------------------------------


def make_transfer(*, sourced=True, **overrides) -> Transfer:
    data = {
        "supplier": "FI",
        "recipient": "UA",
        "year": 2022,
        "weapon_category": "assault_rifle",
        "description": "",
        "serial_ranges": [{"prefix": "AB", "first": 1000, "last": 1999}],
        "lots": [],
    }
    data.update(overrides)
    if sourced and "citations" not in data:
        data["citations"] = [cite(make_source(source_type="official", reliability="A"))]
    return services.transfer_create(user=None, data=data)


def test_a_transfer_keeps_index_rows_of_its_ranges_lots_and_marking_tokens():
    transfer = make_transfer(lots=["12-34", "L 7"], description="Factory 22 rifles of 1987 pattern")
    assert list(TransferRange.objects.values_list("prefix", "first", "last")) == [("AB", 1000, 1999)]
    marks = set(TransferMark.objects.filter(transfer=transfer).values_list("kind", "token"))
    assert marks == {("lot", "1234"), ("lot", "L7"), ("markings", "22"), ("markings", "1987")}
    services.transfer_update(transfer=transfer, user=None, data={"serial_ranges": [], "lots": []})
    assert not TransferRange.objects.exists()
    assert set(TransferMark.objects.values_list("token", flat=True)) == {"22", "1987"}


TRANSFER_BODY = {
    "supplier": "fi",
    "recipient": "UA",
    "end_user": "Armed Forces of Ukraine",
    "year": 2022,
    "weapon_category": "assault_rifle",
    "description": "Rifles from reserve stocks",
    "quantity": 2000,
    "serial_ranges": [{"prefix": "ab-", "first": 1000, "last": 1999}],
    "lots": ["L-1"],
    "notes": "",
}


def test_editors_create_a_transfer_with_its_sources_through_the_api(editor_client, anon_client):
    source = make_source()
    body = {**TRANSFER_BODY, "sources": [{"id": source.pk, "stance": "supports", "credibility": 2}]}
    response = editor_client.post("/api/v1/transfers/", body, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["supplier"] == "FI"
    assert created["serial_ranges"] == [{"prefix": "AB", "first": 1000, "last": 1999}]
    assert [s["id"] for s in created["sources"]] == [source.pk]
    assert created["sources"][0]["credibility"] == 2
    assert set(created) == {"id", "uid", *TRANSFER_BODY, "sources"}
    assert anon_client.get(f"/api/v1/transfers/{created['id']}/").json() == created
    history = Transfer.history.filter(id=created["id"])
    assert history.count() == 1 and history.get().change_id is not None


def test_non_editors_cannot_write_transfers(reader_client, anon_client):
    assert anon_client.post("/api/v1/transfers/", TRANSFER_BODY, format="json").status_code == 401
    assert reader_client.post("/api/v1/transfers/", TRANSFER_BODY, format="json").status_code == 403
    assert not Transfer.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"serial_ranges": [{"prefix": "AB", "first": 2000, "last": 1999}]}, "serial_ranges[0].last"),
        ({"serial_ranges": [{"prefix": "AB1", "first": 1, "last": 2}]}, "serial_ranges[0].prefix"),
        ({"serial_ranges": [{"prefix": "AB", "first": -1, "last": 2}]}, "serial_ranges[0].first"),
        ({"serial_ranges": [{"prefix": "AB", "first": 1, "last": 2, "step": 1}]}, "serial_ranges[0].step"),
        ({"lots": ["--"]}, "lots[0]"),
        ({"lots": ["\ufdfa" * 10]}, "lots[0]"),
        ({"serial_ranges": [{"prefix": "\ufdfa" * 10, "first": 1, "last": 2}]}, "serial_ranges[0].prefix"),
        ({"supplier": "XX"}, "supplier"),
        ({"year": 1850}, "year"),
        ({"quantity": 1_000_001}, "quantity"),
        ({"weapon_category": "tank"}, "weapon_category"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_transfers_are_a_400_naming_the_field(editor_client, change, field):
    response = editor_client.post("/api/v1/transfers/", {**TRANSFER_BODY, **change}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field], response.json()
    assert not Transfer.objects.exists()


def test_transfers_without_a_source_are_invisible_to_non_editors(anon_client, reader_client, editor_client):
    sourced = make_transfer()
    unsourced = make_transfer(sourced=False, supplier="SE")
    for client in (anon_client, reader_client):
        assert [t["id"] for t in client.get("/api/v1/transfers/").json()["results"]] == [sourced.pk]
        assert client.get(f"/api/v1/transfers/{unsourced.pk}/").status_code == 404
    listed = editor_client.get("/api/v1/transfers/").json()["results"]
    assert sorted(t["id"] for t in listed) == sorted([sourced.pk, unsourced.pk])


def test_a_serial_far_outside_the_ascii_range_is_looked_up_safely(anon_client):
    response = anon_client.get("/api/v1/weapons/trace/", {"serial": "AB\ufdfa" + "Ω" * 90})  # 199 in NFKC
    assert response.status_code == 200
    assert response.json()["candidates"] == [] and response.json()["recovered_in"] == []


def test_transfer_filters(anon_client):
    first = make_transfer(supplier="FI", recipient="UA", year=2022, weapon_category="assault_rifle")
    second = make_transfer(
        supplier="SE", recipient="UA", year=2023, weapon_category="anti_tank_weapon", end_user="Territorial Defence"
    )

    def ids(query: str) -> list[int]:
        response = anon_client.get(f"/api/v1/transfers/?{query}")
        assert response.status_code == 200, response.json()
        return sorted(t["id"] for t in response.json()["results"])

    assert ids("supplier=fi") == [first.pk]
    assert ids("supplier=FI,SE") == sorted([first.pk, second.pk])
    assert ids("recipient=UA&year=2023") == [second.pk]
    assert ids("weapon_category=anti_tank_weapon") == [second.pk]
    assert ids("q=territorial") == [second.pk]
    assert anon_client.get("/api/v1/transfers/?supplier=XX").status_code == 400
    assert anon_client.get("/api/v1/transfers/?year=twenty").status_code == 400
    assert anon_client.get("/api/v1/transfers/?colour=red").status_code == 400


def test_a_transfer_search_is_keyed_by_its_text_as_given(anon_client):
    make_transfer(end_user="Café Corps")
    accented = anon_client.get("/api/v1/transfers/", {"q": "Café"})
    plain = anon_client.get("/api/v1/transfers/", {"q": "cafe"}, HTTP_IF_NONE_MATCH=accented["ETag"])
    assert accented.json()["count"] == 1
    assert plain.status_code == 200 and plain["ETag"] != accented["ETag"]


def test_a_source_cited_by_a_transfer_is_public_and_cannot_be_deleted(anon_client, editor_client):
    source = make_source()
    make_transfer(citations=[cite(source)])
    assert [s["id"] for s in anon_client.get("/api/v1/sources/").json()["results"]] == [source.pk]
    assert editor_client.delete(f"/api/v1/sources/{source.pk}/").status_code == 409


# --- Matching -------------------------------------------------------------------------------------------


def trace_of(client, incident) -> dict:
    response = client.get(f"/api/v1/incidents/{incident.pk}/trace/")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize(
    ("serial", "category", "linked"),
    [
        ("AB001000", "assault_rifle", True),  # the first of the range
        ("ab-001999", "assault_rifle", True),  # the last
        ("AB1500", "assault_rifle", True),  # inside, written without the leading zeros
        ("AB000999", "assault_rifle", False),  # one before the first
        ("AB002000", "assault_rifle", False),  # one after the last
        ("AC001500", "assault_rifle", False),  # another prefix
        ("AB001500", "pistol", False),  # another category
        ("AB", "assault_rifle", False),  # no number at all
    ],
)
def test_a_serial_links_to_a_transfer_only_inside_a_declared_range_of_its_category(
    anon_client, serial, category, linked
):
    transfer = make_transfer()
    incident = make_incident(published=True, weapons=[weapon(category, serials=[serial])])
    candidates = trace_of(anon_client, incident)["candidates"]
    if not linked:
        assert candidates == []
        return
    normal = normal_serial(serial)
    digits = len(normal) - 2
    span = f"AB{1000:0{digits}d}–AB{1999:0{digits}d}"
    assert candidates == [
        {
            "weapon": 0,
            "transfer": {"id": transfer.pk, "supplier": "FI", "recipient": "UA", "year": 2022},
            "match": "serial_in_range",
            "score": 0.9,
            "reasons": [f"serial {normal} lies in {span} of the 2022 FI→UA transfer, same category"],
        }
    ]


def test_the_reason_reads_as_the_issue_asks(anon_client):
    make_transfer()
    incident = make_incident(published=True, weapons=[weapon(serials=["AB001234"])])
    reason = trace_of(anon_client, incident)["candidates"][0]["reasons"][0]
    assert reason == "serial AB001234 lies in AB001000–AB001999 of the 2022 FI→UA transfer, same category"


def test_a_lot_declared_in_a_transfer_links_a_weapon_whose_markings_carry_it(anon_client):
    transfer = make_transfer(weapon_category="ammunition", serial_ranges=[], lots=["12-34"])
    incident = make_incident(
        published=True,
        weapons=[
            weapon("pistol"),
            weapon("ammunition", markings="lot 12 34? no: lot 12-34, 2021", suspected_origin="FI"),
        ],
    )
    assert trace_of(anon_client, incident)["candidates"] == [
        {
            "weapon": 1,
            "transfer": {"id": transfer.pk, "supplier": "FI", "recipient": "UA", "year": 2022},
            "match": "lot",
            "score": 0.75,
            "reasons": [
                "lot 1234 is declared in the 2022 FI→UA transfer",
                "its suspected origin FI is the supplier",
            ],
        }
    ]


def test_a_lot_of_letters_only_matches_the_same_word_in_the_markings(anon_client):
    transfer = make_transfer(serial_ranges=[], lots=["Lot-ABC"], weapon_category="grenade")
    matched = make_incident(published=True, weapons=[weapon("grenade", markings="batch LOTABC, 1990")])
    unmatched = make_incident(published=True, weapons=[weapon("grenade", markings="LOT ABC")])
    assert [(c["transfer"]["id"], c["match"]) for c in trace_of(anon_client, matched)["candidates"]] == [
        (transfer.pk, "lot")
    ]
    assert trace_of(anon_client, unmatched)["candidates"] == []


def test_shared_markings_link_only_within_a_category(anon_client):
    rifles = make_transfer(serial_ranges=[], description="AK pattern rifles, factory 22, year marks 1987 and 1988")
    make_transfer(serial_ranges=[], weapon_category="pistol", description="factory 22 pistols of 1987")
    incident = make_incident(published=True, weapons=[weapon(markings="(22) 1987 AB")])
    candidates = trace_of(anon_client, incident)["candidates"]
    assert candidates == [
        {
            "weapon": 0,
            "transfer": {"id": rifles.pk, "supplier": "FI", "recipient": "UA", "year": 2022},
            "match": "markings",
            "score": 0.35,
            "reasons": ["markings 1987, 22 appear in the description of the 2022 FI→UA transfer, same category"],
        }
    ]


def test_candidates_come_best_first_with_every_reason_of_a_transfer(anon_client):
    both = make_transfer(lots=["L9"])
    other = make_transfer(supplier="SE", serial_ranges=[], description="lot marks L9")
    incident = make_incident(published=True, weapons=[weapon(serials=["AB1500"], markings="L9")])
    candidates = trace_of(anon_client, incident)["candidates"]
    assert [(c["transfer"]["id"], c["match"], c["score"]) for c in candidates] == [
        (both.pk, "serial_in_range", 0.9),
        (other.pk, "markings", 0.3),
    ]
    assert candidates[0]["reasons"] == [
        "serial AB1500 lies in AB1000–AB1999 of the 2022 FI→UA transfer, same category",
        "lot L9 is declared in the 2022 FI→UA transfer",
    ]


def test_a_serial_seen_in_two_incidents_links_them(anon_client):
    first = make_incident(published=True, country="FI", weapons=[weapon(serials=["ZZ-77"])])
    second = make_incident(published=True, country="SE", weapons=[weapon("pistol"), weapon(serials=["zz77", "QQ1"])])
    assert trace_of(anon_client, first)["recovered_elsewhere"] == [
        {
            "incident": {
                "id": second.pk,
                "title": second.title,
                "country": "SE",
                "occurred_on": second.occurred_on.isoformat(),
            },
            "weapon": 1,
            "serial": "ZZ77",
        }
    ]
    assert [r["incident"]["id"] for r in trace_of(anon_client, second)["recovered_elsewhere"]] == [first.pk]


def test_an_incident_with_more_serials_than_one_query_binds_is_traced_whole(anon_client):
    """600 serials over 300 prefixes: more than one query's worth of values (tracing.CHUNK)."""
    prefixes = [a + b for a in "ABCDEFGHIJKLM" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"][:300]
    serials = [f"{prefix}-{m}" for prefix in prefixes for m in (1, 2)]
    last = prefixes[-1]
    transfer = make_transfer(serial_ranges=[{"prefix": last, "first": 2, "last": 2}])
    incident = make_incident(
        published=True,
        weapons=[weapon(serials=serials[:200]), weapon(serials=serials[200:400]), weapon(serials=serials[400:])],
    )
    other = make_incident(published=True, weapons=[weapon(serials=["aa 1", f"{last}-1"])])
    trace = trace_of(anon_client, incident)
    assert [(c["weapon"], c["transfer"]["id"]) for c in trace["candidates"]] == [(2, transfer.pk)]
    assert trace["candidates"][0]["reasons"][0].startswith(f"serial {last}2 lies in {last}2–{last}2")
    assert [(r["incident"]["id"], r["serial"]) for r in trace["recovered_elsewhere"]] == [
        (other.pk, "AA1"),
        (other.pk, f"{last}1"),
    ]


def test_a_serial_on_its_own_finds_transfers_of_any_category_and_every_incident(anon_client):
    transfer = make_transfer(weapon_category="pistol")
    incident = make_incident(published=True, weapons=[weapon("pistol", serials=["AB-1200"])])
    response = anon_client.get("/api/v1/weapons/trace/", {"serial": "ab 1200"})
    assert response.status_code == 200
    assert response.json() == {
        "serial": "AB1200",
        "candidates": [
            {
                "transfer": {"id": transfer.pk, "supplier": "FI", "recipient": "UA", "year": 2022},
                "match": "serial_in_range",
                "score": 0.9,
                "reasons": ["serial AB1200 lies in AB1000–AB1999 of the 2022 FI→UA transfer, category Pistol"],
            }
        ],
        "recovered_in": [
            {
                "incident": {
                    "id": incident.pk,
                    "title": incident.title,
                    "country": "FI",
                    "occurred_on": incident.occurred_on.isoformat(),
                },
                "weapon": 0,
                "serial": "AB1200",
            }
        ],
    }


@pytest.mark.parametrize(
    "query",
    ["", "?serial=", "?serial=--", f"?serial={'A' * 101}", "?serial=A1&x=1", "?serial=%00", "?serial=A&serial=B"],
)
def test_the_serial_lookup_without_a_usable_serial_is_a_400(anon_client, query):
    response = anon_client.get(f"/api/v1/weapons/trace/{query}")
    assert response.status_code == 400
    assert set(response.json()) <= {"serial", "x"} and response.json()


# --- Visibility -----------------------------------------------------------------------------------------


def test_drafts_and_their_serials_never_appear_to_non_editors(anon_client, reader_client, editor_client):
    published = make_incident(published=True, weapons=[weapon(serials=["DR1"])])
    draft = make_incident(weapons=[weapon(serials=["DR1"])])
    for client in (anon_client, reader_client):
        assert trace_of(client, published)["recovered_elsewhere"] == []
        assert client.get(f"/api/v1/incidents/{draft.pk}/trace/").status_code == 404
        found = client.get("/api/v1/weapons/trace/?serial=DR1").json()["recovered_in"]
        assert [r["incident"]["id"] for r in found] == [published.pk]
    assert [r["incident"]["id"] for r in trace_of(editor_client, published)["recovered_elsewhere"]] == [draft.pk]
    found = editor_client.get("/api/v1/weapons/trace/?serial=DR1").json()["recovered_in"]
    assert sorted(r["incident"]["id"] for r in found) == sorted([published.pk, draft.pk])


def test_transfers_without_a_source_are_in_no_trace_of_non_editors(anon_client, editor_client):
    unsourced = make_transfer(sourced=False)
    incident = make_incident(published=True, weapons=[weapon(serials=["AB1500"])])
    assert trace_of(anon_client, incident)["candidates"] == []
    assert anon_client.get("/api/v1/weapons/trace/?serial=AB1500").json()["candidates"] == []
    assert [c["transfer"]["id"] for c in trace_of(editor_client, incident)["candidates"]] == [unsourced.pk]


@pytest.mark.parametrize("path", ["/api/v1/incidents/", "/api/v1/incidents/1/", "/api/v1/incidents/1/trace/"])
def test_the_http_method_trace_is_not_allowed(editor_client, path):
    make_incident(published=True)
    assert editor_client.generic("TRACE", path).status_code == 405


def test_a_trace_answers_304_until_the_data_changes(anon_client):
    incident = make_incident(published=True, weapons=[weapon(serials=["AB1500"])])
    url = f"/api/v1/incidents/{incident.pk}/trace/"
    first = anon_client.get(url)
    etag = first["ETag"]
    assert anon_client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    make_transfer()
    changed = anon_client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and len(changed.json()["candidates"]) == 1
    assert anon_client.get(f"{url}?fields=id").status_code == 400


# --- The admin ------------------------------------------------------------------------------------------


@pytest.fixture
def editor_admin(client, editor_user):
    client.force_login(editor_user)
    return client


def test_the_incident_change_form_shows_the_trace_panel(editor_admin):
    transfer = make_transfer()
    other = make_incident(title="Rifles in a car", weapons=[weapon(serials=["AB1500"])])
    incident = make_incident(published=True, weapons=[weapon(serials=["ab-1500"])])
    page = editor_admin.get(reverse("admin:incidents_incident_change", args=[incident.pk])).content.decode()
    panel = page[page.index('class="trace-panel"') :]
    assert reverse("admin:incidents_transfer_change", args=[transfer.pk]) in panel
    assert "serial AB1500 lies in AB1000–AB1999 of the 2022 FI→UA transfer, same category" in panel
    assert reverse("admin:incidents_incident_change", args=[other.pk]) in panel
    assert "Rifles in a car" in panel


def test_a_blank_extra_weapon_row_with_an_empty_serials_box_is_not_a_weapon():
    from incidents.admin import WeaponInlineForm

    blank = WeaponInlineForm(
        data={"serials": "", "quantity_precision": "exact"}, empty_permitted=True, use_required_attribute=False
    )
    assert blank.changed_data == [] and blank.is_valid()
    filled = WeaponInlineForm(
        data={"serials": "AB1", "quantity_precision": "exact"}, empty_permitted=True, use_required_attribute=False
    )
    assert filled.changed_data == ["serials"] and "category" in filled.errors


def test_the_weapon_inline_edits_serials_one_per_line(editor_admin):
    from tests.test_admin import incident_form

    form = incident_form(weapons=[{"category": "pistol", "quantity": "1", "serials": "AB-1\r\n\r\n cd 2 "}])
    response = editor_admin.post(reverse("admin:incidents_incident_add"), form)
    assert response.status_code == 302, response.context["errors"]
    assert list(WeaponSerial.objects.order_by("normal").values_list("normal", flat=True)) == ["AB1", "CD2"]


def test_the_weapon_inline_shows_the_services_refusal_of_a_repeated_serial(editor_admin):
    from tests.test_admin import incident_form

    form = incident_form(weapons=[{"category": "pistol", "quantity": "1", "serials": "AB-1\nab1"}])
    response = editor_admin.post(reverse("admin:incidents_incident_add"), form)
    assert response.status_code == 200
    assert "Weapon 1, serial 2: Repeats serial &#x27;AB-1&#x27; (AB1 in normal form)." in str(
        response.context["errors"]
    )
    assert not WeaponSerial.objects.exists()


def transfer_form(**overrides) -> dict:
    form = {
        "supplier": "FI",
        "recipient": "UA",
        "end_user": "",
        "year": "2022",
        "weapon_category": "assault_rifle",
        "quantity": "",
        "description": "",
        "serial_ranges": "AB001000–AB001999\nCD-10 .. CD-20",
        "lots": "L-1\nL-2",
        "notes": "",
        "citations-TOTAL_FORMS": "0",
        "citations-INITIAL_FORMS": "0",
        "citations-MIN_NUM_FORMS": "0",
        "citations-MAX_NUM_FORMS": "1000",
    }
    form.update(overrides)
    return form


def test_the_transfer_admin_saves_ranges_lots_and_sources_through_the_services(editor_admin, anon_client):
    source = make_source()
    form = transfer_form(
        **{
            "citations-TOTAL_FORMS": "1",
            "citations-0-source": str(source.pk),
            "citations-0-stance": "supports",
            "citations-0-credibility": "2",
            "citations-0-excerpt": "",
            "citations-0-excerpt_language": "",
        }
    )
    response = editor_admin.post(reverse("admin:incidents_transfer_add"), form)
    assert response.status_code == 302, response.context["errors"]
    transfer = Transfer.objects.get()
    assert transfer.serial_ranges == [
        {"prefix": "AB", "first": 1000, "last": 1999},
        {"prefix": "CD", "first": 10, "last": 20},
    ]
    assert transfer.lots == ["L-1", "L-2"]
    assert list(transfer.citations.values_list("source_id", flat=True)) == [source.pk]
    assert TransferRange.objects.count() == 2
    assert anon_client.get(f"/api/v1/transfers/{transfer.pk}/").status_code == 200
    change = reverse("admin:incidents_transfer_change", args=[transfer.pk])
    shown = editor_admin.get(change).context["adminform"].form
    assert shown["serial_ranges"].value() == "AB1000–AB1999\nCD10–CD20" and shown["lots"].value() == "L-1\nL-2"
    # Saved again as shown, with another year: the ranges and lots stay as they were.
    resaved = {**form, "serial_ranges": shown["serial_ranges"].value(), "lots": shown["lots"].value(), "year": "2023"}
    resaved.update({"citations-INITIAL_FORMS": "1", "citations-0-id": str(transfer.citations.get().pk)})
    resaved["citations-0-transfer"] = str(transfer.pk)
    response = editor_admin.post(change, resaved)
    assert response.status_code == 302, response.context["errors"]
    transfer.refresh_from_db()
    assert transfer.year == 2023 and TransferRange.objects.count() == 2 and transfer.lots == ["L-1", "L-2"]
    assert Transfer.history.filter(id=transfer.pk).count() == 2


def test_the_transfer_admin_refuses_an_unreadable_range_and_writes_nothing(editor_admin):
    response = editor_admin.post(reverse("admin:incidents_transfer_add"), transfer_form(serial_ranges="AB1-CD2"))
    assert response.status_code == 200
    assert "Line 1: write a range as AB001000–AB001999." in str(response.context["errors"])
    response = editor_admin.post(reverse("admin:incidents_transfer_add"), transfer_form(serial_ranges="AB9 .. AB1"))
    assert response.status_code == 200
    assert "The last serial of a range cannot come before its first." in str(response.context["errors"])
    assert not Transfer.objects.exists()
