"""An export read on several PostgreSQL connections sharing one snapshot (dwca_port/postgres/parallel.py).

The helpers' connections must see committed data, so these tests commit (transactional_db) and
run on PostgreSQL only."""

from __future__ import annotations

import contextlib
import io
import threading
import time
import zipfile

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction

from ami.jobs.models import Job
from ami.main.demo import load_demo_project
from ami.main.models import SourceImage
from dwca_port.export import ExportError, export_project
from dwca_port.postgres.parallel import ParallelCopies

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="helper connections are PostgreSQL's")


def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist() if name != "eml.xml"}  # eml: today's date


def _another_connection() -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"], port=settings["PORT"], user=settings["USER"], dbname=settings["NAME"], autocommit=True
    )


@contextlib.contextmanager
def _repeatable_read():
    """A transaction like the export's own: its snapshot is what helpers share."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _copy_of_capture() -> str:
    """INSERT of a copy of one capture (a new id, UUID and path)."""
    columns = [f.column for f in SourceImage._meta.concrete_fields if f.column not in ("id", "uuid", "path")]
    listed = ", ".join(columns)
    return (
        f"INSERT INTO main_sourceimage (uuid, path, {listed}) "
        f"SELECT gen_random_uuid(), 'late.jpg', {listed} FROM main_sourceimage WHERE id = %s"
    )


def _started(ahead: ParallelCopies, name: str) -> None:
    """Wait until a helper holds `name` (else take() would hand it back to the caller)."""
    future = ahead._futures[name]
    deadline = time.monotonic() + 30
    while not (future.running() or future.done()):
        assert time.monotonic() < deadline, "no helper started the table"
        time.sleep(0.01)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_connections_write_the_archive_one_connection_writes(tmp_path):
    project = load_demo_project(stdout=io.StringIO())
    one = export_project(project, tmp_path / "one.zip", connections=1)
    two = export_project(project, tmp_path / "two.zip", connections=2)
    assert (one.connections, two.connections) == (1, 2)
    assert _members(tmp_path / "one.zip") == _members(tmp_path / "two.zip")
    assert [t.rows for t in one.tables] == [t.rows for t in two.tables]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_when_the_server_refuses_more_connections_the_export_reads_on_its_own(tmp_path):
    """A busy server (max_connections reached) refuses the helpers: the export copies every table itself."""
    project = load_demo_project(stdout=io.StringIO())
    one = export_project(project, tmp_path / "one.zip", connections=1)
    settings = connections.settings["default"]
    connections.settings["default"] = {**settings, "PORT": "1"}  # new connections fail; the export's own is open
    try:
        refused = export_project(project, tmp_path / "refused.zip", connections=3)
    finally:
        connections.settings["default"] = settings
    assert (one.connections, refused.connections) == (1, 1)
    assert _members(tmp_path / "one.zip") == _members(tmp_path / "refused.zip")


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_helper_reads_the_exports_snapshot_not_what_was_committed_since(tmp_path):
    project = load_demo_project(stdout=io.StringIO())
    capture = SourceImage.objects.filter(project=project).first()
    count = f"SELECT count(*) FROM main_sourceimage WHERE project_id = {project.pk}"
    with _repeatable_read():
        with ParallelCopies(1, tmp_path) as ahead:
            before = SourceImage.objects.filter(project=project).count()
            with _another_connection() as writer:  # a capture arrives, committed, after the snapshot was taken
                writer.execute(_copy_of_capture(), [capture.pk])
            ahead.submit([("count", [(count, [])])])
            _started(ahead, "count")
            copied = ahead.take("count")
            assert copied.data.read() == f"{before}\n".encode()
    assert SourceImage.objects.filter(project=project).count() == before + 1


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_helper_queued_behind_ddl_leaves_the_table_to_the_export(tmp_path):
    """The export holds the lock of a table it read; DDL queued on that table would hold a helper back
    for ever while the export waits for it. The helper gives up (lock_timeout), the export copies it."""
    project = load_demo_project(stdout=io.StringIO())
    count = f"SELECT count(*) FROM main_sourceimage WHERE project_id = {project.pk}"
    with _repeatable_read():
        with ParallelCopies(1, tmp_path) as ahead:
            SourceImage.objects.filter(project=project).count()  # the export's connection holds the table's lock
            ddl = threading.Thread(target=_exclusive_lock_for_a_while, daemon=True)
            ddl.start()
            _ddl_is_waiting()
            ahead.submit([("count", [(count, [])])])
            _started(ahead, "count")
            started = time.monotonic()
            assert ahead.take("count") is None
            assert time.monotonic() - started < 15
    ddl.join(timeout=30)


def _exclusive_lock_for_a_while() -> None:
    with _another_connection() as other, other.transaction():
        other.execute("SET lock_timeout = '30s'")
        other.execute("LOCK TABLE main_sourceimage IN ACCESS EXCLUSIVE MODE")


def _ddl_is_waiting() -> None:
    deadline = time.monotonic() + 30
    with _another_connection() as watcher:
        while not watcher.execute(
            "SELECT count(*) FROM pg_locks WHERE NOT granted AND mode = 'AccessExclusiveLock'"
        ).fetchone()[0]:
            assert time.monotonic() < deadline, "the DDL never queued"
            time.sleep(0.05)


class Cancelled(Exception):
    pass


def _cancel() -> None:
    raise Cancelled


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_job_cancelled_while_the_export_waits_for_a_helper_stops_at_once(tmp_path):
    """While the export waits for a helper it still calls its listener, which stops a cancelled job."""
    started = time.monotonic()
    with pytest.raises(Cancelled):
        with _repeatable_read():
            with ParallelCopies(1, tmp_path, waiting=_cancel) as ahead:
                ahead.submit([("slow", [("SELECT pg_sleep(120)", [])])])
                _started(ahead, "slow")
                ahead.take("slow")
    assert time.monotonic() - started < 30


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_helpers_refuse_a_transaction_without_a_stable_snapshot(tmp_path):
    with transaction.atomic():  # READ COMMITTED: each statement its own snapshot
        with pytest.raises(ValueError, match="REPEATABLE READ"):
            with ParallelCopies(1, tmp_path):
                pass


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_helpers_error_is_raised_where_its_table_is_taken(tmp_path):
    with _repeatable_read():
        with ParallelCopies(1, tmp_path) as ahead:
            ahead.submit([("broken", [("SELECT 1 / 0", [])])])
            _started(ahead, "broken")
            with pytest.raises(DatabaseError, match="division by zero"):
                ahead.take("broken")
    assert list(tmp_path.iterdir()) == []  # the helpers' files are unnamed


@on_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("format", ["dwca", "camtrap-dp"])
def test_a_database_error_stops_the_export_in_one_line_and_leaves_no_file(tmp_path, format):
    """The server stops a read (here a lock it waits for past lock_timeout): the operator reads one
    line, not a traceback, and no file is left, on the export's connection and its helpers' alike."""
    project = load_demo_project(stdout=io.StringIO())
    output = tmp_path / "locked.zip"
    with _another_connection() as other, other.transaction():
        other.execute("LOCK TABLE main_sourceimage IN ACCESS EXCLUSIVE MODE")
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
        try:
            with pytest.raises(CommandError) as refused:
                call_command(
                    "export_project",
                    "--project",
                    str(project.pk),
                    "--output",
                    str(output),
                    "--format",
                    format,
                    "--quiet",
                )
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
    message = str(refused.value)
    assert message.startswith("the export stopped on a database error: ") and "lock timeout" in message
    assert "\n" not in message
    assert list(tmp_path.iterdir()) == []


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_leaving_early_cancels_the_helpers_queries(tmp_path):
    """Ctrl-C (or any error) in the export: the helpers' COPYs stop at once, their connections close."""
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        with _repeatable_read():
            with ParallelCopies(1, tmp_path) as ahead:
                ahead.submit([("slow", [("SELECT pg_sleep(120)", [])])])
                _started(ahead, "slow")
                time.sleep(0.5)  # the helper is in its COPY
                raise KeyboardInterrupt
    assert time.monotonic() - started < 30
    assert not [t for t in threading.enumerate() if t.name.startswith("export-copy")]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%%pg_sleep(120)%%' AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db
