"""Real Celery workers (separate processes, not eager mode) on this machine's RabbitMQ and Redis,
against the test database, and a real S3-compatible server (moto's standalone server).

Each test gets its own queue, so parallel runs (and a task handed back by a killed worker) never
reach another test's worker. Worker tests are transaction=True: a worker sees committed rows only.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from ami.jobs.models import Job, JobState
from dwca_port.jobs.runs import RUNS
from tests.portability.helpers import table_counts

ROOT = Path(settings.BASE_DIR)
SESSION = uuid.uuid4().hex[:8]
S3_KEY_ID, S3_SECRET = "AKIATESTPORTABILITY", "port-test-secret-do-not-leak-8c1f"


def worker_database_url() -> str:
    """The test database, as the worker process must reach it."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Worker:
    def __init__(self, queue: str, number: int, log: Path, env: dict):
        self.log = log
        self.name = f"{queue}-{number}@{socket.gethostname()}"
        # Worker heartbeats stay on: their timer wakes the event loop, so a stop takes 2 s, not 10.
        with log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "-n", self.name,
                 "--pool", "solo", "--without-gossip", "--without-mingle", "-l", "INFO"],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while "ready." not in self.output():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Celery worker did not start:\n{self.output()}")
            time.sleep(0.2)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a lost machine would: no cleanup of any kind."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def workers(settings, tmp_path, media_root):
    """workers.start(**env) starts a worker on this test's own queue; all are stopped at the end."""
    queue = f"antenna-port-test-{SESSION}-{uuid.uuid4().hex[:6]}"
    settings.CELERY_TASK_DEFAULT_QUEUE = queue

    class Workers:
        started: list[Worker] = []
        extra_env: dict = {}

        def start(self, **env) -> Worker:
            environment = {
                **os.environ,
                "DATABASE_URL": worker_database_url(),
                "CELERY_TASK_DEFAULT_QUEUE": queue,
                "MEDIA_ROOT": str(media_root),
                "JOBS_HEARTBEAT_SECONDS": "0.2",
                **self.extra_env,
                **{k: str(v) for k, v in env.items()},
            }
            worker = Worker(queue, len(self.started), tmp_path / f"worker-{len(self.started)}.log", environment)
            self.started.append(worker)
            return worker

        def logs(self) -> str:
            return "\n".join(w.output() for w in self.started)

    pool = Workers()
    pool.started = []
    yield pool
    for worker in pool.started:
        worker.stop()
    from config.celery import app

    with app.connection_for_write() as conn:
        try:
            conn.default_channel.queue_delete(queue)
        except Exception:  # already gone: nothing to clean
            pass


def wait_for(job_id: int, statuses, workers=None, timeout: float = 120, seen: list | None = None) -> Job:
    """The job once its status is one of `statuses`; `seen` collects the progress values observed."""
    deadline = time.monotonic() + timeout
    while True:
        job = Job.objects.get(pk=job_id)
        if seen is not None:
            seen.append(job.progress["summary"]["progress"])
        if job.status in statuses:
            return job
        if time.monotonic() > deadline:
            logs = workers.logs() if workers else ""
            raise AssertionError(f"job {job_id} stayed {job.status}: {job.progress}\n{logs}")
        time.sleep(0.05)


FINISHED = (JobState.SUCCESS, JobState.FAILURE, JobState.REVOKED)
TOOLKIT_TYPES = list(RUNS)


def data_counts() -> dict[str, int]:
    """Row counts of every table an import writes, the toolkit's own job records left aside."""
    from ami.jobs.models import JobLog

    counts = table_counts()
    counts["jobs.Job"] = Job.objects.exclude(job_type_key__in=TOOLKIT_TYPES).count()
    counts["jobs.JobLog"] = JobLog.objects.exclude(job__job_type_key__in=TOOLKIT_TYPES).count()
    return counts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server():
    """moto's standalone S3-compatible server on a free loopback port: its endpoint URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("moto's S3 server did not start") from None
            time.sleep(0.1)
    yield url
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


@pytest.fixture
def s3_storage(s3_server, settings, monkeypatch, workers):
    """Django's default storage on a fresh bucket of the S3 server, here and in this test's workers;
    the credentials only in the environment."""
    import boto3

    bucket = f"port-{uuid.uuid4().hex[:12]}"
    env = {
        "AWS_ACCESS_KEY_ID": S3_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_STORAGE_BUCKET_NAME": bucket,
        "AWS_S3_ENDPOINT_URL": s3_server,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": bucket, "endpoint_url": s3_server, "file_overwrite": False},
        },
    }
    workers.extra_env = env
    return bucket
