"""Database -> tables -> format: a project as a Darwin Core Archive (by profile) or as JSON.

Orchestration only: the tables (dwca_port/tables/) say what the rows are, the formats
(dwca_port/formats/) how they become bytes. Rows stream from database cursors straight into the
output (memory does not grow with the project), every table in a stable order (by UUID). The
file is written next to its destination and moved there only once complete and, for an
archive, once it passed validation.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from dwca_port.camtrap_export import PROFILE as CAMTRAP_DP
from dwca_port.camtrap_export import PackageError, write_package
from dwca_port.eml.additions import MetadataError, read_additions
from dwca_port.findings import Report, Severity, one_line
from dwca_port.formats import TableSummary
from dwca_port.formats.dwca import write_archive
from dwca_port.formats.json import write_json
from dwca_port.postgres import is_postgresql
from dwca_port.postgres.copy import export_session
from dwca_port.progress import SILENT, Progress
from dwca_port.subset import Subset
from dwca_port.tables import FULL, GBIF_PROFILE, tables_for_profile
from dwca_port.tables.context import ExportContext
from dwca_port.validate import validate_archive

FORMATS = ("dwca", "json", CAMTRAP_DP)
DATABASE_ERRORS = (DatabaseError, psycopg.Error)  # Django's, and those of the helpers' own connections
MAX_CONNECTIONS = 16  # database connections one export may hold (pg_dump -j has no cap; a shared server needs one)
# What an output name's extension says of its format (the first, when --format is not given).
EXTENSIONS = {".zip": ("dwca", CAMTRAP_DP), ".json": ("json",)}


class ExportError(Exception):
    """The project cannot be exported as asked; the message says why and what to do."""


@dataclass
class ExportSummary:
    path: Path
    profile: str
    tables: list[TableSummary]
    seconds: float
    warnings: list[str] = field(default_factory=list)
    connections: int = 1  # database connections that read the tables (one snapshot)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def format_for(output: str | os.PathLike, format: str | None) -> tuple[str, str]:
    """The format to write `output` in, and how it was chosen: `format` when given (refused when
    the name's extension says another), else the extension's, else dwca."""
    extension = Path(output).suffix.lower()
    implied = EXTENSIONS.get(extension)
    if format is not None:
        if implied is not None and format not in implied:
            raise ExportError(
                f"{output}: the extension {extension} means --format {' or '.join(implied)}, not --format {format}; "
                f"rename the output or drop --format"
            )
        return format, "as asked"
    if implied is not None:
        return implied[0], f"inferred from the {extension} extension"
    return "dwca", "the default"


def connections_for(asked: int | None) -> int:
    """How many connections an export reads on: `asked`, else the setting DWCA_EXPORT_CONNECTIONS."""
    connections = settings.DWCA_EXPORT_CONNECTIONS if asked is None else asked
    if not 1 <= connections <= MAX_CONNECTIONS:
        where = " (the setting DWCA_EXPORT_CONNECTIONS)" if asked is None else ""
        raise ExportError(f"connections must be between 1 and {MAX_CONNECTIONS}, not {connections}{where}")
    return connections


def export_project(
    project,
    output: str | os.PathLike,
    profile: str = FULL,
    progress: Progress = SILENT,
    validate: bool = True,
    in_sql: bool | None = None,
    format: str = "dwca",
    metadata: str | os.PathLike | None = None,
    subset: Subset | None = None,
    connections: int | None = None,
) -> ExportSummary:
    """Write `project` at `output`: a Darwin Core Archive in `profile`, or (format="json") the
    JSON form. Raises ExportError when the project cannot be exported so, or the archive does
    not pass validation.

    `in_sql` (default: on PostgreSQL) lets the database format the rows of the tables that have
    an SQL form; False writes every row through the Python builders, which give the same bytes.
    `metadata` names the publisher's YAML file of additions to eml.xml (docs/publishing.md).
    `progress` hears a stage per table (rows), then the validation (bytes).

    `subset` narrows the archive to some deployments, dates or a capture set (dwca_port/subset.py).
    `connections` (default: the setting DWCA_EXPORT_CONNECTIONS) is how many database connections
    read the archive's tables on PostgreSQL, all in the export's one snapshot; SQLite reads on one."""
    started = time.monotonic()
    connections = connections_for(connections)
    if format not in FORMATS:
        raise ExportError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    if format == CAMTRAP_DP:
        if subset is not None and not subset.is_whole():
            raise ExportError("a partial export is written as a Darwin Core Archive only; drop --format camtrap-dp")
        return _camtrap_dp(project, output, progress, validate, in_sql, metadata, started)
    output = Path(output)
    if format == "json" and profile != FULL:
        raise ExportError("the JSON form is the full profile only; drop --profile gbif")
    try:
        additions = read_additions(metadata) if metadata is not None else None
    except MetadataError as error:
        raise ExportError(str(error)) from None
    context = ExportContext(project, profile, additions, subset)
    if profile == GBIF_PROFILE and context.licence is None:
        raise ExportError(
            f"project {project.pk} has no licence GBIF accepts (it has {project.license or 'none'!r}): "
            "set Project.license to CC0-1.0, CC-BY-4.0 or CC-BY-NC-4.0 before exporting the gbif profile"
        )
    in_sql = is_postgresql() if in_sql is None else in_sql
    tables = tables_for_profile(profile)
    partial = output.with_name(output.name + ".partial")
    connections_used = 1
    try:
        try:
            with snapshot() as own, export_session():
                if format == "json":
                    summaries = write_json(partial, context, tables, progress)
                else:
                    # more connections share the snapshot only when it is the export's own: a
                    # caller's transaction may hold rows no other connection can see
                    helpers = connections - 1 if own else 0
                    summaries, connections_used = write_archive(partial, context, tables, in_sql, progress, helpers)
        except DATABASE_ERRORS as error:  # a timeout, a lock, a restart...
            raise _stopped(error) from error
        if validate and format == "dwca":
            _validate(partial, profile, progress)
        os.replace(partial, output)
    except BaseException:  # Ctrl-C included: no partial file is left behind
        partial.unlink(missing_ok=True)
        raise
    finally:
        progress.finish()
    return ExportSummary(
        output,
        profile if format == "dwca" else "full (json)",
        summaries,
        time.monotonic() - started,
        connections=connections_used,
    )


@contextlib.contextmanager
def snapshot():
    """Every query of the export in one snapshot of the database, so that an export of a project
    being written (captures, detections, occurrences arriving) describes one instant: a read-only
    REPEATABLE READ transaction on PostgreSQL; on SQLite one read transaction (its first read
    fixes what the rest see). Inside a caller's transaction (a test's), that transaction's rules apply.
    Yields whether the snapshot is the export's own."""
    if connection.in_atomic_block:
        yield False
        return
    with transaction.atomic():
        if is_postgresql():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield True


