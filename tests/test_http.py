"""HTTP semantics: ETags and 304 on every GET kind, If-Match with 412, no lost edits, cache headers."""

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework import status
from rest_framework.test import APIClient

from incidents import services
from incidents.models import Incident
from tests.factories import make_actor, make_incident, make_source

pytestmark = pytest.mark.django_db


@pytest.fixture
def published():
    return make_incident(
        published=True, title="Published", country="FI", weapons=[{"category": "rifle", "quantity": 1}]
    )


def detail_url(incident) -> str:
    return reverse("incident-detail", args=[incident.pk])


def get_kinds(incident) -> list[tuple[str, dict]]:
    return [
        (detail_url(incident), {}),
        (detail_url(incident), {"fields": "id,title"}),
        (reverse("incident-list"), {}),
        (reverse("incident-list"), {"format": "geojson"}),
        (reverse("incident-list"), {"format": "csv"}),
        (reverse("stats"), {"group_by": "country"}),
        (reverse("country-list"), {}),
        (reverse("source-list"), {}),
        (reverse("actor-list"), {}),
    ]


@pytest.mark.parametrize("client_name", ["anon_client", "editor_client"])
def test_every_get_kind_answers_304_to_its_own_etag(request, client_name, published):
    client = request.getfixturevalue(client_name)
    for url, params in get_kinds(published):
        first = client.get(url, params)
        assert first.status_code == status.HTTP_200_OK, url
        etag = first["ETag"]
        assert etag.startswith('"') and etag.endswith('"')
        again = client.get(url, params, HTTP_IF_NONE_MATCH=etag)
        assert again.status_code == status.HTTP_304_NOT_MODIFIED, (url, params)
        assert again["ETag"] == etag
        assert client.get(url, params, HTTP_IF_NONE_MATCH='"something-else"').status_code == status.HTTP_200_OK


def test_detail_etag_names_id_version_and_variant(anon_client, editor_client, published):
    etag = anon_client.get(detail_url(published))["ETag"]
    record_id, version, variant = etag.strip('"').split("-")
    assert (int(record_id), int(version)) == (published.pk, 1) and variant
    assert editor_client.get(detail_url(published))["ETag"] != etag  # another visibility
    assert anon_client.get(detail_url(published), {"fields": "id"})["ETag"] != etag  # another field set


def test_etags_differ_by_visibility_for_every_collection(anon_client, editor_client, published):
    for url, params in get_kinds(published)[2:]:
        assert anon_client.get(url, params)["ETag"] != editor_client.get(url, params)["ETag"], url


def test_a_write_to_an_incident_changes_its_etags(anon_client, published):
    before = {
        (url, tuple(params.items())): anon_client.get(url, params)["ETag"] for url, params in get_kinds(published)
    }
    services.incident_update(incident=published, user=None, data={"title": "Renamed"})
    after = {(url, tuple(params.items())): anon_client.get(url, params)["ETag"] for url, params in get_kinds(published)}
    assert all(before[key] != after[key] for key in before)


def test_a_write_elsewhere_changes_list_etags(anon_client, published):
    list_etag = anon_client.get(reverse("incident-list"))["ETag"]
    detail_etag = anon_client.get(detail_url(published))["ETag"]
    make_incident(title="Another draft")
    assert anon_client.get(reverse("incident-list"))["ETag"] != list_etag
    assert anon_client.get(detail_url(published))["ETag"] == detail_etag


