"""The base of every historical model (django-simple-history): the id of the change a row belongs to.

A leaf module, so that the models can use it without importing what groups rows into changes
(`incidents.changesets`), which itself reads the models.
"""

from django.db import models


class HistoricalChangeBase(models.Model):
    """Base of every historical model: the id of the change the row belongs to."""

    change_id = models.UUIDField(null=True, blank=True, db_index=True, editable=False)

    class Meta:
        abstract = True
