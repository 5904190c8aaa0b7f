"""A client that nobody on this project wrote: `openapi-python-client` generates one from the live schema
(offline), every module of it imports, and it reads and writes a live server the way a researcher's or an
editor's script would."""

import datetime
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests import live

GENERATOR_CONFIG = live.ROOT / "openapi-client.yaml"  # the README's, so the README's command is the one tested


@pytest.fixture(scope="module", params=live.BACKENDS)
def generated(request, tmp_path_factory):
    """A live server on a fresh database, an editor's token, and the client generated from its schema."""
    work = tmp_path_factory.mktemp(f"client-{request.param}")
    with live.fresh_database(request.param, work / "db") as (env, _query, _sound):
        token = live.manage(env, "create_api_user", "scripted", "--role", "editor").stdout.splitlines()[-1]
        with live.gunicorn(env, workers=2) as base:
            status, _, schema = live.call("GET", f"{base}/api/v1/schema/?format=json")
            assert status == 200
            schema_file = work / "schema.json"
            schema_file.write_text(__import__("json").dumps(schema))
            generator = Path(sys.executable).parent / "openapi-python-client"
            generate = [str(generator), "generate", "--path", str(schema_file), "--config", str(GENERATOR_CONFIG)]
            generate += ["--meta", "none", "--output-path", str(work / "tracker_client")]
            result = subprocess.run(generate, capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, result.stdout + result.stderr
            assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
            sys.path.insert(0, str(work))
            try:
                yield base, token, work / "tracker_client"
            finally:
                sys.path.remove(str(work))
                for name in [name for name in sys.modules if name.split(".")[0] == "tracker_client"]:
                    del sys.modules[name]


def test_every_generated_module_imports(generated):
    _, _, package = generated
    modules = sorted(
        ".".join(path.relative_to(package.parent).with_suffix("").parts).removesuffix(".__init__")
        for path in package.rglob("*.py")
    )
    assert len(modules) > 60
    for name in modules:
        importlib.import_module(name)  # raises on any module a generator could not write correctly


def test_the_generated_client_reads_and_writes_like_a_user(generated):
    base, token, _ = generated
    from tracker_client import AuthenticatedClient, Client
    from tracker_client.api.actors import actors_create
    from tracker_client.api.incidents import (
        incidents_create,
        incidents_destroy,
        incidents_list,
        incidents_partial_update,
        incidents_retrieve,
    )
    from tracker_client.models import (
        ActorRequest,
        CitationByUrlRequest,
        IncidentWriteRequest,
        PatchedIncidentWriteRequest,
        WeaponItemRequest,
    )
    from tracker_client.models.category_enum import CategoryEnum
    from tracker_client.models.country_code_enum import CountryCodeEnum
    from tracker_client.models.incident_type_enum import IncidentTypeEnum
    from tracker_client.models.kind_enum import KindEnum
    from tracker_client.models.status_enum import StatusEnum
    from tracker_client.types import Unset

    def as_editor(**headers):
        return AuthenticatedClient(
            base_url=base, token=token, prefix="Token", headers=headers, raise_on_unexpected_status=True
        )

    editor = as_editor()
    public = Client(base_url=base, raise_on_unexpected_status=True)

    actor = actors_create.sync(
        client=editor, body=ActorRequest(name="Scripted Network", kind=KindEnum.CRIMINAL_NETWORK)
    )
    created = []
    for country, day in (("SE", 3), ("FI", 10), ("DK", 20)):
        body = IncidentWriteRequest(
            title=f"Grenades seized in {country}",
            incident_type=IncidentTypeEnum.SEIZURE,
            occurred_on=datetime.date(2023, 5, day),
            country=CountryCodeEnum(country),
            status=StatusEnum.PUBLISHED,
            weapons=[WeaponItemRequest(category=CategoryEnum.GRENADE, quantity=day, description="hand grenades")],
            sources=[CitationByUrlRequest(url=f"https://news.example.org/{country}", publisher="Example News")],
            actors=[actor.id],
            tags=["scripted", "grenades"],
        )
        response = incidents_create.sync_detailed(client=editor, body=body)
        assert response.status_code == 201, response.content
        created.append(response.parsed)
    se, fi, dk = created
    assert (se.weapons_total, se.tags, se.actors[0].name) == (3, ["grenades", "scripted"], "Scripted Network")
    assert se.sources[0].publisher == "Example News"

    page = incidents_list.sync(
        client=public,
        country="SE,FI",
        occurred_after=datetime.date(2023, 5, 1),
        occurred_before=datetime.date(2023, 5, 15),
    )
    assert sorted(record.id for record in page.results) == sorted([se.id, fi.id])
    assert page.count == 2

    projected = incidents_list.sync(client=public, fields="id,title", ordering="id")
    assert [(record.id, record.title) for record in projected.results] == [(i.id, i.title) for i in created]
    assert isinstance(projected.results[0].country_name, Unset)  # a key `fields=` left out

    detail = incidents_retrieve.sync_detailed(id=dk.id, client=public)
    assert detail.status_code == 200
    assert (detail.parsed.country, detail.parsed.weapons[0].quantity) == (CountryCodeEnum.DK, 20)

    stale = incidents_partial_update.sync_detailed(
        id=dk.id,
        client=as_editor(**{"If-Match": f'"{dk.id}-0"'}),
        body=PatchedIncidentWriteRequest(title="Never written"),
    )
    assert stale.status_code == 412
    patched = incidents_partial_update.sync_detailed(
        id=dk.id,
        client=as_editor(**{"If-Match": detail.headers["ETag"]}),
        body=PatchedIncidentWriteRequest(title="Grenades seized in Denmark"),
    )
    assert patched.status_code == 200
    assert (patched.parsed.title, patched.parsed.version) == ("Grenades seized in Denmark", 2)

    assert incidents_destroy.sync_detailed(id=dk.id, client=editor).status_code == 204
    gone = incidents_retrieve.sync_detailed(id=dk.id, client=public)
    assert gone.status_code == 404


def test_the_generated_client_records_a_transfer_and_traces_a_serial(generated):
    """An editor's script records a transfer with its declared range and a seizure with a serial in it; a
    researcher's script traces the serial and the incident (API.md "Tracing")."""
    base, token, _ = generated
    from tracker_client import AuthenticatedClient, Client
    from tracker_client.api.incidents import incidents_create, incidents_trace_retrieve
    from tracker_client.api.transfers import transfers_create, transfers_list
    from tracker_client.api.weapons import weapons_trace_retrieve
    from tracker_client.models import (
        CitationByUrlRequest,
        IncidentWriteRequest,
        SerialRangeRequest,
        TransferWriteRequest,
        WeaponItemRequest,
    )
    from tracker_client.models.category_enum import CategoryEnum
    from tracker_client.models.country_code_enum import CountryCodeEnum
    from tracker_client.models.incident_type_enum import IncidentTypeEnum
    from tracker_client.models.status_enum import StatusEnum

    editor = AuthenticatedClient(base_url=base, token=token, prefix="Token", raise_on_unexpected_status=True)
    public = Client(base_url=base, raise_on_unexpected_status=True)
    source = CitationByUrlRequest(url="https://news.example.org/transfer-2022", publisher="Example News")
    transfer = transfers_create.sync(
        client=editor,
        body=TransferWriteRequest(
            supplier=CountryCodeEnum.FI,
            recipient=CountryCodeEnum.UA,
            year=2022,
            weapon_category=CategoryEnum.ASSAULT_RIFLE,
            serial_ranges=[SerialRangeRequest(prefix="TR", first=100, last=199)],
            lots=["L-7"],
            sources=[source],
        ),
    )
    assert (transfer.supplier, transfer.serial_ranges[0].first, transfer.sources[0].url) == ("FI", 100, source.url)
    assert [t.id for t in transfers_list.sync(client=public, supplier="FI").results] == [transfer.id]

    seizure = incidents_create.sync(
        client=editor,
        body=IncidentWriteRequest(
            title="Rifle with a traced serial",
            incident_type=IncidentTypeEnum.SEIZURE,
            occurred_on=datetime.date(2023, 6, 1),
            country=CountryCodeEnum.SE,
            status=StatusEnum.PUBLISHED,
            weapons=[WeaponItemRequest(category=CategoryEnum.ASSAULT_RIFLE, quantity=1, serials=["tr-0150"])],
            sources=[source],
        ),
    )
    assert seizure.weapons[0].serials == ["tr-0150"]

    by_serial = weapons_trace_retrieve.sync(client=public, serial="TR 0150")
    assert by_serial.serial == "TR0150"
    assert [(c.transfer.id, c.match.value, c.score) for c in by_serial.candidates] == [
        (transfer.id, "serial_in_range", 0.9)
    ]
    assert [r.incident.id for r in by_serial.recovered_in] == [seizure.id]
    trace = incidents_trace_retrieve.sync(id=seizure.id, client=public)
    assert [(c.weapon, c.transfer.id) for c in trace.candidates] == [(0, transfer.id)]
    assert trace.candidates[0].reasons == [
        "serial TR0150 lies in TR0100–TR0199 of the 2022 FI→UA transfer, same category"
    ]
    assert trace.recovered_elsewhere == []
