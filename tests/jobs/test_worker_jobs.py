"""Export, import and clone as Jobs on a real Celery worker: stages advancing, DataExport recorded,
cancel, a worker killed mid-import (database unchanged, job failed with the reason)."""

from __future__ import annotations

import io
import shutil
import time
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection

from ami.exports.models import DataExport
from ami.jobs.models import Job, JobState
from ami.main.demo import load_demo_project
from ami.main.models import Project
from dwca_port.export import export_project
from dwca_port.importer import ImportOptions
from dwca_port.jobs.control import enqueue_clone, enqueue_export, enqueue_import
from dwca_port.jobs.runs import EXPORT_STAGES, IMPORT_STAGES
from dwca_port.jobs.tasks import WORKER_LOST
from tests.jobs.conftest import FINISHED, data_counts, wait_for
from tests.portability.helpers import wipe_graph

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _archive_in_storage(media_root, tmp_path) -> tuple[str, str]:
    """The demo project exported, then wiped from the database: (storage reference, project uuid)."""
    project = load_demo_project(stdout=None)
    path = tmp_path / "demo.zip"
    export_project(project, path)
    uuid = str(project.uuid)
    wipe_graph()
    (media_root / "incoming").mkdir(parents=True, exist_ok=True)
    shutil.copy(path, media_root / "incoming" / "demo.zip")
    return "storage:incoming/demo.zip", uuid


def _stages(job: Job) -> dict[str, tuple[str, float]]:
    return {s["key"]: (s["status"], s["progress"]) for s in job.progress["stages"]}


def test_an_export_job_runs_on_a_worker_through_every_stage_and_records_its_data_export(workers, media_root):
    project = load_demo_project(stdout=None)
    workers.start(JOBS_STEP_DELAY="0.05")
    out = io.StringIO()
    call_command("export_project", "--project", str(project.pk), "--background", stdout=out)
    job_id = int(out.getvalue().splitlines()[0])
    seen: list[float] = []
    job = wait_for(job_id, FINISHED, workers, seen=seen)

    assert job.status == JobState.SUCCESS, job.progress
    assert job.job_type_key == "data_export" and job.project_id == project.pk
    assert list(_stages(job)) == EXPORT_STAGES
    assert all(value == (JobState.SUCCESS, 1) for value in _stages(job).values())
    assert job.progress["summary"] == {"status": "SUCCESS", "progress": 1}
    # Percentages were written while it ran (a live heartbeat), rising, short of 100 % before the end.
    partial = [value for value in seen if 0 < value < 1]
    assert len(set(partial)) >= 2 and partial == sorted(partial), seen

    export = DataExport.objects.get(job=job)
    stored = job.result["name"]
    assert default_storage.exists(stored) and default_storage.size(stored) == export.file_size > 0
    assert export.file_url == default_storage.url(stored) and export.file_url.startswith("/media/exports/")
    assert export.record_count == job.result["rows"] > 0 and export.user == project.owner

    status = io.StringIO()
    call_command("job_status", str(job.pk), stdout=status)
    text = status.getvalue()
    assert "status:   SUCCESS (100%)" in text and "stage write" in text and f"{export.file_size:,} bytes" in text


def test_an_import_job_reads_the_storage_and_advances_through_every_stage(workers, media_root, tmp_path):
    reference, project_uuid = _archive_in_storage(media_root, tmp_path)
    workers.start(JOBS_STEP_DELAY="0.02")
    out = io.StringIO()
    call_command("import_project", reference, "--create-missing-users", "--background", stdout=out)
    job_id = int(out.getvalue().splitlines()[0])
    assert Job.objects.get(pk=job_id).project_id is None  # nothing imported yet
    seen: list[float] = []
    job = wait_for(job_id, FINISHED, workers, seen=seen)

    assert job.status == JobState.SUCCESS, job.progress
    assert list(_stages(job)) == IMPORT_STAGES
    assert all(value == (JobState.SUCCESS, 1) for value in _stages(job).values())
    project = Project.objects.get(uuid=project_uuid)
    assert job.project_id == project.pk and job.result["project"]["uuid"] == project_uuid
    assert project.captures.count() > 0
    if connection.vendor == "postgresql":  # SQLite: one writer, the progress waits for the commit
        partial = [value for value in seen if 0 < value < 1]
        assert len(set(partial)) >= 2 and partial == sorted(partial), seen


