"""Enqueue, cancel and describe jobs (the commands' --background, job_status, cancel_job)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ami.jobs.models import Job, JobState
from dwca_port.importer import ImportOptions
from dwca_port.jobs.listener import CANCEL_FLAG_SECONDS, cancel_flag, declare_stages, results_redis
from dwca_port.jobs.runs import RUNS, stored_import_options
from dwca_port.jobs.tasks import run_job
from dwca_port.storage import export_name

FINISHED = (JobState.SUCCESS, JobState.FAILURE, JobState.REVOKED)


class JobError(Exception):
    """A job cannot be enqueued, found or cancelled; the message says why in one line."""


def enqueue_export(
    project, user, profile: str, format: str, name: str | None = None, subset=None, connections: int | None = None
) -> Job:
    """`subset` (dwca_port.subset.Subset) travels as its plain parameters; `connections` None means
    the worker's setting."""
    name = name or export_name(project, "json" if format == "json" else "zip")
    params = {"profile": profile, "format": format, "name": name, "user_id": user.pk}
    if connections is not None:
        params["connections"] = connections
    if subset is not None and not subset.is_whole():
        params["subset"] = subset.as_params()
    return _enqueue(Job.JobType.DATA_EXPORT, f"Export {project.name} ({profile}, {format})", project, params)


def enqueue_import(archive: str, options: ImportOptions) -> Job:
    params = {"archive": archive, "options": stored_import_options(options)}
    return _enqueue(Job.JobType.DATA_IMPORT, f"Import {archive}", None, params)


def enqueue_clone(source, name: str, owner=None, dry_run: bool = False, allow_duplicate_name: bool = False) -> Job:
    params = {
        "name": name,
        "owner_id": owner.pk if owner else None,
        "dry_run": dry_run,
        "allow_duplicate_name": allow_duplicate_name,
    }
    return _enqueue(Job.JobType.PROJECT_CLONE, f"Clone {source.name} as {name}", source, params)


def _enqueue(kind: Job.JobType, title: str, project, params: dict) -> Job:
    _, stages, _ = RUNS[kind]
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    job = Job(
        name=title[:255],
        project=project,
        job_type_key=kind,
        params=params,
        queue=queue,
        status=JobState.PENDING,
        task_id=str(uuid.uuid4()),
        scheduled_at=timezone.now(),
    )
    declare_stages(job, stages)
    job.save()
    try:
        run_job.apply_async(args=[job.pk], task_id=job.task_id, queue=queue, retry=False)
    except Exception as error:  # kombu's connection errors: the broker is not reachable
        reason = f"cannot reach the job broker ({_host(settings.CELERY_BROKER_URL)}): {' '.join(str(error).split())}"
        Job.objects.filter(pk=job.pk).update(status=JobState.FAILURE, finished_at=timezone.now())
        raise JobError(f"job {job.pk} not started: {reason}") from None
    return job


def _host(url: str) -> str:
    """The broker's address without its credentials."""
    return url.rpartition("@")[2] if "@" in url else url


def find_job(reference: str) -> Job:
    try:
        return Job.objects.get(pk=int(reference))
    except (ValueError, Job.DoesNotExist):
        raise JobError(f"no job with id {reference!r}") from None


def cancel(job: Job) -> str:
    """Ask the job to stop: the Redis flag first (seen by a running job within a heartbeat, even
    while an SQLite import holds the database), then the job's status."""
    if job.status in FINISHED:
        raise JobError(f"job {job.pk} has already finished ({job.status}); nothing to cancel")
    try:
        results_redis().set(cancel_flag(job.task_id), "1", ex=CANCEL_FLAG_SECONDS)
    except Exception as error:
        flagged = f" (the Redis flag could not be set: {' '.join(str(error).split())})"
    else:
        flagged = ""
    with transaction.atomic():
        updated = Job.objects.filter(pk=job.pk).exclude(status__in=FINISHED).update(status=JobState.CANCELING)
    return f"job {job.pk}: cancel requested{flagged}" if updated else f"job {job.pk} had already finished"


def is_stale(job: Job) -> bool:
    """Started, but its heartbeat stopped: its worker is gone."""
    limit = timedelta(seconds=settings.JOBS_STALE_AFTER_SECONDS)
    return job.status in (JobState.STARTED, JobState.CANCELING) and timezone.now() - job.updated_at > limit


def describe(job: Job) -> list[str]:
    """The job's status, stages with percentages, errors and last log lines, for a terminal."""
    progress = job.progress or {}
    summary = progress.get("summary", {})
    lines = [
        f"Job {job.pk} [{job.job_type_key}] {job.name}",
        f"  status:   {job.status} ({summary.get('progress', 0) * 100:.0f}%)"
        + (
            f" -- stale: no heartbeat for more than {settings.JOBS_STALE_AFTER_SECONDS:g} s, its worker is gone"
            if is_stale(job)
            else ""
        ),
        f"  project:  {job.project_id if job.project_id is not None else '-'}",
        f"  queue:    {job.queue}   task: {job.task_id}",
        f"  times:    scheduled {job.scheduled_at or '-'}, started {job.started_at or '-'}, "
        f"finished {job.finished_at or '-'}",
    ]
    for stage in progress.get("stages", []):
        total = next((p["value"] for p in stage.get("params", []) if p.get("key") == "total"), None)
        unit = next((p["value"] for p in stage.get("params", []) if p.get("key") == "unit"), "")
        size = f"  ({total} {unit})" if total is not None else ""
        lines.append(f"  stage {stage['key']:<10} {stage['status']:<9} {stage['progress'] * 100:5.1f}%{size}")
    lines += [f"  error: {error}" for error in progress.get("errors", [])]
    if job.data_export_id:
        export = job.data_export
        lines.append(f"  export:   {export.file_url} ({export.file_size:,} bytes, {export.record_count:,} records)")
    elif job.result and job.status == JobState.SUCCESS:
        keys = ", ".join(f"{k}={v}" for k, v in job.result.items() if not isinstance(v, dict | list))
        lines.append(f"  result:   {keys}")
    for entry in reversed(job.log_entries.all()[:10]):
        lines.append(f"  log {entry.created_at:%H:%M:%S} {entry.level}: {entry.message}")
    return lines
