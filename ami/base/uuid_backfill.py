"""Fill a nullable UUID column in committed batches of primary-key ranges.

This is the backfill step of the identity migration (AddUUIDField) and what bench/uuid_backfill.py
measures. Each batch is one short transaction (sized to take about 0.25 s at most), so no row lock
is held longer than that and no table lock at all, and an interrupted run resumes: only rows whose
UUID is still NULL are written.

PostgreSQL generates the values in SQL (gen_random_uuid(), built in since PostgreSQL 13); other
databases (SQLite) get uuid4 values from Python.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

MIN_BATCH_SIZE = 100


@dataclass
class BackfillReport:
    table: str
    rows: int = 0
    batches: int = 0
    seconds: float = 0.0
    batch_seconds: list[float] = field(default_factory=list)
    batch_sizes: list[int] = field(default_factory=list)

    @property
    def longest_batch_seconds(self) -> float:
        return max(self.batch_seconds, default=0.0)

    def batch_seconds_percentile(self, percent: float) -> float:
        ordered = sorted(self.batch_seconds)
        return ordered[min(len(ordered) - 1, int(len(ordered) * percent / 100))] if ordered else 0.0


def default_batch_size() -> int:
    return int(getattr(settings, "UUID_BACKFILL_BATCH_SIZE", 10_000))


def default_target_seconds() -> float:
    return float(getattr(settings, "UUID_BACKFILL_BATCH_SECONDS", 0.25))


def backfill_uuids(
    connection,
    table: str,
    column: str = "uuid",
    pk_column: str = "id",
    batch_size: int | None = None,
    progress: Callable[[BackfillReport, int, int], None] | None = None,
    target_seconds: float | None = None,
) -> BackfillReport:
    """Give every row of `table` whose `column` is NULL a fresh UUID.

    Batches are ranges [lo, lo + size - 1] of the (integer) primary key, so none holds more than
    `size` rows; the next range starts at the next existing id, so gaps in the ids cost nothing.
    `size` starts at `batch_size` (settings.UUID_BACKFILL_BATCH_SIZE), which stays its maximum,
    and shrinks when a batch takes longer than `target_seconds` (0.25 s): a table with many
    indexes, or a busy server, writes fewer rows per second, and a batch's row locks must stay
    short whatever the table. On a plain table 10,000 rows take well under the target.

    Rows added after the run started are not visited (on PostgreSQL the migration gives them a
    column default first). The caller's connection must be in autocommit mode on PostgreSQL:
    each batch then commits on its own.
    """
    max_size = batch_size or default_batch_size()
    if max_size < 1:
        raise ValueError("UUID_BACKFILL_BATCH_SIZE must be at least 1")
    target = target_seconds or default_target_seconds()
    size = max_size
    quote = connection.ops.quote_name
    q_table, q_column, q_pk = quote(table), quote(column), quote(pk_column)
    on_postgres = connection.vendor == "postgresql"
    report = BackfillReport(table=table)
    started = time.perf_counter()

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN({q_pk}), MAX({q_pk}) FROM {q_table}")
        lo, last = cursor.fetchone()
    if lo is None:
        return report

    next_start_sql = f"SELECT MIN({q_pk}) FROM {q_table} WHERE {q_pk} > %s"
    while lo is not None and lo <= last:
        hi = min(lo + size - 1, last)
        batch_started = time.perf_counter()
        if on_postgres:
            written = _backfill_range_in_sql(connection, q_table, q_column, q_pk, lo, hi)
        else:
            written = _backfill_range_in_python(connection, q_table, q_column, q_pk, lo, hi)
        elapsed = time.perf_counter() - batch_started
        report.batch_seconds.append(elapsed)
        report.batch_sizes.append(hi - lo + 1)
        report.batches += 1
        size = _next_size(size, elapsed, target, max_size)
        report.rows += written
        if progress:
            progress(report, hi, last)
        with connection.cursor() as cursor:
            # Skip gaps in the ids instead of walking through empty ranges.
            cursor.execute(next_start_sql, [hi])
            lo = cursor.fetchone()[0]
    report.seconds = time.perf_counter() - started
    return report


def _next_size(size: int, elapsed: float, target: float, max_size: int) -> int:
    """Aim each batch at the target duration: shrink in proportion when over it, double when
    well under it, within [MIN_BATCH_SIZE, max_size]."""
    if elapsed > target:
        size = int(size * target / elapsed)
    elif elapsed < target / 2:
        size *= 2
    return max(min(size, max_size), min(MIN_BATCH_SIZE, max_size))


def _backfill_range_in_sql(connection, q_table, q_column, q_pk, lo, hi) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {q_table} SET {q_column} = gen_random_uuid() "
            f"WHERE {q_pk} BETWEEN %s AND %s AND {q_column} IS NULL",
            [lo, hi],
        )
        return cursor.rowcount


def _backfill_range_in_python(connection, q_table, q_column, q_pk, lo, hi) -> int:
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute(f"SELECT {q_pk} FROM {q_table} WHERE {q_pk} BETWEEN %s AND %s AND {q_column} IS NULL", [lo, hi])
        ids = [row[0] for row in cursor.fetchall()]
        # Django stores UUIDField as 32 hex characters where there is no native uuid type.
        native = connection.features.has_native_uuid_field
        cursor.executemany(
            f"UPDATE {q_table} SET {q_column} = %s WHERE {q_pk} = %s",
            [(uuid.uuid4() if native else uuid.uuid4().hex, pk) for pk in ids],
        )
    return len(ids)


class ProgressPrinter:
    """Prints a line at most every `interval` seconds, for tables that take more than a moment."""

    def __init__(self, label: str, interval: float = 10.0, stream=None):
        self.label, self.interval, self.stream = label, interval, stream or sys.stdout
        self.last_print = time.perf_counter()

    def __call__(self, report: BackfillReport, hi: int, last: int) -> None:
        now = time.perf_counter()
        if now - self.last_print >= self.interval:
            self.last_print = now
            self.stream.write(f"    {self.label}: {report.rows:,} rows backfilled, up to id {hi:,} of {last:,}\n")
            self.stream.flush()