def test_the_304_path_reads_no_incident(anon_client, published):
    for url, params in get_kinds(published)[2:]:
        etag = anon_client.get(url, params)["ETag"]
        with CaptureQueriesContext(connection) as queries:
            response = anon_client.get(url, params, HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == status.HTTP_304_NOT_MODIFIED
        assert not any("incidents_incident" in query["sql"] for query in queries.captured_queries), url
        assert len(queries.captured_queries) == 1  # the data version


# --- If-Match -------------------------------------------------------------------------------------


def test_a_stale_if_match_answers_412_and_changes_nothing(editor_client, published):
    stale = editor_client.get(detail_url(published))["ETag"]
    services.incident_update(incident=published, user=None, data={"title": "Someone else's edit"})
    for method, body in (("patch", {"title": "Lost edit"}), ("put", None), ("delete", None)):
        if method == "put":
            body = {k: v for k, v in editor_client.get(detail_url(published)).json().items()}
            body["title"] = "Lost edit"
        response = getattr(editor_client, method)(detail_url(published), body, format="json", HTTP_IF_MATCH=stale)
        assert response.status_code == status.HTTP_412_PRECONDITION_FAILED, method
    published.refresh_from_db()
    assert (published.title, published.version) == ("Someone else's edit", 2)


def test_a_current_if_match_succeeds_and_returns_the_new_etag(editor_client, published):
    current = editor_client.get(detail_url(published))["ETag"]
    response = editor_client.patch(detail_url(published), {"title": "Mine"}, format="json", HTTP_IF_MATCH=current)
    assert response.status_code == status.HTTP_200_OK
    assert response["ETag"].startswith(f'"{published.pk}-2-')


def test_if_match_for_another_record_is_412(editor_client, published):
    other = make_incident()
    response = editor_client.patch(
        detail_url(published), {"title": "x"}, format="json", HTTP_IF_MATCH=f'"{other.pk}-1-abc"'
    )
    assert response.status_code == status.HTTP_412_PRECONDITION_FAILED


def test_if_match_star_and_no_header_write_unconditionally(editor_client, published):
    assert (
        editor_client.patch(detail_url(published), {"title": "a"}, format="json", HTTP_IF_MATCH="*").status_code == 200
    )
    assert editor_client.patch(detail_url(published), {"title": "b"}, format="json").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_writers_with_the_same_if_match_exactly_one_wins(editor_user):
    """Against the real database file (transaction=True): each thread has its own connection."""
    incident = make_incident(published=True, title="Start")
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=editor_user).key
    etag = f'"{incident.pk}-{incident.version}-x"'
    barrier = threading.Barrier(2)
    statuses = []

    def write(title):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        barrier.wait()
        response = client.patch(detail_url(incident), {"title": title}, format="json", HTTP_IF_MATCH=etag)
        statuses.append(response.status_code)
        connection.close()

    threads = [threading.Thread(target=write, args=(title,)) for title in ("First", "Second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 412]
    incident.refresh_from_db()
    assert incident.version == 2 and incident.title in {"First", "Second"}


# --- Cache headers --------------------------------------------------------------------------------


def test_anonymous_gets_may_be_cached_publicly(anon_client, published):
    for url, params in get_kinds(published) + [(reverse("api-root"), {})]:
        response = anon_client.get(url, params)
        assert response["Cache-Control"] == "public, max-age=60", url
        assert response["Vary"] == "Accept, Authorization, Cookie, Origin", url


def test_errors_are_stored_by_no_cache(anon_client, settings):
    """A 400 or a 429 is about this client: a shared cache must not hand it to another."""
    assert anon_client.get("/api/v1/incidents/", {"country": "XX"})["Cache-Control"] == "no-store"
    settings.ANON_THROTTLE_RATE = "2/minute"  # the 400 above counted too
    assert anon_client.get("/api/v1/countries/").status_code == 200
    refused = anon_client.get("/api/v1/countries/")
    assert (refused.status_code, refused["Cache-Control"]) == (429, "no-store")


@pytest.mark.parametrize("client_name", ["reader_client", "editor_client"])
def test_authenticated_gets_are_private(request, client_name, published):
    client = request.getfixturevalue(client_name)
    for url, params in get_kinds(published):
        response = client.get(url, params)
        assert response["Cache-Control"] == "private, no-cache", url
        assert response["Vary"] == "Accept, Authorization, Cookie, Origin", url


def test_no_in_app_compression_weakens_etags(anon_client, published):
    response = anon_client.get(reverse("incident-list"), HTTP_ACCEPT_ENCODING="gzip")
    assert "Content-Encoding" not in response
    assert not response["ETag"].startswith("W/")


# --- The admin does not lose edits ----------------------------------------------------------------


def test_the_admin_refuses_a_stale_save_and_says_what_changed(client, editor_user):
    from tests.test_admin import incident_form

    incident = make_incident(title="Original", summary="First words.")
    client.force_login(editor_user)
    change_url = reverse("admin:incidents_incident_change", args=[incident.pk])
    opened = client.get(change_url).context["adminform"].form["loaded_version"].value()
    services.incident_update(incident=incident, user=None, data={"title": "Changed meanwhile", "status": "draft"})
    form = incident_form(title="My edit", summary="First words.", loaded_version=opened)
    response = client.post(change_url, form)
    assert response.status_code == 200
    page = response.content.decode()
    assert "changed since you opened it" in page and "title" in page
    incident.refresh_from_db()
    assert incident.title == "Changed meanwhile"


def test_the_admin_saves_when_nothing_changed_meanwhile(client, editor_user):
    from tests.test_admin import incident_form

    incident = make_incident(title="Original")
    client.force_login(editor_user)
    change_url = reverse("admin:incidents_incident_change", args=[incident.pk])
    opened = client.get(change_url).context["adminform"].form["loaded_version"].value()
    assert client.post(change_url, incident_form(title="My edit", loaded_version=opened)).status_code == 302
    assert Incident.objects.get(pk=incident.pk).title == "My edit"


def test_source_and_actor_edits_change_the_citing_incident_etag(anon_client, published):
    etag = anon_client.get(detail_url(published))["ETag"]
    services.source_update(source=published.citations.get().source, user=None, data={"title": "New"})
    assert anon_client.get(detail_url(published))["ETag"] != etag
    unrelated = make_source()
    etag = anon_client.get(detail_url(published))["ETag"]
    services.source_update(source=unrelated, user=None, data={"title": "Other"})
    assert anon_client.get(detail_url(published))["ETag"] == etag
    make_actor()
