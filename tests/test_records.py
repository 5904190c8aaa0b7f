"""Records built once: the codec is the one definition of a record, the services store every record they
touch in the write's own transaction, and reads serve the stored bytes (`incidents/records.py`)."""

import datetime
import io

import orjson
import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse

from incidents import records, rollups, services
from incidents.api.serializers import IncidentSerializer
from incidents.importing import import_records
from incidents.models import IncidentRecord
from incidents.shapes import EDITOR, PUBLIC, RECORD_FIELDS
from tests.factories import cite, make_actor, make_incident, make_source

pytestmark = pytest.mark.django_db


def stored(incident, audience=PUBLIC) -> dict:
    row = IncidentRecord.objects.get(incident=incident)
    column = row.editor_json if audience == EDITOR and row.editor_json is not None else row.public_json
    return orjson.loads(bytes(column))


def test_the_schema_describes_the_record_the_codec_builds(anon_client):
    """One definition: the OpenAPI document's Incident has exactly the codec's keys, in its order."""
    assert tuple(IncidentSerializer.Meta.fields) == RECORD_FIELDS
    schema = anon_client.get(reverse("schema"), {"format": "json"}).json()
    assert tuple(schema["components"]["schemas"]["Incident"]["properties"]) == RECORD_FIELDS
    incident = make_incident(published=True)
    assert tuple(stored(incident)) == RECORD_FIELDS


def test_the_audiences_differ_only_in_the_names_of_individuals():
    person, group = make_actor(name="Jane Doe", kind="individual"), make_actor(name="Gang")
    named = make_incident(published=True, actors=[group, person])
    unnamed = make_incident(published=True, actors=[group])
    public, editor = stored(named, PUBLIC), stored(named, EDITOR)
    assert [actor["name"] for actor in public["actors"]] == ["Gang", None]
    assert [actor["name"] for actor in editor["actors"]] == ["Gang", "Jane Doe"]
    assert {key: value for key, value in public.items() if key != "actors"} == {
        key: value for key, value in editor.items() if key != "actors"
    }
    assert IncidentRecord.objects.get(incident=unnamed).editor_json is None  # the same bytes are not kept twice


@pytest.mark.no_records_audit
def test_reads_serve_the_stored_bytes(anon_client):
    incident = make_incident(published=True, title="As written")
    row = IncidentRecord.objects.get(incident=incident)
    row.public_json = bytes(row.public_json).replace(b"As written", b"As stored")
    row.save()
    assert anon_client.get(reverse("incident-detail", args=[incident.pk])).json()["title"] == "As stored"
    assert anon_client.get(reverse("incident-list")).json()["results"][0]["title"] == "As stored"


@pytest.mark.no_records_audit
@pytest.mark.parametrize("staleness", ["missing", "older version", "older codec"])
def test_a_record_missing_or_stale_is_built_on_the_fly_and_never_written(anon_client, staleness):
    incident = make_incident(published=True, title="Current")
    row = IncidentRecord.objects.get(incident=incident)
    if staleness == "missing":
        row.delete()
    else:
        row.public_json = bytes(row.public_json).replace(b"Current", b"Stale")
        row.version -= staleness == "older version"
        row.codec -= staleness == "older codec"
        row.save()
    assert anon_client.get(reverse("incident-detail", args=[incident.pk])).json()["title"] == "Current"
    listed = anon_client.get(reverse("incident-list")).json()
    if staleness == "missing":  # counts sum the stored records: a missing one counts once it is stored again
        assert (listed["count"], listed["results"]) == (0, [])
    else:
        assert (listed["count"], listed["results"][0]["title"]) == (1, "Current")
    assert len(records.audit()) == 1  # still not stored: a read never writes
    call_command("rebuild_records", "--stale", verbosity=0)
    listed = anon_client.get(reverse("incident-list")).json()
    assert (listed["count"], listed["results"][0]["title"]) == (1, "Current")
    assert records.audit() == [] and rollups.audit() == []


