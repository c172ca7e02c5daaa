"""Export from SQLite, import into PostgreSQL: the archive produced by a SQLite instance (in a
subprocess, against a temporary SQLite file) imports here and exports to identical data files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from ami.main.models import Project
from dwca_port.export import export_project
from dwca_port.importer import ImportOptions, import_project
from tests.portability.helpers import data_files

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)


def _manage(database_url: str, *arguments: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "DATABASE_URL": database_url},
    )
    assert result.returncode == 0, f"manage.py {' '.join(arguments)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_an_archive_exported_from_sqlite_imports_into_postgresql(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("exports from SQLite into PostgreSQL: run with DATABASE_URL pointing at PostgreSQL")
    database = tmp_path / "source.sqlite3"
    url = f"sqlite:///{database}"
    archive = tmp_path / "from-sqlite.zip"
    _manage(url, "migrate", "--noinput", "-v", "0")
    _manage(url, "load_demo_project")
    _manage(url, "export_project", "--project", "1", "--output", str(archive), "--quiet")

    report = import_project(archive, ImportOptions(create_missing_users=True))
    assert report.models["main.Detection"].created > 0
    assert not report.cache_differences, report.cache_difference_examples
    again = tmp_path / "from-postgresql.zip"
    export_project(Project.objects.get(), again, profile="full")
    before, after = data_files(archive), data_files(again)
    for member in sorted(before.keys() | after.keys()):
        old, new = (before.get(member) or b"").split(b"\n"), (after.get(member) or b"").split(b"\n")
        assert old == new, (member, [(a, b) for a, b in zip(old, new) if a != b][:3])
