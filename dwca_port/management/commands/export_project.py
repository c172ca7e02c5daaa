"""python manage.py export_project --project 23 --output nunavik.zip [--profile full|gbif]
[--format dwca|json|camtrap-dp] [--metadata FILE]
[--deployments ID,ID] [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--collection ID]
[--background [--user EMAIL]]
--output storage:NAME writes through Django's storage (local folder or S3); --background enqueues
the export as a job on a Celery worker, which always writes to the storage."""

from __future__ import annotations

import uuid

from django.core.management.base import CommandError

from ami.main.models import Project
from dwca_port.counts import number, seconds
from dwca_port.export import FORMATS, ExportError, export_project, format_for
from dwca_port.jobs.background import add_background_argument, export_in_background, export_to_storage
from dwca_port.management.long_command import LongCommand
from dwca_port.storage import storage_name
from dwca_port.subset import Subset, SubsetError


def find_project(reference: str):
    """A project by primary key or UUID, or a clear error."""
    reference = str(reference).strip()
    try:
        if reference.isdigit():
            return Project.objects.get(pk=int(reference))
        return Project.objects.get(uuid=uuid.UUID(reference))
    except (ValueError, Project.DoesNotExist):
        raise CommandError(f"no project with id or UUID {reference!r}") from None


class Command(LongCommand):
    help = "Export a project as a Darwin Core Archive (gbif or full profile) or as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="Project id or UUID.")
        parser.add_argument(
            "--output",
            help="File to write (.zip for dwca, .json for json), or storage:NAME for Django's storage. "
            "Required unless --background (default there: exports/<project>_export-<id>.<ext>).",
        )
        parser.add_argument(
            "--profile",
            choices=["full", "gbif"],
            default="full",
            help="full: everything, to move a project between instances (default); "
            "gbif: only what GBIF and an IPT accept.",
        )
        parser.add_argument(
            "--format",
            choices=FORMATS,
            help="Default: the output's extension says (.zip dwca, .json json), else dwca; camtrap-dp: a Camtrap DP "
            "package (a zip, or a folder when --output ends with /). An extension that says another format is refused.",
        )
        parser.add_argument(
            "--metadata", metavar="FILE", help="YAML file of additions to eml.xml (docs/publishing.md)."
        )
        parser.add_argument(
            "--connections",
            type=int,
            metavar="N",
            help="PostgreSQL: read the tables on N database connections sharing one snapshot, as pg_dump -j "
            "(default: the setting DWCA_EXPORT_CONNECTIONS, 2); SQLite reads on one.",
        )
        self.add_quiet_argument(parser)
        add_background_argument(parser)
        parser.add_argument("--user", metavar="EMAIL", help="With --background: whose DataExport (default: the owner).")
        partial = parser.add_argument_group(
            "partial export", "Only some of the data, with every row it references (combinable; docs/operations.md)."
        )
        partial.add_argument("--deployments", metavar="ID,ID", help="Deployments, by id or UUID, comma-separated.")
        partial.add_argument("--since", metavar="YYYY-MM-DD", help="From this day on (inclusive, local time).")
        partial.add_argument("--until", metavar="YYYY-MM-DD", help="Up to this day (inclusive, local time).")
        partial.add_argument("--collection", metavar="ID", help="The captures of one capture set, by id or UUID.")

    def handle(self, *args, **options):
        project = find_project(options["project"])
        try:
            options["subset"] = subset = Subset.parse(
                project,
                deployments=options["deployments"],
                since=options["since"],
                until=options["until"],
                collection=options["collection"],
            )
        except SubsetError as error:
            raise CommandError(str(error)) from None
        if options["background"]:
            self.stdout.write(export_in_background(project, options))
            return
        if options["output"] is None:
            raise CommandError("--output is required (a file, or storage:NAME)")
        if storage_name(options["output"]) is not None:
            self.stdout.write(export_to_storage(project, options, self.progress(options)))
            return
        try:
            format, chosen = format_for(options["output"], options["format"])
            summary = export_project(
                project,
                options["output"],
                profile=options["profile"],
                progress=self.progress(options),
                format=format,
                metadata=options["metadata"],
                subset=subset,
                connections=options["connections"],
            )
        except ExportError as error:
            raise CommandError(str(error)) from None
        except OSError as error:
            raise CommandError(f"cannot write {options['output']}: {error.strerror or error}") from None
        self.stdout.write(
            f"Exported project {project.pk} ({project.name}) to {summary.path} as {format} ({chosen}) "
            f"[{summary.profile} profile] in {seconds(summary.seconds)}"
            + (f", read on {summary.connections} connections in one snapshot" if summary.connections > 1 else "")
        )
        if not subset.is_whole():
            self.stdout.write(f"  partial: {subset.describe()}")
        for table in summary.tables:
            size = f" {number(table.bytes):>14} bytes" if format != "json" else ""
            self.stdout.write(f"  {table.file:<52} {number(table.rows):>10} rows{size}")
        self.stdout.write(f"  {'total':<52} {number(summary.rows):>10} rows")
        for warning in summary.warnings:
            self.stdout.write(f"  note: {warning}")
