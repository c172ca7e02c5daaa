"""What the commands share for jobs and storage: --background, and a synchronous export into the
storage. Errors become CommandError, one line each."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from django.core.management.base import CommandError

from ami.users.models import User
from dwca_port.clone import CloneError, checked_name
from dwca_port.export import ExportError, connections_for, export_project, format_for
from dwca_port.jobs.control import JobError, enqueue_clone, enqueue_export, enqueue_import
from dwca_port.storage import StorageError, storage_name, store_export


def add_background_argument(parser) -> None:
    parser.add_argument(
        "--background",
        action="store_true",
        help="Enqueue the work as a job on a Celery worker, print the job's id and return "
        "(follow it with job_status ID, stop it with cancel_job ID).",
    )


def enqueued(job) -> str:
    """The job's id alone on the first line (for scripts), then what to do with it."""
    return f"{job.pk}\nJob {job.pk} queued on {job.queue}: job_status {job.pk} shows it, cancel_job {job.pk} stops it."


def export_in_background(project, options: dict) -> str:
    output = options.get("output")
    name = storage_name(output) if output else None
    if output and name is None:
        raise CommandError(
            f"--output {output}: a background export is written to the storage by the worker; "
            "give --output storage:NAME, or no --output"
        )
    user = _user(options.get("user")) if options.get("user") else project.owner
    if user is None:
        raise CommandError(f"project {project.pk} has no owner to record the DataExport under: give --user EMAIL")
    try:
        format, _ = format_for(name or "", options["format"])
        connections = options.get("connections")
        if connections is not None:
            connections_for(connections)  # refused now, not on the worker
        return enqueued(
            enqueue_export(project, user, options["profile"], format, name, options.get("subset"), connections)
        )
    except (ExportError, JobError) as error:
        raise CommandError(str(error)) from None


def import_in_background(archive: str, import_options) -> str:
    if storage_name(archive) is None:
        archive = str(Path(archive).resolve())  # the worker may run elsewhere: an absolute path at least
    try:
        return enqueued(enqueue_import(archive, import_options))
    except JobError as error:
        raise CommandError(str(error)) from None


def clone_in_background(source, name: str, owner, dry_run: bool, allow_duplicate_name: bool) -> str:
    try:
        name = checked_name(source, name, allow_duplicate_name)  # refused now, not on the worker
        return enqueued(enqueue_clone(source, name, owner, dry_run, allow_duplicate_name))
    except (CloneError, JobError) as error:
        raise CommandError(str(error)) from None


def export_to_storage(project, options: dict, progress) -> str:
    """Export to a local temporary file, then into the storage under the name in `storage:NAME`."""
    name = storage_name(options["output"])
    folder = tempfile.mkdtemp(prefix="antenna-export-")
    try:
        local = Path(folder) / Path(name).name
        format, _ = format_for(name, options["format"])
        summary = export_project(
            project,
            local,
            profile=options["profile"],
            progress=progress,
            format=format,
            metadata=options.get("metadata"),
            subset=options.get("subset"),
            connections=options.get("connections"),
        )
        stored, url, size = store_export(local, name)
    except (ExportError, StorageError) as error:
        raise CommandError(str(error)) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return (
        f"Exported project {project.pk} ({project.name}) to the storage as {stored} ({url}): "
        f"{summary.rows:,} rows, {size:,} bytes [{summary.profile} profile] in {summary.seconds:.1f} s"
    )


def _user(email: str):
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise CommandError(f"no user with e-mail {email!r}")
    return user
