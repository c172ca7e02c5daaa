"""python manage.py export_project --project 23 --output nunavik.zip [--profile full|gbif] [--format dwca|json]
[--metadata FILE] [--deployments ID,ID] [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--collection ID]"""

from __future__ import annotations

import uuid

from django.core.management.base import BaseCommand, CommandError

from ami.main.models import Project
from dwca_port.export import ExportError, export_project
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


class Command(BaseCommand):
    help = "Export a project as a Darwin Core Archive (gbif or full profile) or as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="Project id or UUID.")
        parser.add_argument("--output", required=True, help="File to write (.zip for dwca, .json for json).")
        parser.add_argument(
            "--profile",
            choices=["full", "gbif"],
            default="full",
            help="full: everything, to move a project between instances (default); "
            "gbif: only what GBIF and an IPT accept.",
        )
        parser.add_argument("--format", choices=["dwca", "json"], default="dwca", help="Default dwca.")
        parser.add_argument(
            "--metadata", metavar="FILE", help="YAML file of additions to eml.xml (docs/publishing.md)."
        )
        parser.add_argument("--quiet", action="store_true", help="No progress on stderr.")
        partial = parser.add_argument_group(
            "partial export", "Only some of the data, with every row it references (combinable; docs/operations.md)."
        )
        partial.add_argument("--deployments", metavar="ID,ID", help="Deployments, by id or UUID, comma-separated.")
        partial.add_argument("--since", metavar="YYYY-MM-DD", help="From this day on (inclusive, local time).")
        partial.add_argument("--until", metavar="YYYY-MM-DD", help="Up to this day (inclusive, local time).")
        partial.add_argument("--collection", metavar="ID", help="The captures of one capture set, by id or UUID.")

    def handle(self, *args, **options):
        project = find_project(options["project"])
        progress = None if options["quiet"] else self.stderr
        try:
            subset = Subset.parse(
                project,
                deployments=options["deployments"],
                since=options["since"],
                until=options["until"],
                collection=options["collection"],
            )
        except SubsetError as error:
            raise CommandError(str(error)) from None
        try:
            summary = export_project(
                project,
                options["output"],
                profile=options["profile"],
                progress=progress,
                format=options["format"],
                metadata=options["metadata"],
                subset=subset,
            )
        except ExportError as error:
            raise CommandError(str(error)) from None
        except OSError as error:
            raise CommandError(f"cannot write {options['output']}: {error.strerror or error}") from None
        self.stdout.write(
            f"Exported project {project.pk} ({project.name}) to {summary.path} "
            f"[{summary.profile} profile] in {summary.seconds:.1f} s"
        )
        if not subset.is_whole():
            self.stdout.write(f"  partial: {subset.describe()}")
        for table in summary.tables:
            size = f" {table.bytes:>14,} bytes" if options["format"] == "dwca" else ""
            self.stdout.write(f"  {table.file:<52} {table.rows:>10,} rows{size}")
        self.stdout.write(f"  {'total':<52} {summary.rows:>10,} rows")
