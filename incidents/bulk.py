"""Bulk inserts for the import: rows and their history rows written with `executemany`.

Django's `bulk_create` (and simple-history's `bulk_create_with_history`, which builds a model instance per
history row) spend most of an import in the SQL compiler: about 60 µs a row here, 70 % of a 100k-row import.
This writes the same rows with the fields' own value preparation (`pre_save`, `get_db_prep_save`), so the
values stored are exactly what `save()` would store, at a few µs a row. Primary keys are reserved from the
table's own sequence first (the related rows and the history rows need them), so ids are never reused.
Callers validate first: nothing here checks a rule. SQLite and PostgreSQL only.
"""

from collections.abc import Sequence

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.utils import timezone


def refresh_planner_statistics() -> None:
    """After a bulk load, give the query planner statistics of the new data. SQLite keeps none unless
    asked (without them it chose row-by-row plans for bbox and radius filters at 100k incidents);
    PostgreSQL's autovacuum would analyze later on its own."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def insert(model: type[models.Model], objects: Sequence, *, history: dict | None = None) -> None:
    """Insert unsaved `objects` of `model`, setting their primary keys. With `history` (the history row's
    extra values: `history_user_id`, `change_id`), also write one "created" history row for each.

    An object may also be a `Row` of attribute values (cheaper to build than a model instance, for the
    link tables); fields it does not name take their defaults."""
    if not objects:
        return
    connection = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: the `connection` proxy costs a lookup a value
    meta = model._meta
    for obj, pk in zip(objects, _reserve_ids(connection, model, len(objects)), strict=True):
        setattr(obj, meta.pk.attname, pk)
        if isinstance(obj, models.Model):
            obj._state.adding = False
            obj._state.db = connection.alias
    fields = meta.concrete_fields
    if isinstance(objects[0], Row):
        for obj in objects:
            obj.fill(fields)
    prepare = [_preparer(field, connection) for field in fields]
    _insert_rows(
        connection,
        meta.db_table,
        fields,
        ([p(field.pre_save(obj, True)) for field, p in zip(fields, prepare, strict=True)] for obj in objects),
    )
    if history is not None:
        _insert_history(connection, model, objects, history)


def _insert_history(connection, model, objects, extra: dict) -> None:
    historical = model.history.model
    values = {"history_date": timezone.now(), "history_type": "+", "history_change_reason": None, **extra}
    fields = [field for field in historical._meta.concrete_fields if not field.primary_key]
    for field in fields:
        if field.attname not in values and not hasattr(objects[0], field.attname):
            raise ValueError(f"No value for {historical.__name__}.{field.attname}")
    fixed = {
        field.attname: field.get_db_prep_save(values[field.attname], connection)
        for field in fields
        if field.attname in values
    }
    copied = [(field.attname, _preparer(field, connection)) for field in fields if field.attname not in values]
    order = [field.attname for field in fields]
    rows = []
    for obj in objects:
        row = {**fixed, **{name: prepare(getattr(obj, name)) for name, prepare in copied}}
        rows.append([row[name] for name in order])
    _insert_rows(connection, historical._meta.db_table, fields, rows)


class Row:
    """Attribute values of a row to insert without building a model instance (`Row(incident_id=1, tag_id=2)`)."""

    def __init__(self, **values):
        self.__dict__.update(values)

    def fill(self, fields) -> None:
        for field in fields:
            if field.attname not in self.__dict__ and not field.primary_key:
                self.__dict__[field.attname] = field.get_default()


_PASSED_AS_THEY_ARE = (str, int, bool, type(None))


def _preparer(field, connection):
    """The field's own preparation of a value for the database, skipped for the plain values (text, whole
    numbers, None) that every field but a UUID, decimal or JSON one stores as they are."""
    if isinstance(field, models.UUIDField | models.DecimalField | models.JSONField):
        return lambda value: field.get_db_prep_save(value, connection)

    def prepare(value):
        return value if type(value) in _PASSED_AS_THEY_ARE else field.get_db_prep_save(value, connection)

    return prepare


def _insert_rows(connection, table: str, fields, rows) -> None:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {quote(table)} ({columns}) VALUES ({placeholders})", list(rows))


def _reserve_ids(connection, model, count: int) -> list[int]:
    table, pk = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, pk, count]
            )
            return [row[0] for row in cursor.fetchall()]
        if connection.vendor != "sqlite":
            raise NotImplementedError(connection.vendor)
        # The write transaction (BEGIN IMMEDIATE) holds the lock: nobody else takes ids meanwhile. Above the
        # AUTOINCREMENT counter, so ids of deleted rows are never given again.
        cursor.execute(
            f"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0), "
            f"coalesce((SELECT max({connection.ops.quote_name(pk)}) FROM {connection.ops.quote_name(table)}), 0))",
            [table],
        )
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + count))
