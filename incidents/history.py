"""One change = one id: ties the history rows that a single service call writes together.

django-simple-history records each model's rows on its own (an incident and its weapons are saved
separately), and takes its user from the request only. The services open a `recorded_change(user)`
block; every history row written inside it carries the block's `change_id` and user, so the history
endpoint can read an incident and its inlines saved together as one change, whatever the entry point.
"""

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import models
from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record


@dataclass(frozen=True)
class Change:
    change_id: uuid.UUID
    user: object | None


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
    finally:
        _current_change.reset(token)


class HistoricalChangeBase(models.Model):
    """Base of every historical model: the id of the change the row belongs to."""

    change_id = models.UUIDField(null=True, blank=True, db_index=True, editable=False)

    class Meta:
        abstract = True


@receiver(pre_create_historical_record)
def _stamp_change(sender, history_instance, **kwargs):
    change = _current_change.get()
    if change is None:
        return
    history_instance.change_id = change.change_id
    if change.user is not None:
        history_instance.history_user = change.user
