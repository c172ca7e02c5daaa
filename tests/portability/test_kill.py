"""Killing an import mid-way leaves nothing behind (PostgreSQL: one transaction, killed with SIGKILL).

A synthetic project of some tens of thousands of images is seeded and exported, then every graph
row is deleted (committed: the subprocess must see it). `manage.py import_project` runs as a
subprocess against the test database; once its progress on stderr shows that it has written rows
(source images) and while it is still writing the rest, it is sent SIGKILL. The database must hold
exactly what it held before the import began.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from dwca_port.export import export_project
from tests.portability.corpus_helpers import database_fingerprint
from tests.portability.helpers import table_counts, wipe_graph

IMAGES = 15_000
ROOT = Path(settings.BASE_DIR)


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_killed_import_writes_nothing(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: the import runs in a subprocess against the test database, "
            "which SQLite's in-memory test database cannot share"
        )
    from ami.main.synthetic import SyntheticSpec, seed_synthetic_project

    project = seed_synthetic_project(
        SyntheticSpec(images=IMAGES, detections_per_image=2, identifications=500), progress=None
    )
    archive = tmp_path / "synthetic.zip"
    export_project(project, archive, profile="full", validate=False)  # the import validates it
    wipe_graph()
    before_counts, before_hash = table_counts(), database_fingerprint()

    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "import_project", str(archive), "--create-missing-users"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": _database_url()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    written = threading.Event()

    def watch():
        for line in process.stderr:
            lines.append(line)
            if line.split("] ", 1)[-1].startswith("main.SourceImage:"):
                written.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        assert written.wait(timeout=600), "the import never reported writing source images:\n" + "".join(lines)
        time.sleep(0.2)  # now writing detections and classifications
        assert process.poll() is None, "the import finished before it could be killed: use a bigger archive"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    watcher.join(timeout=10)
    assert process.returncode == -signal.SIGKILL
    assert not any("Imported project" in line for line in lines)

    # the server may take a moment to notice the dead client and roll its transaction back
    deadline = time.monotonic() + 30
    while True:
        after_counts, after_hash = table_counts(), database_fingerprint()
        if (after_counts, after_hash) == (before_counts, before_hash) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert after_counts == before_counts
    assert after_hash == before_hash
