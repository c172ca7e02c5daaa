"""COPY out of PostgreSQL straight into an archive member, and the export's session settings.

`copy_rows` runs `COPY (SELECT ...) TO STDOUT` in PostgreSQL's CSV format with a TAB delimiter,
which quotes exactly the values the full dialect quotes (those holding TAB, CR, LF or a quote,
inner quotes doubled) and writes NULL as an empty unquoted cell.
"""

from __future__ import annotations

import contextlib
import select
from collections.abc import Callable
from typing import BinaryIO

import psycopg
from django.db import DatabaseError, connection
from psycopg import pq

from dwca_port.postgres import is_postgresql

# Rows reach the zip member in blocks of about this many bytes (one write per row is slow).
BLOCK = 1 << 20


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


class CopyFailed(DatabaseError):
    """The server refused or stopped a COPY; `sqlstate` says why (e.g. 55P03: a lock not available)."""

    def __init__(self, result):
        super().__init__(result.error_message.decode(errors="replace").strip())
        sqlstate = result.error_field(pq.DiagnosticField.SQLSTATE)
        self.sqlstate = sqlstate.decode() if sqlstate else ""


def copy_rows(
    statement: tuple[str, list],
    stream: BinaryIO,
    progress: Callable[[int], None] | None = None,
    every: int = 100_000,
    delimiter: str = "\t",
) -> int:
    """Stream the rows of `statement` into `stream` as CSV separated by `delimiter` (TAB: the
    archive's; a comma: Camtrap DP's); returns the row count.
    `progress(rows)` is called every `every` rows (libpq hands over one row per message).

    Straight through libpq (psycopg's Copy object costs a few microseconds per row in Python,
    which competes for the CPU with the server and with zlib)."""
    sql, params = statement
    separator = {"\t": "E'\\t'", ",": "','"}[delimiter]
    copy_sql = f"COPY ({sql}) TO STDOUT (FORMAT csv, DELIMITER {separator}, QUOTE '\"', NULL '')"
    connection.ensure_connection()
    raw = connection.connection
    query = psycopg.ClientCursor(raw).mogrify(copy_sql, params)  # (params: always a list, so %% means %)
    pgconn = raw.pgconn
    pgconn.send_query(query.encode(raw.info.encoding))
    result = _result(pgconn)
    if result.status != pq.ExecStatus.COPY_OUT:
        _finish(pgconn)
        raise CopyFailed(result)
    block = bytearray()
    rows = 0
    while True:
        # Non-blocking reads, waiting in select: a blocking read would hold the GIL while the
        # server works, and stall the export's other threads (compression, the other connections).
        size, data = pgconn.get_copy_data(1)
        if size == 0:
            _wait_readable(pgconn)
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
    result = _result(pgconn)
    _finish(pgconn)
    if result.status != pq.ExecStatus.COMMAND_OK:
        raise CopyFailed(result)
    return int(result.command_status.split()[-1])


def _result(pgconn):
    """The next result, waited for in select: libpq's own wait holds the GIL, and the server may
    sort for minutes before the first row of a big table."""
    while pgconn.is_busy():
        _wait_readable(pgconn)
        pgconn.consume_input()
    return pgconn.get_result()


def _wait_readable(pgconn) -> None:
    """Until the server has sent something: poll, since select refuses descriptors past 1024
    (a worker holding many files or connections)."""
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN)
    poller.poll()


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
