"""PostgreSQL DDL that stays out of the way of a live application.

- Statements that need an ACCESS EXCLUSIVE lock (ADD COLUMN, SET DEFAULT, ADD/DROP CONSTRAINT,
  SET NOT NULL) are metadata-only here and take milliseconds, but while one *waits* for its lock
  (behind a long transaction) every query queued after it waits too. They run with a short
  lock_timeout and are retried, so the application never stalls for more than that timeout.
- Unique indexes are built CONCURRENTLY (reads and writes continue). An interrupted concurrent
  build leaves an INVALID index behind, which `IF NOT EXISTS` would silently keep; it is
  dropped and rebuilt.
"""

from __future__ import annotations

import time

from django.db import OperationalError

# Long enough to outlast deadlock_timeout (1 s by default), after which PostgreSQL cancels an
# autovacuum that blocks us; short enough that queries queued behind a waiting ALTER stall ~1 s.
LOCK_TIMEOUT = "1500ms"
LOCK_ATTEMPTS = 10
LOCK_NOT_AVAILABLE = "55P03"


def execute_with_short_lock(schema_editor, sql: str, params=None) -> None:
    """Run one DDL statement with a short lock_timeout, retrying while the lock is busy."""
    for attempt in range(1, LOCK_ATTEMPTS + 1):
        schema_editor.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
        try:
            schema_editor.execute(sql, params)
            return
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE or attempt == LOCK_ATTEMPTS:
                raise
            time.sleep(min(2**attempt * 0.1, 5))
        finally:
            schema_editor.execute("RESET lock_timeout")


def index_state(connection, name: str) -> str:
    """'missing', 'valid' or 'invalid' (left by an interrupted CREATE INDEX CONCURRENTLY)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s AND pg_catalog.pg_table_is_visible(c.oid)",
            [name],
        )
        row = cursor.fetchone()
    if row is None:
        return "missing"
    return "valid" if row[0] else "invalid"


def constraint_exists(connection, table: str, name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
            "WHERE t.relname = %s AND c.conname = %s AND pg_catalog.pg_table_is_visible(t.oid)",
            [table, name],
        )
        return cursor.fetchone() is not None


def create_unique_index_concurrently(schema_editor, name: str, create_sql: str) -> None:
    """Build a unique index without blocking writes. `create_sql` is the full statement, written
    as "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS <name> ...". A leftover invalid index of
    the same name is dropped first; if the build itself fails (e.g. on duplicate values), the
    invalid index it leaves is dropped too, so a re-run starts clean."""
    quoted = schema_editor.quote_name(name)
    if index_state(schema_editor.connection, name) == "invalid":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quoted}")
    try:
        schema_editor.execute(create_sql)
    except Exception:
        if index_state(schema_editor.connection, name) == "invalid":
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quoted}")
        raise


def attach_unique_index(schema_editor, table: str, name: str) -> None:
    """Turn a unique index into a UNIQUE constraint of the same name (metadata only), which is
    what Django itself creates for unique=True fields and field-only UniqueConstraints."""
    if not constraint_exists(schema_editor.connection, table, name):
        quoted = schema_editor.quote_name(name)
        execute_with_short_lock(
            schema_editor,
            f"ALTER TABLE {schema_editor.quote_name(table)} ADD CONSTRAINT {quoted} UNIQUE USING INDEX {quoted}",
        )