def _camtrap_dp(project, output, progress, validate, in_sql, metadata, started) -> ExportSummary:
    """A Camtrap DP package (dwca_port/camtrap_export.py): a zip, or a folder when `output` ends with "/"."""
    try:
        additions = read_additions(metadata) if metadata is not None else None
        in_sql = is_postgresql() if in_sql is None else in_sql
        path, tables, warnings = write_package(project, output, progress.say, additions, in_sql, validate)
    except (MetadataError, PackageError) as error:
        raise ExportError(str(error)) from None
    except DATABASE_ERRORS as error:
        raise _stopped(error) from error
    return ExportSummary(path, CAMTRAP_DP, tables, time.monotonic() - started, warnings)


def _stopped(error: Exception) -> ExportError:
    return ExportError(f"the export stopped on a database error: {one_line(error)}")


def _validate(path: Path, profile: str, progress: Progress) -> None:
    report = validate_archive(path, profile=profile, progress=progress)
    if not report.ok:
        raise ExportError(refusal(report))


def refusal(report: Report, shown: int = 20) -> str:
    """Why an exported archive is refused: the findings that fail validation, blocking ones first,
    each with its own severity (a robustness rule fails validation too, but is not GBIF-blocking)."""
    failing = sorted(report.blocking, key=lambda finding: finding.severity is not Severity.BLOCKING)
    counts = Counter(finding.severity for finding in failing)
    summary = ", ".join(
        f"{counts[severity]} {name}"
        for severity, name in ((Severity.BLOCKING, "blocking"), (Severity.LOCAL, "local-rule"))
        if counts[severity]
    )
    listing = "\n".join(f"  {finding}" for finding in failing[:shown])
    more = len(failing) - shown
    return (
        f"the exported archive does not pass validation ({summary} findings; B blocking, L local rule):\n{listing}"
        + (f"\n  ... and {more} more" if more > 0 else "")
    )
