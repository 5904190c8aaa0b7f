"""The admin as editors use it: every save goes through the services."""

import datetime

import pytest
from django.urls import reverse

from incidents.models import Incident
from incidents.services import PUBLISHED_NEEDS_CITATION
from tests.factories import cite, make_incident, make_source

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:incidents_incident_changelist")
ADD = reverse("admin:incidents_incident_add")


@pytest.fixture
def editor_admin(client, editor_user):
    client.force_login(editor_user)
    return client


def inline_management(prefix: str, rows: list[dict], initial: int = 0) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        if prefix == "weapons":  # the select's default, as a browser sends it
            row = {"quantity_precision": "exact", **row}
        data.update({f"{prefix}-{index}-{key}": value for key, value in row.items()})
    return data


def incident_form(*, status="draft", weapons=(), citations=(), actors=(), **fields) -> dict:
    data = {
        "title": "Shed with anti-tank weapons",
        "summary": "Police found weapons in a shed.",
        "incident_type": "seizure",
        "occurred_on": "2022-03-24",
        "date_precision": "day",
        "country": "NL",
        "admin1": "",
        "place": "Alphen aan den Rijn",
        "latitude": "",
        "longitude": "",
        "geo_precision": "",
        "verification": "reported",
        "status": status,
        "tag_slugs": "",
    }
    data.update(fields)
    data.update(inline_management("weapons", list(weapons)))
    data.update(inline_management("citations", list(citations)))
    data.update(inline_management("actor_links", list(actors)))
    return data


def test_changelist_filters_by_status_and_searches_source_publishers(editor_admin):
    make_incident(published=True, title="Published seizure", citations=[cite(make_source(publisher="NOS"))])
    make_incident(title="Draft seizure")
    response = editor_admin.get(CHANGELIST, {"status__exact": "published"})
    assert response.status_code == 200
    assert [incident.title for incident in response.context["cl"].result_list] == ["Published seizure"]
    response = editor_admin.get(CHANGELIST, {"q": "NOS"})
    assert [incident.title for incident in response.context["cl"].result_list] == ["Published seizure"]
    response = editor_admin.get(CHANGELIST, {"weapons__category": "rifle"})
    assert list(response.context["cl"].result_list) == []


def test_add_form_creates_an_incident_with_weapon_and_citation_inlines(editor_admin, editor_user):
    source = make_source(published_on=datetime.date(2022, 3, 25))
    form = incident_form(
        status="published",
        weapons=[{"category": "anti_tank_weapon", "quantity": "4", "description": "", "markings": ""}],
        citations=[{"source": source.pk, "stance": "supports", "credibility": "6", "excerpt": ""}],
        tag_slugs="netherlands, anti-tank",
    )
    response = editor_admin.post(ADD, form)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    incident = Incident.objects.get()
    assert (incident.status, incident.weapons_total, incident.reported_on) == (
        "published",
        4,
        datetime.date(2022, 3, 25),
    )
    assert list(incident.citations.values_list("source_id", flat=True)) == [source.pk]
    assert sorted(incident.tags.values_list("slug", flat=True)) == ["anti-tank", "netherlands"]
    created = incident.history.get()
    assert (created.history_type, created.history_user) == ("+", editor_user)
    assert incident.weapons.get().history.get().change_id == created.change_id


def test_publishing_without_a_citation_is_refused_with_a_message_in_the_form(editor_admin):
    response = editor_admin.post(ADD, incident_form(status="published"))
    assert response.status_code == 200
    assert PUBLISHED_NEEDS_CITATION in response.content.decode()
    assert not Incident.objects.exists()


def test_removing_the_last_citation_of_a_published_incident_is_refused(editor_admin):
    incident = make_incident(published=True)
    citation = incident.citations.get()
    form = incident_form(status="published", title=incident.title)
    form.update(
        inline_management(
            "citations",
            [
                {
                    "id": citation.pk,
                    "incident": incident.pk,
                    "source": citation.source_id,
                    "stance": "supports",
                    "credibility": "6",
                    "excerpt": "",
                    "DELETE": "on",
                }
            ],
            initial=1,
        )
    )
    response = editor_admin.post(reverse("admin:incidents_incident_change", args=[incident.pk]), form)
    assert response.status_code == 200
    assert PUBLISHED_NEEDS_CITATION in response.content.decode()
    assert incident.citations.count() == 1


def test_change_form_saves_through_the_services(editor_admin, editor_user):
    incident = make_incident(title="Before")
    response = editor_admin.post(
        reverse("admin:incidents_incident_change", args=[incident.pk]),
        incident_form(title="After", latitude="52.1", longitude="4.6"),
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.title, incident.version, incident.geocode_provider, incident.geo_precision) == (
        "After",
        2,
        "manual",
        "exact",
    )
    assert incident.history.first().history_user == editor_user


