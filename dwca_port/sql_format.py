"""The export's PostgreSQL fast path: the server formats every cell and COPY streams the rows.

`dwca_port.values` is the reference for how a value is written; `cell_sql` is its SQL twin, kind
by kind (the Python formats were chosen to be what PostgreSQL prints for float8, jsonb and
timestamps, so the two agree byte for byte; tests export both ways and compare every file).

`copy_rows` runs `COPY (SELECT ...) TO STDOUT` in PostgreSQL's CSV format with a TAB delimiter,
which quotes exactly the values the full dialect quotes (those holding TAB, CR, LF or a quote,
inner quotes doubled) and writes NULL as an empty unquoted cell. An empty string would be
quoted, so every text cell is NULLIF(..., ''): in the archive both are an empty cell.
"""
from __future__ import annotations

import contextlib
import select
from collections.abc import Callable, Sequence
from typing import BinaryIO

import psycopg
from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, connection, models
from psycopg import pq

from dwca_port.extensions.base import Kind

# Rows reach the zip member in blocks of about this many bytes (one write per row is slow).
BLOCK = 1 << 20


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


@contextlib.contextmanager
def export_session():
    """Session settings for the export's big read-only queries, restored afterwards: no JIT (it
    compiles for a second or more when the planner expects millions of rows, more than it saves
    on formatting), and room to sort the views in memory."""
    if not is_postgresql():
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off; SET work_mem = '64MB'")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET jit; RESET work_mem")
        except DatabaseError:
            pass  # an aborted transaction: its rollback undoes the SETs, and its error is the one to see


def local_datetime_sql(expression: str) -> str:
    """values.format_local_datetime: the session's local time (settings.TIME_ZONE), no offset,
    microseconds (all six digits) only when there are some. From the timestamp's own text
    output, which trims trailing zeros of the fraction (cheaper than to_char)."""
    text = f"({expression})::timestamp::text"
    return (f"CASE WHEN length({text}) > 19 THEN rpad(replace({text}, ' ', 'T'), 26, '0') "
            f"ELSE replace({text}, ' ', 'T') END")


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
        return local_datetime_sql(expression)
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
    in_sql = list(query.selected) if query.selected else [*query.extra_select, *query.values_select, *query.annotation_select]
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


def copy_rows(statement: tuple[str, list], stream: BinaryIO, progress: Callable[[int], None] | None = None,
              every: int = 100_000) -> int:
    """Stream the rows of `statement` into `stream` as tab-separated CSV; returns the row count.
    `progress(rows)` is called every `every` rows (libpq hands over one row per message).

    Straight through libpq (psycopg's Copy object costs a few microseconds per row in Python,
    which competes for the CPU with the server and with zlib)."""
    sql, params = statement
    copy_sql = f"COPY ({sql}) TO STDOUT (FORMAT csv, DELIMITER E'\\t', QUOTE '\"', NULL '')"
    connection.ensure_connection()
    raw = connection.connection
    query = psycopg.ClientCursor(raw).mogrify(copy_sql, params)  # (params: always a list, so %% means %)
    pgconn = raw.pgconn
    pgconn.send_query(query.encode(raw.info.encoding))
    result = pgconn.get_result()
    if result.status != pq.ExecStatus.COPY_OUT:
        _finish(pgconn)
        raise DatabaseError(result.error_message.decode(errors="replace").strip())
    block = bytearray()
    rows = 0
    while True:
        # Non-blocking reads, waiting in select: a blocking read would hold the GIL while the
        # server works, and stall the export's other threads (compression, a second COPY).
        size, data = pgconn.get_copy_data(1)
        if size == 0:
            select.select([pgconn.socket], [], [])
            pgconn.consume_input()
            continue
        if size < 0:
            break
        block += data
        rows += 1
        if len(block) >= BLOCK:
            stream.write(block)
            block.clear()
        if progress and rows % every == 0:
            progress(rows)
    stream.write(block)
    result = pgconn.get_result()
    _finish(pgconn)
    if result.status != pq.ExecStatus.COMMAND_OK:
        raise DatabaseError(result.error_message.decode(errors="replace").strip())
    return int(result.command_status.split()[-1])


def _finish(pgconn) -> None:
    while pgconn.get_result() is not None:  # leave the connection idle
        pass


def fetch_rows(statement: tuple[str, list], size: int = 2000):
    """The rows of `statement` through a server-side cursor (for writers that transform cells)."""
    sql, params = statement
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(size):
            yield from rows
