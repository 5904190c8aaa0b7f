"""Queries written with the ORM, compiled once and then run with new values.

On the hottest reads (an incident's version and stored record by id, the stored records of a page) building
and compiling a query cost more than running it. A prepared query is compiled the first time it runs with a
given number of values, on a given database, with placeholder values standing for them; later runs put the
values in the placeholders' places and run the same SQL, with the ORM's own converters on the rows.
"""

from collections.abc import Callable, Sequence

from django.db import connections, router
from django.db.models import QuerySet

# Values that no query of this project ever compares with, standing for the values of a run.
_PLACEHOLDER = -(2**62)


class Prepared:
    """`Prepared(name, build)`: `build(values)` returns a `values_list` queryset in which each of `values`
    appears once, as a query parameter (a lookup `=` or `__in`). A value compared with text is given to the
    ORM as `str(value)` (`text(value)`): its placeholder then stands as text."""

    _compiled: dict = {}

    def __init__(self, name: str, build: Callable[[list], QuerySet]):
        self.name, self.build = name, build
        self.model = None

    def rows(self, values: Sequence) -> list[tuple]:
        if not values:
            return []
        if self.model is None:
            self.model = self.build([_PLACEHOLDER]).model
        alias = router.db_for_read(self.model)
        connection = connections[alias]
        sql, params, positions, compiler, converters = self._compile(len(values), connection)
        for position, value in zip(positions, values, strict=True):
            params[position] = value
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return list(map(tuple, compiler.apply_converters(rows, converters))) if converters else rows

    def _compile(self, size: int, connection):
        key = (self.name, size, connection.alias, connection.vendor)
        if key not in self._compiled:
            placeholders = [_PLACEHOLDER - index for index in range(size)]
            compiler = self.build(placeholders).query.get_compiler(connection=connection)
            sql, params = compiler.as_sql()
            params = list(params)
            wanted = set(placeholders)
            at = {}  # placeholder → its position among the parameters
            for position, param in enumerate(params):
                placeholder = _as_placeholder(param, wanted)
                if placeholder is not None:
                    at.setdefault(placeholder, []).append(position)
            if sorted(at) != sorted(placeholders) or any(len(found) != 1 for found in at.values()):
                raise ValueError(f"{self.name}: each value must appear once as a parameter of the query")
            positions = [at[placeholder][0] for placeholder in placeholders]
            columns = [column for column, _, _ in compiler.select[: compiler.col_count]]
            self._compiled[key] = (sql, params, positions, compiler, compiler.get_converters(columns))
        sql, params, positions, compiler, converters = self._compiled[key]
        return sql, list(params), positions, compiler, converters


def text(value) -> str:
    """A value of a prepared query compared with text (its placeholder is a number)."""
    return str(value)


def _as_placeholder(param, placeholders: set[int]) -> int | None:
    if isinstance(param, int) and param in placeholders:
        return param
    if isinstance(param, str) and param.lstrip("-").isdigit() and int(param) in placeholders:
        return int(param)
    return None
