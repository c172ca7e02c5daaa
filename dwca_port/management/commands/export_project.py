"""python manage.py export_project --project 23 --output nunavik.zip [--profile full|gbif]
[--format dwca|json|camtrap-dp] [--metadata FILE]"""

from __future__ import annotations

import uuid

from django.core.management.base import BaseCommand, CommandError

from ami.main.models import Project
from dwca_port.export import FORMATS, ExportError, export_project


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
        parser.add_argument(
            "--format",
            choices=FORMATS,
            default="dwca",
            help="Default dwca; camtrap-dp: a Camtrap DP package (a zip, or a folder when --output ends with /).",
        )
        parser.add_argument(
            "--metadata", metavar="FILE", help="YAML file of additions to eml.xml (docs/publishing.md)."
        )
        parser.add_argument("--quiet", action="store_true", help="No progress on stderr.")

    def handle(self, *args, **options):
        project = find_project(options["project"])
        progress = None if options["quiet"] else self.stderr
        try:
            summary = export_project(
                project,
                options["output"],
                profile=options["profile"],
                progress=progress,
                format=options["format"],
                metadata=options["metadata"],
            )
        except ExportError as error:
            raise CommandError(str(error)) from None
        except OSError as error:
            raise CommandError(f"cannot write {options['output']}: {error.strerror or error}") from None
        self.stdout.write(
            f"Exported project {project.pk} ({project.name}) to {summary.path} "
            f"[{summary.profile} profile] in {summary.seconds:.1f} s"
        )
        for table in summary.tables:
            size = f" {table.bytes:>14,} bytes" if options["format"] != "json" else ""
            self.stdout.write(f"  {table.file:<52} {table.rows:>10,} rows{size}")
        self.stdout.write(f"  {'total':<52} {summary.rows:>10,} rows")
        for warning in summary.warnings:
            self.stdout.write(f"  note: {warning}")
