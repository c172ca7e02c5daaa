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
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor, wait
from concurrent.futures import TimeoutError as StillRunning
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from django.db import OperationalError, connection, transaction

from dwca_port.postgres.copy import CopyFailed, copy_rows, export_session

# What pg_export_snapshot() returns (e.g. 00000003-0000001B-1); it is spliced into SET
# TRANSACTION SNAPSHOT, which takes no parameters, so it is checked first.
_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")
# How long a helper waits for a table's lock. The export's own connection holds the lock of every
# table it has read; DDL (ALTER, TRUNCATE, a migration) queued on one of them would hold a helper
# back for ever while the export waits for that helper: the helper gives up, the export copies the
# table itself (as pg_dump's workers do, with NOWAIT).
LOCK_TIMEOUT = "2s"
LOCK_NOT_AVAILABLE = "55P03"

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

    def __init__(self, helpers: int, directory: Path, waiting: Callable[[], None] = lambda: None):
        self._helpers = helpers
        self._directory = directory
        self._waiting = waiting  # called every second the export waits for a helper (a job checks if it is cancelled)
        self._futures: dict[str, Future] = {}  # not yet taken
        self._submitted: list[Future] = []
        self._open: dict[int, object] = {}  # thread id -> its raw connection, to cancel its query
        self.delivered: set[int] = set()  # the helper threads that copied a table ahead
        self._lock = threading.Lock()
        self._closing = False
        self._snapshot = ""
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> ParallelCopies:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('transaction_isolation')")
            isolation = cursor.fetchone()[0]
            if not connection.in_atomic_block or isolation not in ("repeatable read", "serializable"):
                raise ValueError(f"helpers share a REPEATABLE READ transaction's snapshot, not a {isolation} one's")
            # the export waits on its helpers while idle in its transaction: a server's idle timeout must not end it
            cursor.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
            cursor.execute("SELECT pg_export_snapshot()")
            self._snapshot = cursor.fetchone()[0]
        if not _SNAPSHOT_ID.fullmatch(self._snapshot):
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
        while True:
            try:
                return future.result(timeout=1)
            except StillRunning:
                self._waiting()

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
                helpers = list(self._open.values())
            for raw in helpers:
                raw.cancel_safe(timeout=2)
            running = wait(running, timeout=0.2).not_done
        self._pool.shutdown(wait=True)
        for future in self._submitted:  # copied ahead but never moved into the zip (the export stopped)
            if not future.cancelled() and future.exception() is None and future.result() is not None:
                future.result().data.close()  # (closing a moved one again does nothing)

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
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                with self._lock:
                    if self._closing:
                        raise CancelledError
                    self._open[threading.get_ident()] = connection.connection
                with export_session():
                    rows = sum(copy_rows(statement, data) for statement in statements)
            data.seek(0)
            with self._lock:
                self.delivered.add(threading.get_ident())
            return Copied(rows, data)
        except CopyFailed as error:
            data.close()
            if error.sqlstate == LOCK_NOT_AVAILABLE:
                return None
            raise
        except BaseException:
            data.close()
            raise
        finally:
            with self._lock:
                self._open.pop(threading.get_ident(), None)
            connection.close()  # this thread's own connection
