"""The Progress listener of a job: Job.progress in upstream's schema, written live.

The work runs in one database transaction (an import) that other connections must not wait for,
and must not hold back: so the job row is written from a heartbeat thread, which has its own
database connection. Every JOBS_HEARTBEAT_SECONDS it writes the latest progress (which also
refreshes Job.updated_at: a started job whose row stops changing has lost its worker) and looks
whether the job was cancelled, in the database (status CANCELING, as upstream's UI sets it) or
through the cancel flag in Redis (which a cancel sets first: on SQLite the database waits for the
import's transaction). `advance` raises JobCancelled at the next step after that; the work
unwinds as on any error and its transaction rolls back.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable

import redis
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from ami.jobs.models import Job, JobLog, JobState
from dwca_port.progress import Progress

CANCEL_KEY = "antenna-port:cancel:{task_id}"  # the task id: unique, where job ids repeat across databases
CANCEL_FLAG_SECONDS = 24 * 3600


class JobCancelled(Exception):
    """The job was cancelled while it ran; nothing it did is kept."""


def cancel_flag(task_id: str) -> str:
    return CANCEL_KEY.format(task_id=task_id)


def results_redis() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_RESULT_BACKEND, socket_timeout=5)


def stage_entry(key: str) -> dict:
    return {"key": key, "name": key.capitalize(), "status": JobState.CREATED.value, "progress": 0, "params": []}


def declare_stages(job: Job, keys: list[str]) -> None:
    """The stages a job will go through, all at 0, so that its first view shows what is to come."""
    job.progress = {
        "summary": {"status": job.status, "progress": 0},
        "stages": [stage_entry(key) for key in keys],
        "errors": [],
        "logs": [],
    }


class JobProgress(Progress):
    """`stage_of` names the job's declared stage a stage of the work belongs to: the work reports
    fine stages (a table, a model), the job shows its few declared ones, each fine stage a step."""

    def __init__(self, job: Job, stage_of: Callable[[str], str] = lambda name: name):
        self.job_id = job.pk
        self.stage_of = stage_of
        self.flag = cancel_flag(job.task_id)
        self.state = copy.deepcopy(job.progress)
        self.current: dict | None = None
        self.total: int | None = None
        self.done = 0
        self.lines: list[str] = []  # said since the last write, to go into JobLog
        self.lock = threading.Lock()
        self.cancelled = threading.Event()
        self.stopped = threading.Event()
        self.heartbeat = threading.Thread(target=self._beat, name=f"job-{job.pk}-heartbeat", daemon=True)
        self.delay = settings.JOBS_STEP_DELAY
        self.heartbeat.start()

    # -- Progress -------------------------------------------------------------------------------
    def stage(self, name: str, total: int | None = None, unit: str = "rows") -> None:
        self._raise_if_cancelled()
        key = self.stage_of(name)
        with self.lock:
            if self.current is None or self.current["key"] != key:
                self._close_stage()
            entry = next((s for s in self.state["stages"] if s["key"] == key), None)
            if entry is None:
                entry = stage_entry(key)
                self.state["stages"].append(entry)
            entry["status"] = JobState.STARTED.value
            entry["params"] = [{"key": "unit", "name": "Unit", "value": unit}]
            if name != key:
                entry["params"].append({"key": "step", "name": "Step", "value": name})
            if total is not None:
                entry["params"].append({"key": "total", "name": "Total", "value": total})
            self.current, self.total, self.done = entry, total, 0
            self._summarise()

    def advance(self, amount: int) -> None:
        with self.lock:
            self.done += amount
            if self.current is not None and self.total:
                self.current["progress"] = round(min(self.done / self.total, 1.0), 4)
                self._summarise()
        if self.delay:
            time.sleep(self.delay)
        self._raise_if_cancelled()

    def say(self, message: str) -> None:
        with self.lock:
            self.lines.append(message)

    def finish(self) -> None:
        with self.lock:
            self._close_stage()
            self._summarise()

    # -- the end of the run ---------------------------------------------------------------------
    def close(self, status: JobState, error: str | None = None) -> None:
        """Stop the heartbeat and write the job's last state (from this thread: the work's
        transaction is over)."""
        self.stopped.set()
        self.heartbeat.join()
        with self.lock:
            self.state["summary"]["status"] = status.value
            if status == JobState.SUCCESS:
                self.state["summary"]["progress"] = 1
                for entry in self.state["stages"]:  # a stage with nothing to do on this path (staging on SQLite)
                    entry["status"], entry["progress"] = JobState.SUCCESS.value, 1
            elif self.current is not None and self.current["status"] == JobState.STARTED.value:
                self.current["status"] = status.value
            if error:
                self.state["errors"].append(error)
        self._write(final=status)

    # -- inside -----------------------------------------------------------------------------------
    def _close_stage(self) -> None:
        if self.current is not None and self.current["status"] == JobState.STARTED.value:
            self.current["status"], self.current["progress"] = JobState.SUCCESS.value, 1
        self.current = None

    def _summarise(self) -> None:
        stages = self.state["stages"]
        self.state["summary"]["progress"] = round(sum(s["progress"] for s in stages) / len(stages), 4) if stages else 0

    def _raise_if_cancelled(self) -> None:
        if self.cancelled.is_set():
            raise JobCancelled(f"job {self.job_id} was cancelled")

    def _beat(self) -> None:
        try:
            while not self.stopped.wait(settings.JOBS_HEARTBEAT_SECONDS):
                self._write()
                self._look_for_cancel()
        finally:
            connection.close()  # this thread's own connection

    def _look_for_cancel(self) -> None:
        try:
            flagged = results_redis().exists(self.flag)
        except redis.RedisError:
            flagged = False
        try:
            status = Job.objects.filter(pk=self.job_id).values_list("status", flat=True).first()
        except DatabaseError:
            status = None
        if flagged or status in (JobState.CANCELING, JobState.REVOKED):
            self.cancelled.set()

    def _write(self, final: JobState | None = None) -> None:
        with self.lock:
            state, lines, self.lines = copy.deepcopy(self.state), self.lines, []
        fields = {"progress": state, "updated_at": timezone.now()}
        if final is not None:
            fields.update(status=final.value, finished_at=timezone.now())
        try:
            close_old_connections()
            Job.objects.filter(pk=self.job_id).update(**fields)
            JobLog.objects.bulk_create([JobLog(job_id=self.job_id, level="INFO", message=line) for line in lines])
        except DatabaseError:
            # SQLite: the work's transaction holds the write lock. Keep the lines for the next beat.
            with self.lock:
                self.lines[:0] = lines
            if final is not None:
                raise
