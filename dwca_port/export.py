"""Database -> tables -> format: a project as a Darwin Core Archive (by profile) or as JSON.

Orchestration only: the tables (dwca_port/tables/) say what the rows are, the formats
(dwca_port/formats/) how they become bytes. Rows stream from database cursors straight into the
output (memory does not grow with the project), every table in a stable order (by UUID). The
file is written next to its destination and moved there only once complete and, for an
archive, once it passed validation.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from dwca_port.camtrap_export import PROFILE as CAMTRAP_DP
from dwca_port.camtrap_export import PackageError, write_package
from dwca_port.eml.additions import MetadataError, read_additions
from dwca_port.formats import TableSummary
from dwca_port.formats.dwca import write_archive
from dwca_port.formats.json import write_json
from dwca_port.postgres import is_postgresql
from dwca_port.postgres.copy import export_session
from dwca_port.tables import FULL, GBIF_PROFILE, tables_for_profile
from dwca_port.tables.context import ExportContext
from dwca_port.validate import validate_archive

FORMATS = ("dwca", "json", CAMTRAP_DP)


class ExportError(Exception):
    """The project cannot be exported as asked; the message says why and what to do."""


@dataclass
class ExportSummary:
    path: Path
    profile: str
    tables: list[TableSummary]
    seconds: float
    warnings: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def export_project(
    project,
    output: str | os.PathLike,
    profile: str = FULL,
    progress: TextIO | None = sys.stderr,
    validate: bool = True,
    in_sql: bool | None = None,
    format: str = "dwca",
    metadata: str | os.PathLike | None = None,
) -> ExportSummary:
    """Write `project` at `output`: a Darwin Core Archive in `profile`, or (format="json") the
    JSON form. Raises ExportError when the project cannot be exported so, or the archive does
    not pass validation.

    `in_sql` (default: on PostgreSQL) lets the database format the rows of the tables that have
    an SQL form; False writes every row through the Python builders, which give the same bytes.
    `metadata` names the publisher's YAML file of additions to eml.xml (docs/publishing.md)."""
    started = time.monotonic()
    if format not in FORMATS:
        raise ExportError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    if format == CAMTRAP_DP:
        return _camtrap_dp(project, output, progress, validate, in_sql, metadata, started)
    output = Path(output)
    if format == "json" and profile != FULL:
        raise ExportError("the JSON form is the full profile only; drop --profile gbif")
    try:
        additions = read_additions(metadata) if metadata is not None else None
    except MetadataError as error:
        raise ExportError(str(error)) from None
    context = ExportContext(project, profile, additions)
    if profile == GBIF_PROFILE and context.licence is None:
        raise ExportError(
            f"project {project.pk} has no licence GBIF accepts (it has {project.license or 'none'!r}): "
            "set Project.license to CC0-1.0, CC-BY-4.0 or CC-BY-NC-4.0 before exporting the gbif profile"
        )
    in_sql = is_postgresql() if in_sql is None else in_sql
    tables = tables_for_profile(profile)
    partial = output.with_name(output.name + ".partial")

    def say(message: str) -> None:
        if progress:
            progress.write(f"[{time.monotonic() - started:7.1f}s] {message}\n")
            progress.flush()

    try:
        with export_session():
            if format == "json":
                summaries = write_json(partial, context, tables)
            else:
                summaries = write_archive(partial, context, tables, in_sql, say)
        if validate and format == "dwca":
            _validate(partial, profile, say)
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if format == "json":
        say(f"wrote {output}")
    return ExportSummary(output, profile if format == "dwca" else "full (json)", summaries, time.monotonic() - started)


def _camtrap_dp(project, output, progress, validate, in_sql, metadata, started) -> ExportSummary:
    """A Camtrap DP package (dwca_port/camtrap_export.py): a zip, or a folder when `output` ends with "/"."""

    def say(message: str) -> None:
        if progress:
            progress.write(f"[{time.monotonic() - started:7.1f}s] {message}\n")
            progress.flush()

    try:
        additions = read_additions(metadata) if metadata is not None else None
        in_sql = is_postgresql() if in_sql is None else in_sql
        path, tables, warnings = write_package(project, output, say, additions, in_sql, validate)
    except (MetadataError, PackageError) as error:
        raise ExportError(str(error)) from None
    return ExportSummary(path, CAMTRAP_DP, tables, time.monotonic() - started, warnings)


def _validate(path: Path, profile: str, say) -> None:
    say("validating the archive")
    report = validate_archive(path, profile=profile)
    if not report.ok:
        shown = "\n".join(f"  {finding}" for finding in report.blocking[:20])
        more = len(report.blocking) - 20
        raise ExportError(
            f"the exported archive does not pass validation ({len(report.blocking)} blocking findings):\n{shown}"
            + (f"\n  ... and {more} more" if more > 0 else "")
        )
