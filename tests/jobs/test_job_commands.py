"""The job commands' refusals and the stale-job report, without a worker."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from ami.jobs.models import Job, JobState
from ami.main.models import Project
from dwca_port.jobs.control import describe, is_stale

pytestmark = pytest.mark.django_db


def test_a_background_export_to_a_local_path_is_refused_in_one_line(user):
    project = Project.objects.create(name="P", owner=user)
    with pytest.raises(CommandError) as refused:
        call_command("export_project", "--project", str(project.pk), "--background", "--output", "x.zip")
    assert str(refused.value) == (
        "--output x.zip: a background export is written to the storage by the worker; "
        "give --output storage:NAME, or no --output"
    )
    assert not Job.objects.exists()


def test_an_export_needs_an_output_when_it_runs_here(user):
    project = Project.objects.create(name="P", owner=user)
    with pytest.raises(CommandError, match=r"^--output is required \(a file, or storage:NAME\)$"):
        call_command("export_project", "--project", str(project.pk))


@pytest.mark.parametrize("command", ["job_status", "cancel_job"])
def test_an_unknown_job_is_refused_in_one_line(command):
    with pytest.raises(CommandError, match=r"^no job with id '999'$"):
        call_command(command, "999")


def test_a_started_job_whose_heartbeat_stopped_is_reported_stale(user, settings):
    settings.JOBS_STALE_AFTER_SECONDS = 60
    project = Project.objects.create(name="P", owner=user)
    job = Job.objects.create(name="export", project=project, status=JobState.STARTED, job_type_key="data_export")
    assert not is_stale(job)
    Job.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(seconds=61))
    job.refresh_from_db()
    assert is_stale(job)
    assert "stale: no heartbeat for more than 60 s, its worker is gone" in describe(job)[1]
    out = io.StringIO()
    call_command("job_status", str(job.pk), stdout=out)
    assert "stale" in out.getvalue()


def test_a_finished_job_cannot_be_cancelled(user):
    project = Project.objects.create(name="P", owner=user)
    job = Job.objects.create(name="export", project=project, status=JobState.SUCCESS)
    with pytest.raises(CommandError, match=rf"^job {job.pk} has already finished \(SUCCESS\); nothing to cancel$"):
        call_command("cancel_job", str(job.pk))
