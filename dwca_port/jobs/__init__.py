"""Export, import and clone as Antenna Jobs on a Celery worker (docs/operations.md).

- listener.py: `JobProgress`, the Progress listener that writes a Job's stages and percentages
  from a heartbeat thread and stops the run when the job is cancelled;
- runs.py: what each job type does (the same functions the commands call synchronously);
- tasks.py: the Celery task that runs a Job, and what happens when its worker is lost;
- control.py: enqueue, cancel, describe.
"""
