"""One change = one service call: what it wrote is tied together, and what depends on it follows in the
same transaction.

django-simple-history records each model's rows on its own (an incident and its weapons are saved
separately), and takes its user from the request only. The services open a `recorded_change(user)`
block; every history row written inside it carries the block's `change_id` and user, so the history
endpoint can read an incident and its inlines saved together as one change, whatever the entry point.
When the block ends (still inside the write's transaction), the records of every incident it touched are
built and stored (`incidents.records`) and the data version moves: data, records and version commit
together or not at all.
"""

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db.models import F
from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record

from incidents import records
from incidents.models import DataVersion
from incidents.prepared import Prepared


@dataclass
class Change:
    change_id: uuid.UUID
    user: object | None
    wrote: bool = False
    touched: set = field(default_factory=set)  # ids of incidents whose record this change may have altered


_current_change: contextvars.ContextVar[Change | None] = contextvars.ContextVar("current_change", default=None)


@contextmanager
def recorded_change(user) -> Iterator[Change]:
    """Group every history row written inside the block under one change id, made by `user`.

    A nested block joins the outer one, so a service that calls another records one change.
    """
    outer = _current_change.get()
    if outer is not None:
        yield outer
        return
    change = Change(change_id=uuid.uuid4(), user=user if getattr(user, "is_authenticated", False) else None)
    token = _current_change.set(change)
    try:
        yield change
        if change.touched:
            records.store(change.touched)
        if change.wrote:
            bump_data_version()  # inside the service's transaction: the data and its version commit together
    finally:
        _current_change.reset(token)


def touch(incident_id: int) -> None:
    """Note that the current change altered what this incident's record shows."""
    change = _current_change.get()
    if change is None:
        raise RuntimeError("incidents are written inside a recorded_change block (the services' own)")
    change.touched.add(incident_id)


def bump_data_version() -> None:
    """Record that the data changed (cached aggregates keyed by the old version stop being used)."""
    if not DataVersion.objects.filter(pk=1).update(version=F("version") + 1):
        DataVersion.objects.get_or_create(pk=1, defaults={"version": 1})


DATA_VERSION = Prepared("data version", lambda ids: DataVersion.objects.filter(pk=ids[0]).values_list("version"))


def current_data_version() -> int:
    """The data's version (read on every collection request: its ETag), by a query compiled once."""
    rows = DATA_VERSION.rows([1])
    return rows[0][0] if rows else 0


@receiver(pre_create_historical_record)
def _stamp_change(sender, history_instance, **kwargs):
    change = _current_change.get()
    if change is None:
        return
    history_instance.change_id = change.change_id
    change.wrote = True
    if change.user is not None:
        history_instance.history_user = change.user
