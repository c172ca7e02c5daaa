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
import sys
import time
from pathlib import Path
from typing import TextIO

from django.conf import settings
from django.db import IntegrityError, transaction

from ami.users.roles import create_roles_for_project
from dwca_port import graph
from dwca_port.formats import SourceError, TableSource, looks_like_json, open_source
from dwca_port.graph import Scope
from dwca_port.importer import caches, effects
from dwca_port.importer.portable import PortableWriter, write_links
from dwca_port.importer.report import ImportReport
from dwca_port.importer.shared import resolve_shared
from dwca_port.importer.staging import StagingWriter
from dwca_port.importer.state import CONFLICT_MODES, ImportOptions, ImportRefused, ImportState
from dwca_port.postgres import is_postgresql
from dwca_port.progress import SILENT, Progress
from dwca_port.tables import ANTENNA, FULL, all_tables
from dwca_port.validate import validate_archive
from dwca_port.versions import FORMAT_VERSION


class _Rollback(Exception):
    """Raised at the end of a dry run to undo everything."""


def import_project(
    path: str | Path, options: ImportOptions | None = None, progress: TextIO | Progress | None = sys.stderr
) -> ImportReport:
    """Import the project in the archive (or JSON document) at `path`. `progress` is a text stream
    for timed lines, or a Progress told the stages (validate, stage, shared, write, links, caches)."""
    options = options or ImportOptions()
    if options.on_conflict not in CONFLICT_MODES:
        raise ImportRefused(f"--on-conflict must be one of {', '.join(CONFLICT_MODES)}")
    if options.validate and not looks_like_json(path):  # (the JSON form is checked while it is read)
        listener = progress if isinstance(progress, Progress) else SILENT
        listener.stage("validate", total=1, unit="archives")
        _validate_first(path)
        listener.advance(1)
    try:
        source = open_source(path)
    except SourceError as error:
        raise ImportRefused(str(error.finding)) from None
    try:
        return run_import(source, options, progress)
    finally:
        source.close()


def _validate_first(path: str | Path) -> None:
    report = validate_archive(path, profile=FULL)
    if not report.ok and _older_layout(path):
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


def _older_layout(path: str | Path) -> bool:
    """Whether the archive's project row says it was written in an older layout than this toolkit's."""
    table = next(table for table in all_tables() if table.node == graph.ROOT.label and not table.link)
    try:
        source = open_source(path)
    except (SourceError, KeyError):  # no readable meta.xml: nothing to excuse
        return False
    try:
        if not source.has(table):
            return False
        index = table.index_of(ANTENNA + "formatVersion")
        version = next((values[index] for _, values in source.rows(table)), None)
        return bool(version and version.isdigit() and int(version) < FORMAT_VERSION)
    except SourceError:
        return False
    finally:
        source.close()


def run_import(
    source: TableSource, options: ImportOptions, progress: TextIO | Progress | None = sys.stderr
) -> ImportReport:
    state = ImportState(source, options, progress)
    _check_format(state)
    staging = options.staging if options.staging is not None else is_postgresql()
    writer = StagingWriter(state) if staging else PortableWriter(state)
    try:
        with transaction.atomic(), _archived_timestamps():
            _write(state, writer)
            if options.dry_run:
                raise _Rollback
    except _Rollback:
        state.say("dry run: everything rolled back")
    except IntegrityError as error:
        raise ImportRefused(f"the database refused a row: {error}") from None
    state.report.seconds = time.monotonic() - state.started
    return state.report


def _write(state: ImportState, writer: PortableWriter | StagingWriter) -> None:
    listener = state.listener
    listener.stage("stage", total=1, unit="archives")
    writer.prepare()
    listener.advance(1)
    if state.options.on_conflict == "error":
        state.report.conflicts.update(writer.conflicts())
        _refuse_conflicts(state.report.conflicts)
    listener.stage("shared", total=1, unit="steps")
    resolve_shared(state)
    listener.advance(1)
    writer.begin_writing()
    nodes = list(graph.nodes(Scope.PROJECT))
    listener.stage("write", total=len(nodes), unit="models")
    for node in nodes:
        writer.write(node)
        effects.after_rows(state, node)
        listener.advance(1)
    listener.stage("links", total=len(state.links), unit="tables")
    for table in state.links:
        write_links(state, table)
        listener.advance(1)
    listener.stage("caches", total=1, unit="steps")
    create_roles_for_project(state.project)
    state.say("recomputing cached values")
    caches.recompute(state)
    for node in graph.NODES:
        if node.verified_caches:
            writer.compare_caches(node)
    writer.close()
    listener.advance(1)


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
    if version is None or version > FORMAT_VERSION:
        raise state.fail(
            table,
            line,
            table.index_of(version_term),
            f"format version {version} is newer than this toolkit reads ({FORMAT_VERSION}); upgrade it",
        )
    zone = values.get(zone_term)
    if zone and zone != settings.TIME_ZONE:
        raise state.fail(
            table,
            line,
            table.index_of(zone_term),
            f"local times are in {zone}, this instance stores {settings.TIME_ZONE}",
        )


def _refuse_conflicts(conflicts: dict[str, list[str]]) -> None:
    if conflicts:
        total = sum(len(v) for v in conflicts.values())
        listing = "; ".join(
            f"{label}: {len(v)} ({', '.join(v[:3])}{', ...' if len(v) > 3 else ''})" for label, v in conflicts.items()
        )
        raise ImportRefused(
            f"{total} rows of the archive already exist here (by UUID): {listing}. "
            "Nothing was written; use --on-conflict=skip or --on-conflict=update."
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
