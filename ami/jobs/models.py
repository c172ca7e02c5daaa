"""Jobs (app label `jobs`): the record of work done on a project, as upstream. Clone skips them,
export and import carry them; the toolkit's own export, import and clone run as Jobs too
(dwca_port/jobs/), which adds two job types and lets an import job have no project yet."""

from __future__ import annotations

from django.db import models

from ami.base.models import BaseModel


class JobState(models.TextChoices):
    CREATED = "CREATED"
    PENDING = "PENDING"
    STARTED = "STARTED"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    RETRY = "RETRY"
    CANCELING = "CANCELING"
    REVOKED = "REVOKED"
    RECEIVED = "RECEIVED"
    UNKNOWN = "UNKNOWN"


def default_job_progress() -> dict:
    return {"summary": {"status": JobState.CREATED.value, "progress": 0}, "stages": [], "errors": [], "logs": []}


def default_job_logs() -> dict:
    return {"stdout": [], "stderr": []}


class Job(BaseModel):
    class JobType(models.TextChoices):
        ML = "ml"
        POPULATE_CAPTURES_COLLECTION = "populate_captures_collection"
        DATA_STORAGE_SYNC = "data_storage_sync"
        REGROUP_EVENTS = "regroup_events"
        UNKNOWN = "unknown"
        DATA_EXPORT = "data_export"
        POST_PROCESSING = "post_processing"
        # The portability toolkit's (upstream has no import or clone jobs yet)
        DATA_IMPORT = "data_import"
        PROJECT_CLONE = "project_clone"

    class DispatchMode(models.TextChoices):
        INTERNAL = "internal"
        SYNC_API = "sync_api"
        ASYNC_API = "async_api"

    name = models.CharField(max_length=255)
    queue = models.CharField(max_length=255, default="default")
    scheduled_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=255, choices=JobState.choices, default=JobState.CREATED)
    progress = models.JSONField(default=default_job_progress)  # upstream: SchemaField(JobProgress)
    logs = models.JSONField(default=default_job_logs)  # upstream: SchemaField(JobLogs), deprecated
    params = models.JSONField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    task_id = models.CharField(max_length=255, null=True, blank=True)
    delay = models.IntegerField(default=0)
    limit = models.IntegerField(null=True, blank=True, default=None)
    shuffle = models.BooleanField(default=True)
    job_type_key = models.CharField(max_length=255, choices=JobType.choices, default=JobType.UNKNOWN)
    # Upstream requires a project; the toolkit's import job has none until its project is imported
    # (the import writes nothing before it commits).
    project = models.ForeignKey("main.Project", on_delete=models.CASCADE, null=True, blank=True, related_name="jobs")
    deployment = models.ForeignKey(
        "main.Deployment", on_delete=models.CASCADE, null=True, blank=True, related_name="jobs"
    )
    source_image_single = models.ForeignKey(
        "main.SourceImage", on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs"
    )
    source_image_collection = models.ForeignKey(
        "main.SourceImageCollection", on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs"
    )
    data_export = models.OneToOneField(
        "exports.DataExport", on_delete=models.CASCADE, null=True, blank=True, related_name="job"
    )
    pipeline = models.ForeignKey("ml.Pipeline", on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs")
    dispatch_mode = models.CharField(max_length=32, choices=DispatchMode.choices, default=DispatchMode.INTERNAL)

    class Meta:
        ordering = ["-created_at"]


class JobLog(BaseModel):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="log_entries")
    level = models.CharField(max_length=20)
    message = models.TextField()
    context = models.JSONField(default=dict)

    project_accessor = "job__project"

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(models.F("job"), models.F("created_at").desc(), name="joblog_job_created_idx")]
