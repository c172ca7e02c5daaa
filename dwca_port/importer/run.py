"""Archive -> checks -> staging -> identity resolution -> database, in one transaction.

1. The archive is validated first; a blocking finding stops the import before anything is written.
2. The writer prepares (the PostgreSQL writer stages every table with COPY); with
   --on-conflict=error the rows whose UUID exists here are listed and nothing is written.
3. Shared references are resolved (importer/shared.py): users by e-mail, organizations by slug,
   pipelines and algorithms by (name, version), category maps and processing services by UUID,
   taxa through the reconciliation engine. Rows created from the archive keep their UUIDs.
4. Project rows are written model by model in the graph's dependency order, by the PostgreSQL
   writer (importer/staging.py: one INSERT ... SELECT per model) or the portable one
   (importer/portable.py: a batch at a time); then what the graph declares special about a
   model follows (importer/effects.py), then the link tables.
5. Caches are recomputed and compared with the archived values; role groups are created; the
   report says what was created, skipped, updated, dropped and decided.
`dry_run` runs the same path and rolls back.
"""

from __future__ import annotations

import contextlib
import time
import uuid as uuid_module
from pathlib import Path

from django.conf import settings
from django.db import DataError, IntegrityError, OperationalError, connection, transaction

from ami.main.models import Project
from ami.users.roles import create_roles_for_project
from dwca_port import graph
from dwca_port.counts import number
from dwca_port.findings import one_line
from dwca_port.formats import SourceError, TableSource, looks_like_json, open_source
from dwca_port.graph import Scope
from dwca_port.importer import caches, effects, isolation
from dwca_port.importer.portable import PortableWriter, write_links
from dwca_port.importer.report import ImportReport
from dwca_port.importer.shared import resolve_shared
from dwca_port.importer.staging import StagingWriter
from dwca_port.importer.state import CONFLICT_MODES, ImportOptions, ImportRefused, ImportState
from dwca_port.postgres import is_postgresql
from dwca_port.progress import SILENT, Progress
from dwca_port.tables import ANTENNA, FULL, all_tables
from dwca_port.upgrades import archived_version, steps_from, upgraded
from dwca_port.validate import validate_archive
from dwca_port.versions import FORMAT_VERSION, unsupported

BEING_IMPORTED = "the project is being imported by another process, or already exists"


class _Rollback(Exception):
    """Raised at the end of a dry run to undo everything."""


def import_project(path: str | Path, options: ImportOptions | None = None, progress: Progress = SILENT) -> ImportReport:
    """Import the project in the archive (or JSON document) at `path`; `progress` hears the
    validation (bytes), the staging and writing of each model (rows), links and caches."""
    options = options or ImportOptions()
    if options.on_conflict not in CONFLICT_MODES:
        raise ImportRefused(f"--on-conflict must be one of {', '.join(CONFLICT_MODES)}")
    try:
        if options.validate and not looks_like_json(path):  # (the JSON form is checked while it is read)
            _validate_first(path, progress)
        try:
            source = open_source(path)
        except SourceError as error:
            raise ImportRefused(str(error.finding)) from None
        try:
            return run_import(source, options, progress)
        finally:
            source.close()
    finally:
        progress.finish()


def _validate_first(path: str | Path, progress: Progress) -> None:
    report = validate_archive(path, profile=FULL, progress=progress)
    if not report.ok and any(step.darwin_core_rewritten for step in steps_from(_layout_version(path))):
        # The Darwin Core tables of an older layout are views this toolkit no longer writes (the
        # import never reads them): checked as GBIF reads them, not against today's declarations.
        report = validate_archive(path, profile=FULL, tables=[table for table in all_tables() if table.node])
    if not report.ok:
        first = report.blocking[0]
        more = len(report.blocking) - 1
        # A finding about the whole archive names no member: say which file was given.
        prefix = "" if first.file else f"{path}: "
        raise ImportRefused(
            f"{prefix}{first}" + (f" (and {more} more blocking findings; run validate_archive for all)" if more else "")
        )


def _layout_version(path: str | Path) -> int:
    """The layout version the archive's project row states (today's when it has no readable one)."""
    try:
        source = open_source(path)
    except (SourceError, KeyError):  # no readable meta.xml: nothing to excuse
        return FORMAT_VERSION
    try:
        return archived_version(source) or FORMAT_VERSION
    except SourceError:
        return FORMAT_VERSION
    finally:
        source.close()


def run_import(source: TableSource, options: ImportOptions, progress: Progress = SILENT) -> ImportReport:
    state = ImportState(upgraded(source), options, progress)
    _check_format(state)
    staging = options.staging if options.staging is not None else is_postgresql()
    writer = StagingWriter(state) if staging else PortableWriter(state)
    project_uuid = _archived_project_uuid(state)
    try:
        with transaction.atomic(), _archived_timestamps():
            _claim(state, project_uuid)
            _write(state, writer)
            if options.dry_run:
                raise _Rollback
    except _Rollback:
        state.say("dry run: everything rolled back")
    except IntegrityError as error:
        if _created_meanwhile(state, project_uuid):
            raise ImportRefused(f"{state.source.label}: {BEING_IMPORTED}") from None
        raise ImportRefused(f"the database refused a row: {one_line(error)}") from None
    except OperationalError as error:  # SQLite: another writer holds the database
        if "locked" not in str(error):
            raise
        if _created_meanwhile(state, project_uuid):
            raise ImportRefused(f"{state.source.label}: {BEING_IMPORTED}") from None
        raise ImportRefused(f"{state.source.label}: the database is locked by another process; try again") from None
    except DataError as error:
        raise ImportRefused(f"the database refused a row: {one_line(error)}") from None
    state.report.seconds = time.monotonic() - state.started
    return state.report


