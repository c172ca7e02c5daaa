"""Database -> Camtrap DP package (orchestration, as export.py is for the archive): the tables of
dwca_port/tables/camtrap/ through formats/camtrap_dp/, then the package's offline check, then
the file or folder moved into place. What a package cannot hold (tables/camtrap/common.py) is
counted and reported as warnings."""

from __future__ import annotations

import datetime
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from dwca_port.dataset import dataset_metadata
from dwca_port.eml.additions import MetadataAdditions
from dwca_port.formats import TableSummary
from dwca_port.formats.camtrap_dp.descriptor import package_descriptor
from dwca_port.formats.camtrap_dp.validate import validate_package
from dwca_port.formats.camtrap_dp.writer import PackageTarget, write_descriptor, write_tables
from dwca_port.postgres.copy import export_session
from dwca_port.tables import FULL
from dwca_port.tables.camtrap import TABLES
from dwca_port.tables.camtrap.common import packaged_media
from dwca_port.tables.context import ExportContext

PROFILE = "camtrap-dp"


class PackageError(Exception):
    """The project cannot be written as a Camtrap DP package; the message says why."""


def left_out(context: ExportContext) -> list[str]:
    """What the project has that the package cannot hold, one line per reason."""
    captures = context.captures()
    placeable = captures.filter(timestamp__isnull=False).exclude(path="")
    reasons = {
        "captures without a timestamp": captures.filter(timestamp__isnull=True).count(),
        "captures without a file path": captures.filter(path="").count(),
        # a difference of two counts: NOT IN (the packaged media) was quadratic on PostgreSQL past
        # work_mem (over 8 minutes at 1,000,000 captures)
        "captures of a deployment without coordinates (or of none)": placeable.count()
        - packaged_media(context).count(),
    }
    return [f"{count:,} {reason} left out of the package" for reason, count in reasons.items() if count]


def write_package(
    project,
    output: str | os.PathLike,
    say: Callable[[str], None],
    additions: MetadataAdditions | None = None,
    in_sql: bool = False,
    validate: bool = True,
) -> tuple[Path, list[TableSummary], list[str]]:
    """Write the package at `output`: a folder when it ends with "/" (or is one), else a zip."""
    folder = str(output).endswith(("/", os.sep)) or Path(output).is_dir()
    output = Path(output)
    if folder and output.exists() and any(output.iterdir()):
        raise PackageError(f"{output} is a folder that is not empty; name a new or empty one")
    context = ExportContext(project, FULL, additions)
    if context.licence is None:
        raise PackageError(
            f"project {project.pk} has no licence GBIF accepts (it has {project.license or 'none'!r}): Camtrap DP "
            "needs one for the data and the media; set Project.license to CC0-1.0, CC-BY-4.0 or CC-BY-NC-4.0"
        )
    if not packaged_media(context).exists():
        raise PackageError(
            f"project {project.pk} has no capture with a timestamp, a file path and a deployment with coordinates: "
            "a Camtrap DP package needs at least one"
        )
    warnings = left_out(context)
    for warning in warnings:
        say(warning)
    partial = output.with_name(output.name + ".partial")
    _remove(partial)
    target = PackageTarget(partial, folder)
    try:
        with export_session():
            try:
                summaries = write_tables(target, context, TABLES, in_sql, say)
                metadata = dataset_metadata(context)
                created = datetime.datetime.now(datetime.UTC)
                write_descriptor(target, package_descriptor(context, metadata, TABLES, created))
            finally:
                target.close()
        if validate:
            say("validating the package")
            report = validate_package(partial)
            if not report.ok:
                shown = "\n".join(f"  {finding}" for finding in report.blocking[:20])
                raise PackageError(
                    f"the exported package does not pass validation ({len(report.blocking)} findings):\n{shown}"
                )
        if folder and output.exists():
            output.rmdir()  # (checked empty above)
        os.replace(partial, output)
    except BaseException:
        _remove(partial)
        raise
    return output, summaries, warnings


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
