"""Archives in Django's storage: exports written to and imports read from a real S3-compatible
server (moto's standalone server over HTTP), by the commands and by jobs on a worker; size limits;
credentials never stored with an archive or a job."""

from __future__ import annotations

import io
import json
import zipfile

import boto3
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from ami.exports.models import DataExport
from ami.jobs.models import Job, JobLog, JobState
from ami.main.demo import load_demo_project
from ami.main.models import Project
from dwca_port.importer import ImportOptions
from dwca_port.jobs.control import enqueue_export, enqueue_import
from tests.jobs.conftest import FINISHED, S3_KEY_ID, S3_SECRET, data_counts, wait_for
from tests.portability.helpers import wipe_graph


def _objects(s3_server: str, bucket: str) -> dict[str, int]:
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    return {o["Key"]: o["Size"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])}


def _archive_bytes(s3_server: str, bucket: str, key: str) -> bytes:
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    return client.get_object(Bucket=bucket, Key=key)["Body"].read()


@pytest.mark.django_db
def test_the_commands_export_to_and_import_from_s3(s3_server, s3_storage):
    project = load_demo_project(stdout=None)
    project_uuid = str(project.uuid)
    out = io.StringIO()
    call_command("export_project", "--project", str(project.pk), "--output", "storage:moves/demo.zip", stdout=out)
    assert "to the storage as moves/demo.zip" in out.getvalue()
    objects = _objects(s3_server, s3_storage)
    assert list(objects) == ["moves/demo.zip"] and objects["moves/demo.zip"] > 0
    content = _archive_bytes(s3_server, s3_storage, "moves/demo.zip")
    assert S3_SECRET.encode() not in content and S3_KEY_ID.encode() not in content
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert "meta.xml" in archive.namelist()

    wipe_graph()
    out = io.StringIO()
    call_command("import_project", "storage:moves/demo.zip", "--create-missing-users", stdout=out)
    assert Project.objects.filter(uuid=project_uuid).exists(), out.getvalue()


@pytest.mark.django_db
def test_a_missing_storage_name_is_refused_in_one_line(s3_storage):
    with pytest.raises(CommandError) as refused:
        call_command("import_project", "storage:nowhere/none.zip")
    message = str(refused.value)
    assert message.startswith("import refused, nothing was written: storage:nowhere/none.zip: not found")
    assert "\n" not in message


@pytest.mark.django_db
def test_size_limits_refuse_a_too_large_export_and_import_in_one_line(settings, media_root, tmp_path):
    project = load_demo_project(stdout=None)
    settings.DWCA_MAX_EXPORT_BYTES = 1000
    with pytest.raises(CommandError) as refused:
        call_command("export_project", "--project", str(project.pk), "--output", "storage:big.zip")
    assert "over the limit of 1,000 bytes (settings.DWCA_MAX_EXPORT_BYTES)" in str(refused.value)
    assert "\n" not in str(refused.value) and not (media_root / "big.zip").exists()

    settings.DWCA_MAX_EXPORT_BYTES = 0
    call_command("export_project", "--project", str(project.pk), "--output", "storage:big.zip", stdout=io.StringIO())
    call_command("export_project", "--project", str(project.pk), "--output", str(tmp_path / "big.zip"))
    wipe_graph()
    before = data_counts()
    settings.DWCA_MAX_IMPORT_BYTES = 1000
    for reference in ("storage:big.zip", str(tmp_path / "big.zip")):
        with pytest.raises(CommandError) as refused:
            call_command("import_project", reference, "--create-missing-users")
        assert f"{reference}: the import archive is" in str(refused.value)
        assert "over the limit of 1,000 bytes (settings.DWCA_MAX_IMPORT_BYTES)" in str(refused.value)
    assert data_counts() == before


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_jobs_export_to_and_import_from_s3_without_storing_credentials(workers, s3_server, s3_storage):
    project = load_demo_project(stdout=None)
    project_uuid = str(project.uuid)
    workers.start()
    job = wait_for(enqueue_export(project, project.owner, "full", "dwca").pk, FINISHED, workers)
    assert job.status == JobState.SUCCESS, job.progress
    export = DataExport.objects.get(job=job)
    key = job.result["name"]
    assert _objects(s3_server, s3_storage)[key] == export.file_size > 0
    assert export.file_url == f"{s3_server}/{s3_storage}/{key}"  # unsigned: no key id, no expiry

    wipe_graph()
    job = wait_for(enqueue_import(f"storage:{key}", ImportOptions(create_missing_users=True)).pk, FINISHED, workers)
    assert job.status == JobState.SUCCESS, job.progress
    assert Project.objects.filter(uuid=project_uuid).exists()

    stored = json.dumps(list(Job.objects.values("params", "progress", "result", "logs")), default=str)
    stored += json.dumps(list(JobLog.objects.values("message", "context")), default=str)
    assert S3_SECRET not in stored and S3_KEY_ID not in stored
    assert S3_SECRET.encode() not in _archive_bytes(s3_server, s3_storage, key)
