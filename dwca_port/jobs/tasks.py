"""The Celery task that runs a Job (any type: runs.RUNS says what each does).

Lost workers: tasks are acknowledged late and handed back to the broker when their worker dies
(settings: CELERY_TASK_ACKS_LATE, CELERY_TASK_REJECT_ON_WORKER_LOST). A task delivered again
finds its Job already "started": the first run died with its worker, its transaction rolled back,
so the job is marked failed with that reason rather than run twice (a half-seen archive is not
retried behind the operator's back). A job whose worker is gone and whose task is not delivered
again (no worker left) shows as stale: its heartbeat stopped (control.describe).
"""

from __future__ import annotations

import logging
import os
import socket

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from ami.jobs.models import Job, JobLog, JobState
from dwca_port.jobs.listener import JobCancelled, JobProgress
from dwca_port.jobs.runs import RUNS

logger = logging.getLogger(__name__)

WORKER_LOST = (
    "the worker running this job was lost (killed or crashed) before it finished; "
    "its transaction was rolled back, nothing it did was kept"
)


@shared_task(name="dwca_port.run_job")
def run_job(job_id: int) -> str:
    job = _claim(job_id)
    if job is None:
        return Job.objects.filter(pk=job_id).values_list("status", flat=True).first() or "UNKNOWN"
    run, _, stage_of = RUNS[job.job_type_key]
    progress = JobProgress(job, stage_of)
    try:
        result = run(job, progress)
    except JobCancelled:
        progress.close(JobState.REVOKED, "cancelled")
        return JobState.REVOKED.value
    except Exception as error:
        message = " ".join(str(error).split()) or type(error).__name__
        logger.exception("job %s failed", job_id)
        progress.close(JobState.FAILURE, message)
        return JobState.FAILURE.value
    progress.finish()
    Job.objects.filter(pk=job_id).update(result=result)
    progress.close(JobState.SUCCESS)
    return JobState.SUCCESS.value


def _claim(job_id: int) -> Job | None:
    """The job, now STARTED by this worker; None when it must not run (cancelled before it began,
    finished, or started before by a worker that was lost: then it is marked failed here)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return None
        if job.status in (JobState.CANCELING, JobState.REVOKED):
            Job.objects.filter(pk=job_id).update(status=JobState.REVOKED, finished_at=timezone.now())
            return None
        if job.status == JobState.STARTED:
            job.progress["summary"]["status"] = JobState.FAILURE.value
            job.progress["errors"].append(WORKER_LOST)
            for stage in job.progress["stages"]:
                if stage["status"] == JobState.STARTED:
                    stage["status"] = JobState.FAILURE.value
            Job.objects.filter(pk=job_id).update(
                status=JobState.FAILURE, finished_at=timezone.now(), progress=job.progress
            )
            JobLog.objects.create(job_id=job_id, level="ERROR", message=WORKER_LOST)
            return None
        if job.status != JobState.PENDING:
            return None
        job.status, job.started_at = JobState.STARTED, timezone.now()
        job.progress["summary"]["status"] = JobState.STARTED.value
        job.save(update_fields=["status", "started_at", "progress", "updated_at"])
        JobLog.objects.create(
            job_id=job_id,
            level="INFO",
            message=f"started on {socket.gethostname()} (process {os.getpid()})",
            context={"host": socket.gethostname(), "pid": os.getpid()},
        )
    return job
