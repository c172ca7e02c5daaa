"""A live, shared instance: exports while another process writes, two imports of one archive at once.

These need a database that several processes share, so they run on PostgreSQL (the SQLite test
database lives in the test process's memory)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

from ami.main.demo import load_demo_project
from ami.main.models import Project
from dwca_port.export import export_project
from dwca_port.importer import ImportOptions, ImportRefused, import_project
from dwca_port.importer.run import BEING_IMPORTED
from dwca_port.validate import validate_archive
from tests.portability.helpers import wipe_graph

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        os.environ.get("DATABASE_URL", "").split(":")[0] not in ("postgres", "postgresql"),
        reason="several processes share the database on PostgreSQL only",
    ),
]


def _database_url() -> str:
    settings = connection.settings_dict
    return f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"


def _process(*args: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "config.settings"}
    return subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_exports_while_another_process_writes_validate_every_time(tmp_path):
    project = load_demo_project(stdout=io.StringIO())
    writer = _process("-m", "tests.portability.live_writer", str(project.pk))
    try:
        assert writer.stdout.readline().strip() == "ready", writer.stderr.read()
        for run in range(4):
            path = tmp_path / f"live-{run}.zip"
            export_project(project, path)  # raises ExportError when it does not validate
            assert validate_archive(path).ok
    finally:
        writer.terminate()
        out, err = writer.communicate(timeout=60)
    assert int(out.split()[-1]) > 0, err  # the writer did write while the exports ran


def test_two_imports_of_one_archive_at_once(tmp_path):
    project = load_demo_project(stdout=io.StringIO())
    path = tmp_path / "demo.zip"
    export_project(project, path)
    wipe_graph()
    command = ("manage.py", "import_project", str(path), "--create-missing-users", "--quiet")
    first, second = _process(*command), _process(*command)
    results = [(p.wait(timeout=600), *p.communicate()) for p in (first, second)]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1], results
    loser = next(err for code, _, err in results if code == 1)
    assert loser.strip().count("\n") == 0, loser
    assert BEING_IMPORTED in loser
    assert Project.objects.count() == 1


def test_an_import_refuses_while_another_holds_the_project(tmp_path):
    """The loser of the race stops at once: the winner's claim is held by another connection here."""
    import psycopg

    project = load_demo_project(stdout=io.StringIO())
    path = tmp_path / "demo.zip"
    export_project(project, path)
    archived = project.uuid
    wipe_graph()
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"], user=settings["USER"], dbname=settings["NAME"]
    ) as other:
        other.execute("BEGIN")
        other.execute("SELECT pg_advisory_xact_lock(%s)", [uuid.UUID(str(archived)).int % (1 << 63)])
        with pytest.raises(ImportRefused) as refused:
            import_project(path, ImportOptions(create_missing_users=True))
    assert str(refused.value).endswith(f": {BEING_IMPORTED}")
    assert Project.objects.count() == 0
