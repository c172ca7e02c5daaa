"""The benchmarks (bench/) still run: each script end to end on a tiny project, on PostgreSQL.

They measure nothing here; what they print is read by people (docs/benchmarks.md), so a script
that broke would only be found on the day of a long run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--images", "300", "--detections", "100", "--occurrences", "20", "--dump-images", "50"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db,  # (a database test: it runs in the PostgreSQL half of CI)
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the benchmarks measure PostgreSQL"),
]


def _bench(script: str, tmp_path, *options: str) -> str:
    database = f"bench_smoke_{Path(script).stem}_{os.getpid()}"  # its own scratch databases, dropped after
    finished = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *TINY, "--database", database, *options],
        cwd=ROOT,
        env={**os.environ, "BENCH_WORKDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    return finished.stdout


def test_the_export_benchmark_runs_its_default_path(tmp_path):
    out = _bench("export.py", tmp_path, "--default-only", "--compare-connections")
    assert "| export_project, default (validation on, 2 connections) |" in out
    assert "| export_project(validate=False), 1 connection(s) |" in out and "| COPY TO, 4 tables |" in out


def test_the_import_benchmark_seeds_its_archive_and_runs_its_default_path(tmp_path):
    out = _bench("import.py", tmp_path, "--default-only")
    assert "is missing: seeding and exporting it" in out
    assert "| import_project, default (validation on) |" in out and "| COPY FROM, 4 tables |" in out