def test_change_form_refuses_coordinates_out_of_range(editor_admin):
    incident = make_incident(title="Before")
    response = editor_admin.post(
        reverse("admin:incidents_incident_change", args=[incident.pk]),
        incident_form(title="After", latitude="95", longitude="4.6"),
    )
    assert response.status_code == 200
    assert "latitude" in response.context["adminform"].form.errors
    incident.refresh_from_db()
    assert incident.title == "Before"


@pytest.mark.parametrize(("action", "status"), [("publish_selected", "published"), ("archive_selected", "archived")])
def test_publish_and_archive_actions_record_history_with_the_editor(editor_admin, editor_user, action, status):
    incident = make_incident(citations=[cite(make_source())])
    response = editor_admin.post(CHANGELIST, {"action": action, "_selected_action": [incident.pk]})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.status, incident.version) == (status, 2)
    latest = incident.history.first()
    assert (latest.status, latest.history_user) == (status, editor_user)


def test_publish_action_refuses_incidents_without_citations_and_says_why(editor_admin):
    incident = make_incident()
    response = editor_admin.post(
        CHANGELIST, {"action": "publish_selected", "_selected_action": [incident.pk]}, follow=True
    )
    assert PUBLISHED_NEEDS_CITATION in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == "draft"


def test_delete_goes_through_the_services_and_keeps_history(editor_admin, editor_user):
    incident = make_incident()
    response = editor_admin.post(reverse("admin:incidents_incident_delete", args=[incident.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Incident.objects.exists()
    assert Incident.history.filter(history_type="-").get().history_user == editor_user


def test_source_admin_edit_raises_the_version_of_citing_incidents(editor_admin):
    source = make_source(publisher="Yle", published_on=datetime.date(2022, 10, 30))
    incident = make_incident(citations=[cite(source)])
    response = editor_admin.post(
        reverse("admin:incidents_source_change", args=[source.pk]),
        {
            "url": source.url,
            "title": "Corrected title",
            "publisher": "Yle News",
            "published_on": "2022-10-30",
            "source_type": "news",
            "language": "en",
            "archived_url": "",
            "archived_at_0": "",
            "archived_at_1": "",
            "reliability": "B",
        },
    )
    assert response.status_code == 302
    source.refresh_from_db()
    incident.refresh_from_db()
    assert (source.publisher, source.reliability, incident.version) == ("Yle News", "B", 2)


def test_source_admin_searches_url_publisher_and_title(editor_admin):
    make_source(publisher="Ilta-Sanomat", url="https://www.is.fi/kotimaa/art-2000009173862.html")
    make_source(publisher="NOS")
    response = editor_admin.get(reverse("admin:incidents_source_changelist"), {"q": "is.fi"})
    assert [source.publisher for source in response.context["cl"].result_list] == ["Ilta-Sanomat"]


def test_readers_cannot_use_the_admin(client, reader_user):
    client.force_login(reader_user)
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_staff_without_the_editor_role_is_refused(client, django_user_model):
    staff = django_user_model.objects.create_user("staff", password="x-password-1", is_staff=True)
    client.force_login(staff)
    assert client.get(CHANGELIST).status_code == 403


def test_history_screen_shows_changes_but_cannot_revert(editor_admin):
    incident = make_incident()
    history_url = reverse("admin:incidents_incident_history", args=[incident.pk])
    assert editor_admin.get(history_url).status_code == 200
    version_id = incident.history.get().history_id
    revert_url = reverse("admin:incidents_incident_simple_history", args=[incident.pk, version_id])
    assert editor_admin.post(revert_url, {"title": "Reverted"}).status_code == 405


def test_add_and_change_forms_render_with_their_inlines(editor_admin):
    incident = make_incident(weapons=[{"category": "grenade", "quantity": 2}], tags=["hand-grenades"])
    add_page = editor_admin.get(ADD)
    change_page = editor_admin.get(reverse("admin:incidents_incident_change", args=[incident.pk]))
    assert add_page.status_code == change_page.status_code == 200
    for prefix in ("weapons", "citations", "actor_links"):
        assert f'name="{prefix}-TOTAL_FORMS"' in change_page.content.decode()
    assert change_page.context["adminform"].form["tag_slugs"].value() == "hand-grenades"


# --- One write path: what the API does, the admin does -----------------------------------------------


def test_a_place_saved_without_coordinates_is_geocoded_as_through_the_api(editor_admin):
    response = editor_admin.post(ADD, incident_form(country="SE", place="Malmö"))
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert (incident.geocode_provider, incident.geo_precision, incident.geocode_query) == (
        "gazetteer",
        "locality",
        "Malmö",
    )
    assert (round(float(incident.latitude), 2), round(float(incident.longitude), 2)) == (55.61, 13.0)


def test_a_changed_place_is_geocoded_again_and_typed_coordinates_are_kept(editor_admin):
    response = editor_admin.post(ADD, incident_form(country="SE", place="Malmö"))
    incident = Incident.objects.get()
    change = reverse("admin:incidents_incident_change", args=[incident.pk])
    form = incident_form(country="SE", place="Göteborg", loaded_version=incident.version)
    form.update(latitude=str(incident.latitude), longitude=str(incident.longitude), geo_precision="locality")
    response = editor_admin.post(change, form)
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.geocode_query, round(float(incident.latitude), 1)) == ("Göteborg", 57.7)
    form = incident_form(country="SE", place="Lund", latitude="55.7", longitude="13.2", geo_precision="exact")
    form["loaded_version"] = incident.version
    assert editor_admin.post(change, form).status_code == 302
    incident.refresh_from_db()
    assert (incident.geocode_provider, float(incident.latitude), incident.place) == ("manual", 55.7, "Lund")


@pytest.mark.parametrize("typed", ["Hand Grenades, åäö", "grenades, Ä", "a b"])
def test_a_tag_that_is_not_a_slug_is_a_form_error_not_a_server_error(editor_admin, typed):
    response = editor_admin.post(ADD, incident_form(tag_slugs=typed))
    assert response.status_code == 200
    assert "tag_slugs" in response.context["adminform"].form.errors
    assert not Incident.objects.exists()


def test_an_edit_racing_another_in_the_service_is_refused_on_the_form(editor_admin, editor_user, monkeypatch):
    """The version check passes in the form, then another editor saves first: the service refuses (no 500)."""
    from incidents import services

    incident = make_incident(title="Opened")
    real_update = services.incident_update

    def update_after_a_rival(**kwargs):
        real_update(incident=Incident.objects.get(pk=incident.pk), user=editor_user, data={"title": "Rival"})
        return real_update(**kwargs)

    monkeypatch.setattr(services, "incident_update", update_after_a_rival)
    change = reverse("admin:incidents_incident_change", args=[incident.pk])
    response = editor_admin.post(change, incident_form(title="Mine", loaded_version="1"))
    assert response.status_code == 200
    assert "changed since you opened it" in response.content.decode()
    incident.refresh_from_db()
    assert (incident.title, incident.version) == ("Rival", 2)


def test_renaming_a_tag_in_the_admin_moves_versions_etags_history_and_sync(editor_admin, anon_client):
    from django.utils import timezone

    tagged = make_incident(published=True, tags=["grenade"])
    before = anon_client.get(reverse("incident-detail", args=[tagged.pk]))
    stats_before = anon_client.get(reverse("stats"), {"group_by": "country"})
    since = timezone.now().isoformat()
    tag = tagged.tags.get()
    response = editor_admin.post(reverse("admin:incidents_tag_change", args=[tag.pk]), {"slug": "hand-grenade"})
    assert response.status_code == 302
    tagged.refresh_from_db()
    assert tagged.version == 2
    after = anon_client.get(reverse("incident-detail", args=[tagged.pk]), HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after.json()["tags"] == ["hand-grenade"]
    stale = anon_client.get(reverse("stats"), {"group_by": "country"}, HTTP_IF_NONE_MATCH=stats_before["ETag"])
    assert stale.status_code == 200
    synced = anon_client.get(reverse("incident-list"), {"updated_since": since})
    assert [record["id"] for record in synced.json()["results"]] == [tagged.pk]
    assert tag.history.first().slug == "hand-grenade"
    assert tagged.history.first().version == 2


def test_a_tag_in_use_cannot_be_deleted_from_the_admin(editor_admin):
    tag = make_incident(tags=["in-use"]).tags.get()
    response = editor_admin.post(reverse("admin:incidents_tag_delete", args=[tag.pk]), {"post": "yes"})
    assert response.status_code == 200
    assert "protected" in response.content.decode().lower()
    assert tag.__class__.objects.filter(pk=tag.pk).exists()


def test_a_source_the_services_refuse_is_shown_on_the_form(editor_admin):
    taken = make_source(url="https://news.example.org/taken")
    other = make_source()
    response = editor_admin.post(
        reverse("admin:incidents_source_change", args=[other.pk]),
        {
            "url": taken.url,
            "title": "",
            "publisher": "Example",
            "published_on": "",
            "source_type": "news",
            "language": "en",
            "archived_url": "",
            "archived_at_0": "",
            "archived_at_1": "",
            "reliability": "F",
        },
    )
    assert response.status_code == 200
    assert "url" in response.context["adminform"].form.errors
    other.refresh_from_db()
    assert other.url != taken.url
