"""ami.base.uuid_backfill on a scratch table: batches, gaps in the ids, resuming."""

import uuid

import pytest
from django.db import connection

from ami.base.uuid_backfill import _next_size, backfill_uuids

TABLE = "identity_backfill_scratch"


@pytest.fixture
def scratch_table(transactional_db):
    column_type = "uuid" if connection.vendor == "postgresql" else "char(32)"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {TABLE} (id bigint PRIMARY KEY, uuid {column_type} NULL)")
        # ids 1-10, then a gap, then 1001-1005: 15 rows
        for pk in [*range(1, 11), *range(1001, 1006)]:
            cursor.execute(f"INSERT INTO {TABLE} (id) VALUES (%s)", [pk])
    yield TABLE
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {TABLE}")


def uuids():
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, uuid FROM {TABLE} ORDER BY id")
        return dict(cursor.fetchall())


def test_batches_cover_every_row_and_skip_gaps(scratch_table):
    report = backfill_uuids(connection, scratch_table, batch_size=4)
    values = uuids()
    assert report.rows == 15 and None not in values.values() and len(set(values.values())) == 15
    # 1-4, 5-8, 9-10 (range ends at 12, id 11-12 absent), then 1001-1004, 1005: the gap costs no batches
    assert report.batches == 5
    assert len(report.batch_seconds) == 5 and report.longest_batch_seconds >= 0
    assert all(uuid.UUID(str(value)).version == 4 for value in values.values())


def test_resuming_only_fills_rows_still_null(scratch_table):
    kept = uuid.uuid4()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET uuid = %s WHERE id = 3", [kept if connection.vendor == "postgresql" else kept.hex]
        )
    report = backfill_uuids(connection, scratch_table, batch_size=100)
    assert report.rows == 14
    assert uuid.UUID(str(uuids()[3])) == kept
    assert backfill_uuids(connection, scratch_table, batch_size=100).rows == 0  # nothing left


def test_batch_size_comes_from_settings(scratch_table, settings):
    settings.UUID_BACKFILL_BATCH_SIZE = 5
    assert backfill_uuids(connection, scratch_table).batches == 3  # 1-5, 6-10, 1001-1005


def test_batches_shrink_when_slow_and_grow_back_to_the_setting():
    assert _next_size(10_000, elapsed=1.0, target=0.25, max_size=10_000) == 2_500
    assert _next_size(2_500, elapsed=0.05, target=0.25, max_size=10_000) == 5_000
    assert _next_size(5_000, elapsed=0.05, target=0.25, max_size=10_000) == 10_000  # never above the setting
    assert _next_size(150, elapsed=60, target=0.25, max_size=10_000) == 100  # never below 100 rows
    assert _next_size(3, elapsed=60, target=0.25, max_size=3) == 3