def test_connections_out_of_range_are_refused_in_one_line(tmp_path, settings):
    project = load_demo_project(stdout=io.StringIO())
    for wrong in (0, -1, 17):
        with pytest.raises(ExportError, match=r"connections must be between 1 and 16"):
            export_project(project, tmp_path / "x.zip", connections=wrong)
        assert not (tmp_path / "x.zip").exists()
    settings.DWCA_EXPORT_CONNECTIONS = 0
    with pytest.raises(ExportError, match=r"not 0 \(the setting DWCA_EXPORT_CONNECTIONS\)"):
        export_project(project, tmp_path / "x.zip")
    command = ("export_project", "--project", str(project.pk), "--connections", "0")
    jobs = Job.objects.count()
    with pytest.raises(CommandError, match=r"connections must be between 1 and 16, not 0"):
        call_command(*command, "--output", str(tmp_path / "y.zip"))
    with pytest.raises(CommandError, match=r"connections must be between 1 and 16, not 0"):
        call_command(*command, "--background")  # refused before it is queued
    assert Job.objects.count() == jobs


@pytest.mark.django_db
def test_sqlite_or_a_callers_transaction_reads_on_one_connection(tmp_path):
    """Inside a caller's transaction (here the test's), rows may be uncommitted: only its connection sees them."""
    project = load_demo_project(stdout=io.StringIO())
    summary = export_project(project, tmp_path / "one.zip", connections=4)
    assert summary.connections == 1