def test_every_write_path_leaves_current_records(editor_client, editor_user):
    """The autouse audit holds this after every test; here each path is taken once, on purpose."""
    source, actor = make_source(), make_actor(name="Old name")
    kept = make_incident(published=True, citations=[cite(source)], actors=[actor], tags=["old-tag"])
    other = make_incident(published=True, title="Duplicate", citations=[cite(make_source())])
    editor_client.patch(reverse("incident-detail", args=[kept.pk]), {"title": "Edited"}, format="json")
    services.source_update(source=source, user=editor_user, data={"title": "Edited source"})
    services.actor_update(actor=actor, user=editor_user, data={"name": "New name"})
    services.tag_update(tag=kept.tags.get(), user=editor_user, data={"slug": "new-tag"})
    services.incident_merge(kept=kept, duplicates=[other], user=editor_user)
    import_records(
        [(1, {"title": "Imported", "incident_type": "claim", "occurred_on": "2023-01-01", "country": "SE"})],
        user=editor_user,
    )
    assert records.audit() == []
    record = stored(kept)
    assert (record["title"], record["actors"][0]["name"], record["tags"]) == ("Edited", "New name", ["new-tag"])
    assert {source["title"] for source in record["sources"]} >= {"Edited source"}


def test_a_source_cited_by_500_incidents_updates_all_500_records_in_the_same_transaction(editor_user):
    source = make_source(title="Before")
    rows = [
        (
            number,
            {
                "title": f"Incident {number}",
                "incident_type": "seizure",
                "occurred_on": "2022-10-30",
                "country": "FI",
                "sources": [{"url": source.url, "publisher": source.publisher}],
            },
        )
        for number in range(1, 501)
    ]
    report = import_records(rows, user=editor_user)
    assert report.created == 500
    citing = list(source.citations.values_list("incident_id", flat=True))
    assert len(citing) == 500

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        services.source_update(source=source, user=editor_user, data={"title": "After"})
        inside = {
            row.incident_id: orjson.loads(bytes(row.public_json))
            for row in IncidentRecord.objects.filter(incident__in=citing)
        }
        assert len(inside) == 500
        assert {record["sources"][0]["title"] for record in inside.values()} == {"After"}
        assert {record["version"] for record in inside.values()} == {2}
        raise Undo  # roll the write back: its records go with it, as one transaction
    after_undo = {
        orjson.loads(bytes(row.public_json))["sources"][0]["title"]
        for row in IncidentRecord.objects.filter(incident__in=citing)
    }
    assert after_undo == {"Before"}
    services.source_update(source=source, user=editor_user, data={"title": "After"})
    assert records.audit(citing) == []


def test_deleting_an_incident_deletes_its_records(editor_user):
    incident = make_incident()
    services.incident_delete(incident=incident, user=editor_user)
    assert not IncidentRecord.objects.exists()


def test_audit_records_and_rebuild_records_commands():
    incident = make_incident(published=True, occurred_on=datetime.date(2021, 5, 1))
    out = io.StringIO()
    call_command("audit_records", stdout=out)
    assert out.getvalue().strip() == "0 differences."
    IncidentRecord.objects.filter(incident=incident).update(public_csv=b"tampered\r\n")
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 difference"):
        call_command("audit_records", stdout=out)
    assert out.getvalue().strip() == f"incident {incident.pk}: stored public_csv differs from a fresh build"
    IncidentRecord.objects.filter(incident=incident).update(version=9, public_json=b"{}")
    assert records.audit() == [
        f"incident {incident.pk}: stored version, public_json, public_csv differ from a fresh build"
    ]
    call_command("rebuild_records", stdout=io.StringIO(), stderr=io.StringIO())
    assert records.audit() == []
    # The tampered record no longer said what the incident had contributed to the rollups: rebuild them.
    assert rollups.audit() != []
    call_command("rebuild_rollups", stdout=io.StringIO(), stderr=io.StringIO())
    assert rollups.audit() == []


def test_rebuild_records_stale_rebuilds_only_missing_old_and_other_codec_records():
    current, old, missing, other_codec = (make_incident() for _ in range(4))
    IncidentRecord.objects.filter(incident=old).update(version=old.version - 1)
    IncidentRecord.objects.filter(incident=missing).delete()
    IncidentRecord.objects.filter(incident=other_codec).update(codec=records.CODEC + 1)
    IncidentRecord.objects.filter(incident=current).update(public_csv=b"left alone\r\n")
    assert records.stale_ids() == sorted([old.pk, missing.pk, other_codec.pk])
    out = io.StringIO()
    call_command("rebuild_records", "--stale", stdout=out, stderr=io.StringIO())
    assert out.getvalue().strip() == "3 records stored."
    assert records.stale_ids() == []
    assert records.audit() == [f"incident {current.pk}: stored public_csv differs from a fresh build"]
    records.store([current.pk])  # leave the database as the suite's audit expects it