def _archived_project_uuid(state: ImportState) -> uuid_module.UUID | None:
    table = state.tables[graph.ROOT.label]
    for _, values in state.parsed_rows(table):
        return values[table.identifier_term]
    return None


def _claim(state: ImportState, project_uuid: uuid_module.UUID | None) -> None:
    """On PostgreSQL, one import of a project at a time: the loser of a race stops at once with
    one line, instead of waiting for the winner and then failing on a unique index. (On SQLite
    writers queue on the database lock; the loser's unique violation is told the same way.)"""
    if project_uuid is None or not is_postgresql():
        return
    key = project_uuid.int % (1 << 63)  # advisory lock keys are signed bigints
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key])
        (claimed,) = cursor.fetchone()
    if not claimed:
        raise ImportRefused(f"{state.source.label}: {BEING_IMPORTED}")


def _created_meanwhile(state: ImportState, project_uuid: uuid_module.UUID | None) -> bool:
    """Whether the archive's project, not here when this import began, was since committed by another process."""
    if project_uuid is None or state.project_here is not None:
        return False
    return Project._base_manager.filter(uuid=project_uuid).exists()


def _write(state: ImportState, writer: PortableWriter | StagingWriter) -> None:
    writer.prepare()
    existing = writer.existing()
    isolation.refuse_foreign(state, existing)  # in every conflict mode
    if state.options.on_conflict == "error":
        state.report.conflicts.update({label: sorted(str(u) for _, u in rows) for label, rows in existing.items()})
        _refuse_conflicts(state.report)
    resolve_shared(state)
    writer.begin_writing()
    for node in graph.nodes(Scope.PROJECT):
        state.progress.stage(node.label, writer.row_count(node))
        before = effects.before_rows(state, node)
        writer.write(node)
        effects.after_rows(state, node, before)
    state.progress.stage("links", len(state.links), "tables")
    for table in state.links:
        write_links(state, table)
        state.progress.advance(1)
    create_roles_for_project(state.project)
    state.progress.stage("caches", None, "steps")
    caches.recompute(state)
    for node in graph.NODES:
        if node.verified_caches:
            writer.compare_caches(node)
    writer.close()


def _check_format(state: ImportState) -> None:
    table = state.tables[graph.ROOT.label]
    if not state.source.has(table):
        raise ImportRefused(
            f"{state.source.label}: no Antenna project table (rowType {table.row_type}); "
            "only a full-profile archive can be imported"
        )
    rows = list(state.parsed_rows(table))
    if len(rows) != 1:
        raise state.fail(table, None, None, f"holds {len(rows)} projects; an archive holds exactly one")
    line, values = rows[0]
    version_term, zone_term = ANTENNA + "formatVersion", ANTENNA + "timeZone"
    version = values.get(version_term)
    refusal = "no format version" if version is None else unsupported(version)
    if refusal:
        raise state.fail(table, line, table.index_of(version_term), refusal)
    state.report.format_version = getattr(state.source, "archived_version", version)
    state.report.provenance = {extra.name: values.get(ANTENNA + extra.name) for extra in graph.PROVENANCE_EXTRAS}
    zone = values.get(zone_term)
    if zone and zone != settings.TIME_ZONE:
        raise state.fail(
            table,
            line,
            table.index_of(zone_term),
            f"local times are in {zone}, this instance stores {settings.TIME_ZONE}",
        )


def _refuse_conflicts(report: ImportReport) -> None:
    """Counts in the message; the UUIDs themselves in the report (--report FILE)."""
    conflicts = report.conflicts
    if conflicts:
        total = sum(len(v) for v in conflicts.values())
        listing = ", ".join(f"{label} {number(len(v))}" for label, v in conflicts.items())
        raise ImportRefused(
            f"{number(total)} rows of the archive already exist here (by UUID): {listing}; "
            "use --on-conflict=skip or --on-conflict=update (their UUIDs: --report FILE)",
            report=report,
        )


@contextlib.contextmanager
def _archived_timestamps():
    """Keep the archive's created_at/updated_at: switch off auto_now(_add) while importing."""
    switched = []
    for node in graph.NODES:
        for model_field in node.model._meta.concrete_fields:
            if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
                switched.append((model_field, model_field.auto_now, model_field.auto_now_add))
                model_field.auto_now = model_field.auto_now_add = False
    try:
        yield
    finally:
        for model_field, auto_now, auto_now_add in switched:
            model_field.auto_now, model_field.auto_now_add = auto_now, auto_now_add