def test_a_clone_job_clones_on_the_worker(workers):
    """Under the template's own name too, when the operator allowed it (--allow-duplicate-name)."""
    project = load_demo_project(stdout=None)
    workers.start()
    job = enqueue_clone(project, project.name, allow_duplicate_name=True)
    job = wait_for(job.pk, FINISHED, workers)
    assert job.status == JobState.SUCCESS, job.progress
    clone = Project.objects.exclude(pk=project.pk).get(name=project.name)
    assert job.result["project_id"] == clone.pk and clone.deployments.count() == project.deployments.count()


def test_a_cancelled_import_stops_and_writes_nothing(workers, media_root, tmp_path):
    reference, project_uuid = _archive_in_storage(media_root, tmp_path)
    before = data_counts()
    workers.start(JOBS_STEP_DELAY="0.5")
    job = enqueue_import(reference, ImportOptions(create_missing_users=True))
    wait_for(job.pk, [JobState.STARTED], workers)
    time.sleep(1.5)  # into the import's transaction
    out = io.StringIO()
    call_command("cancel_job", str(job.pk), stdout=out)
    assert "cancel requested" in out.getvalue()
    job = wait_for(job.pk, FINISHED, workers, timeout=60)

    assert job.status == JobState.REVOKED, job.progress
    assert "cancelled" in job.progress["errors"]
    assert not Project.objects.filter(uuid=project_uuid).exists()
    assert data_counts() == before
    with pytest.raises(Exception, match="already finished"):
        call_command("cancel_job", str(job.pk))


def test_a_job_cancelled_before_a_worker_takes_it_never_runs(workers):
    project = load_demo_project(stdout=None)
    job = enqueue_export(project, project.owner, "full", "dwca")
    call_command("cancel_job", str(job.pk), stdout=io.StringIO())
    workers.start()
    job = wait_for(job.pk, FINISHED, workers)
    assert job.status == JobState.REVOKED and job.started_at is None and job.data_export is None


def test_a_worker_killed_mid_import_leaves_the_database_unchanged_and_the_job_failed(workers, media_root, tmp_path):
    reference, project_uuid = _archive_in_storage(media_root, tmp_path)
    before = data_counts()
    first = workers.start(JOBS_STEP_DELAY="0.5")
    job = enqueue_import(reference, ImportOptions(create_missing_users=True))
    wait_for(job.pk, [JobState.STARTED], workers)
    time.sleep(3)  # writing rows, in its transaction
    first.kill()

    job = Job.objects.get(pk=job.pk)
    assert job.status == JobState.STARTED  # as the lost worker left it, until someone notices
    assert not Project.objects.filter(uuid=project_uuid).exists()
    assert data_counts() == before

    # The broker hands the unacknowledged task to the next worker, which records why it failed.
    workers.start()
    job = wait_for(job.pk, FINISHED, workers, timeout=60)
    assert job.status == JobState.FAILURE
    assert job.progress["errors"] == [WORKER_LOST] and job.progress["summary"]["status"] == "FAILURE"
    assert data_counts() == before
    status = io.StringIO()
    call_command("job_status", str(job.pk), stdout=status)
    assert "worker running this job was lost" in status.getvalue()


def test_a_background_export_carries_its_partial_selection_to_the_worker(workers, media_root):
    project = load_demo_project(stdout=None)
    deployment = project.deployments.order_by("pk").first()
    workers.start()
    out = io.StringIO()
    call_command(
        "export_project",
        "--project",
        str(project.pk),
        "--deployments",
        str(deployment.pk),
        "--connections",
        "1",
        "--background",
        stdout=out,
    )
    job = wait_for(int(out.getvalue().splitlines()[0]), FINISHED, workers)

    assert job.status == JobState.SUCCESS, job.progress
    assert job.params["subset"] == {"deployments": [str(deployment.uuid)]}
    assert job.params["connections"] == 1
    with default_storage.open(job.result["name"]) as stored, zipfile.ZipFile(stored) as archive:
        deployments = archive.read("antenna_deployment.txt").decode().splitlines()
    assert len(deployments) == 2 and str(deployment.uuid) in deployments[1]  # the header and the one station
