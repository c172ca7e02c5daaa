"""SQL twins of dwca_port.values for the export: the server formats every cell.

`dwca_port.values` is the reference for how a value is written; `cell_sql` is its SQL twin, kind
by kind (the Python formats were chosen to be what PostgreSQL prints for float8, jsonb and
timestamps, so the two agree byte for byte; tests export both ways and compare every file).
An empty string and NULL are both an empty cell in the archive, so every text cell is
NULLIF(..., '') (COPY would quote an empty string).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import EmptyResultSet
from django.db import connection, models

from dwca_port.values import Kind


def local_datetime_sql(expression: str) -> str:
    """values.format_local_datetime: the session's local time (settings.TIME_ZONE), no offset,
    microseconds (all six digits) only when there are some. From the timestamp's own text
    output, which trims trailing zeros of the fraction (cheaper than to_char)."""
    text = f"({expression})::timestamp::text"
    return (
        f"CASE WHEN length({text}) > 19 THEN rpad(replace({text}, ' ', 'T'), 26, '0') "
        f"ELSE replace({text}, ' ', 'T') END"
    )


def antenna_datetime_sql(expression: str) -> str:
    """values.format_local_datetime of a timestamptz: local time, plus the offset when the
    instant is not the one PostgreSQL reads the plain local time as (the earlier reading of a
    wall time the clocks show twice)."""
    return (
        f"({local_datetime_sql(expression)} || CASE WHEN ({expression})::timestamp::timestamptz <> ({expression}) "
        f"THEN to_char({expression}, 'TZH:TZM') ELSE '' END)"
    )


def offset_datetime_sql(expression: str) -> str:
    """values.with_offset: local time with its UTC offset, e.g. 2024-06-01T22:10:00-04:00."""
    return f"({local_datetime_sql(expression)} || to_char({expression}, 'TZH:TZM'))"


def text_sql(expression: str) -> str:
    return f"NULLIF(({expression})::text, '')"


def cell_sql(kind: Kind, expression: str) -> str:
    """SQL giving values.format_value(kind, <the value of expression>); NULL for an empty cell."""
    if kind in (Kind.UUID, Kind.INTEGER):
        return f"({expression})::text"
    if kind is Kind.DECIMAL:
        return f"({expression})::float8::text"  # float8 output: shortest round-trip digits
    if kind is Kind.BOOLEAN:
        return f"CASE WHEN {expression} THEN 'true' WHEN NOT {expression} THEN 'false' END"
    if kind is Kind.DATETIME:
        return antenna_datetime_sql(expression)
    if kind is Kind.DATE:
        return f"to_char({expression}, 'YYYY-MM-DD')"
    if kind is Kind.JSON:
        return f"NULLIF(({expression})::text, 'null')"  # Django reads a JSON null as None
    return text_sql(expression)


def formatted_select(queryset: models.QuerySet, kinds: Sequence[Kind], order: Sequence[int]) -> tuple[str, list]:
    """A SELECT of the `values_list` queryset's columns formatted by `kinds`, ordered by the
    columns at the positions `order` (by their database values, as the Python path orders)."""
    query = queryset.order_by().query
    try:
        sql, params = compiled(queryset)
    except EmptyResultSet:
        return f"SELECT {', '.join('NULL' for _ in kinds)} WHERE false", []
    # The SQL's column order (Django keeps a values_list's own order in query.selected).
    in_sql = (
        list(query.selected)
        if query.selected
        else [*query.extra_select, *query.values_select, *query.annotation_select]
    )
    position = {name: index for index, name in enumerate(in_sql)}
    wanted = [position[name] for name in queryset._fields]
    cells = ", ".join(cell_sql(kind, f"q.c{wanted[i]}") for i, kind in enumerate(kinds))
    names = ", ".join(f"c{index}" for index in range(len(in_sql)))
    ordering = ", ".join(f"q.c{wanted[i]}" for i in order)
    return f"SELECT {cells} FROM ({sql}) AS q({names}) ORDER BY {ordering}", params


def compiled(queryset: models.QuerySet) -> tuple[str, list]:
    """The SQL of a queryset, unordered. Raises EmptyResultSet for one that cannot match a row."""
    sql, params = queryset.order_by().query.get_compiler(connection=connection).as_sql()
    return sql, list(params)
