"""What each job type does: the functions the commands call synchronously, told a JobProgress,
with the archive going through the storage (workers share no disk with whoever asked).

Each run returns the job's result (JSON); it raises on failure, leaving the database as it was.
The stored parameters name files by storage name or path, never a credential: storage is
configured on the worker, from its settings.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path

from ami.exports.models import DataExport
from ami.jobs.models import Job
from ami.main.models import Project
from ami.users.models import User
from dwca_port.clone import clone_project
from dwca_port.export import export_project
from dwca_port.importer import ImportOptions, import_project
from dwca_port.jobs.listener import JobProgress
from dwca_port.storage import local_archive, store_export
from dwca_port.subset import Subset
from dwca_port.taxonomy.options import TaxaSettings

EXPORT_STAGES = ["write", "validate", "store"]
IMPORT_STAGES = ["fetch", "validate", "stage", "write", "links", "caches"]
CLONE_STAGES = ["clone"]


def export_stage(name: str) -> str:
    """The export reports a stage per archive member: each is a step of "write"."""
    return name if name in EXPORT_STAGES else "write"


def import_stage(name: str) -> str:
    """The import reports "staging <file>" per table (PostgreSQL) and a stage per model written."""
    if name in IMPORT_STAGES:
        return name
    return "stage" if name.startswith("staging ") else "write"


def run_export(job: Job, progress: JobProgress) -> dict:
    params = job.params
    project = Project.objects.get(pk=job.project_id)
    user = User.objects.get(pk=params["user_id"])
    extension = "json" if params["format"] == "json" else "zip"
    folder = tempfile.mkdtemp(prefix="antenna-export-")
    try:
        local = Path(folder) / f"export.{extension}"
        summary = export_project(
            project,
            local,
            profile=params["profile"],
            format=params["format"],
            progress=progress,
            subset=Subset.from_params(project, params["subset"]) if "subset" in params else None,
            connections=params.get("connections"),
        )
        progress.stage("store", total=1, unit="archives")
        name, url, size = store_export(local, params["name"])
        progress.advance(1)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    export = DataExport.objects.create(
        user=user,
        project=project,
        format=DataExport.Format.DWCA,  # the JSON form too: the same tables (filters say which form)
        filters={"profile": params["profile"], "format": params["format"]},
        file_url=url,
        file_size=size,
        record_count=summary.rows,
    )
    Job.objects.filter(pk=job.pk).update(data_export=export)
    return {"name": name, "url": url, "size": size, "rows": summary.rows, "data_export": str(export.uuid)}


def run_import(job: Job, progress: JobProgress) -> dict:
    params = job.params
    options = import_options(params["options"])
    progress.stage("fetch", total=1, unit="archives")
    with local_archive(params["archive"]) as path:
        progress.advance(1)
        report = import_project(path, options, progress=progress)
    project_id = report.project.get("id")
    if project_id and not options.dry_run:
        Job.objects.filter(pk=job.pk).update(project_id=project_id)
    return report.as_dict()


def run_clone(job: Job, progress: JobProgress) -> dict:
    params = job.params
    source = Project.objects.get(pk=job.project_id)
    owner = User.objects.get(pk=params["owner_id"]) if params.get("owner_id") else None
    report = clone_project(
        source,
        params["name"],
        owner=owner,
        dry_run=params.get("dry_run", False),
        allow_duplicate_name=params.get("allow_duplicate_name", False),
        progress=progress,
    )
    return {"project_id": report.project_id, "project_uuid": str(report.project_uuid), "created": report.created}


def import_options(stored: dict) -> ImportOptions:
    """ImportOptions from a job's stored parameters (a plain dict, see `stored_import_options`)."""
    stored = dict(stored)
    taxa = stored.pop("taxa", None)
    return ImportOptions(**stored, taxa=TaxaSettings(**taxa) if taxa is not None else None)


def stored_import_options(options: ImportOptions) -> dict:
    return dataclasses.asdict(options)


RUNS = {
    Job.JobType.DATA_EXPORT: (run_export, EXPORT_STAGES, export_stage),
    Job.JobType.DATA_IMPORT: (run_import, IMPORT_STAGES, import_stage),
    Job.JobType.PROJECT_CLONE: (run_clone, CLONE_STAGES, lambda name: "clone"),
}
