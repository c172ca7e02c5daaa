"""More connections on one snapshot: tables copied ahead while the export writes others (as
`pg_dump -j` does).

The export's own transaction exports its snapshot (`pg_export_snapshot()`); each helper thread
opens a connection of its own, adopts that snapshot (`SET TRANSACTION SNAPSHOT`) and COPYs whole
tables into unnamed temporary files beside the output. The export then writes the members in
their fixed order: a table no helper has started yet it copies itself (the helpers take tables
from the end of the order, the export from its start), one a helper holds it waits for and moves
into the zip. Every byte therefore comes from the one instant the export began, however many
connections read it, and the archive is byte for byte the one a single connection writes.

The server does the formatting, so this gains as many cores as the database server can give; the
price is disk beside the output for the tables copied ahead, uncompressed, until they are zipped.
"""

from __future__ import annotations

import re
import tempfile
import threading
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.db import OperationalError, connection, transaction

from dwca_port.postgres.copy import copy_rows, export_session

# What pg_export_snapshot() returns (e.g. 00000003-0000001B-1); it is spliced into SET
# TRANSACTION SNAPSHOT, which takes no parameters, so it is checked first.
_SNAPSHOT_ID = re.compile(r"^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$")

Statement = tuple[str, list]


@dataclass
class Copied:
    """A table copied ahead: its rows as the member's bytes (no header), in a temporary file."""

    rows: int
    data: BinaryIO


class ParallelCopies:
    """Helpers copying tables ahead on `helpers` more connections, in the caller's snapshot.

    Use inside the export's REPEATABLE READ transaction, as a context manager: `submit` every
    table that may be copied ahead, then `take` each in the export's order. Leaving the context
    (normally, on an error or on Ctrl-C) cancels the helpers' queries, waits for their threads
    and drops their files."""

    def __init__(self, helpers: int, directory: Path):
        self._helpers = helpers
        self._directory = directory
        self._futures: dict[str, Future] = {}  # not yet taken
        self._submitted: list[Future] = []
        self._open: dict[int, object] = {}  # thread id -> its raw connection, to cancel its query
        self.connected: set[int] = set()  # the helper threads the server gave a connection
        self._lock = threading.Lock()
        self._closing = False
        self._snapshot = ""
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> ParallelCopies:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            self._snapshot = cursor.fetchone()[0]
        if not _SNAPSHOT_ID.match(self._snapshot):
            raise ValueError(f"unexpected snapshot id {self._snapshot!r}")
        self._pool = ThreadPoolExecutor(self._helpers, thread_name_prefix="export-copy")
        return self

    def submit(self, tables: list[tuple[str, list[Statement]]]) -> None:
        """Queue `(name, statements)` tables; the helpers start from the last."""
        for name, statements in reversed(tables):
            self._futures[name] = self._pool.submit(self._copy, statements)
            self._submitted.append(self._futures[name])

    def take(self, name: str) -> Copied | None:
        """The table copied ahead, or None when no helper copied it (it is then the caller's to write)."""
        future = self._futures.pop(name, None)
        if future is None or future.cancel():
            return None
        return future.result()

    def __exit__(self, *exc) -> None:
        with self._lock:
            self._closing = True
        for future in self._futures.values():
            future.cancel()
        # The server stops a helper's COPY on a cancel request; one sent while the helper was between
        # two statements does nothing, so it is sent again until every helper has stopped.
        running = set(self._submitted)
        while running:
            with self._lock:
                for raw in self._open.values():
                    raw.cancel_safe()
            running = wait(running, timeout=0.2).not_done
        self._pool.shutdown(wait=True)
        for future in self._futures.values():  # copied ahead but never taken (the export stopped)
            if not future.cancelled() and future.exception() is None and future.result() is not None:
                future.result().data.close()

    # -- in a helper thread ----------------------------------------------------------------------

    def _copy(self, statements: list[Statement]) -> Copied | None:
        try:
            connection.ensure_connection()
        except OperationalError:  # a busy server (max_connections): the export copies the table itself
            return None
        data = tempfile.TemporaryFile(dir=self._directory)  # unnamed: gone with the process, whatever happens
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute(f"SET TRANSACTION SNAPSHOT '{self._snapshot}'")
                with self._lock:
                    if self._closing:
                        raise CancelledError
                    self._open[threading.get_ident()] = connection.connection
                    self.connected.add(threading.get_ident())
                with export_session():
                    rows = sum(copy_rows(statement, data) for statement in statements)
            data.seek(0)
            return Copied(rows, data)
        except BaseException:
            data.close()
            raise
        finally:
            with self._lock:
                self._open.pop(threading.get_ident(), None)
            connection.close()  # this thread's own connection
