"""On PostgreSQL the package's rows come from COPY; on random project graphs (tricky text with
commas, quotes and newlines, odd boxes, timestamps, missing sizes) they are the Python builders'
bytes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from django.db import connection, transaction
from hypothesis import given

from dwca_port.formats.camtrap_dp.writer import PackageTarget, write_tables
from dwca_port.postgres.copy import export_session
from dwca_port.tables import FULL
from dwca_port.tables.camtrap import TABLES
from dwca_port.tables.context import ExportContext
from tests.portability.test_properties import build, graph_examples, project_graphs

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL fast path is PostgreSQL's"),
]


def _write(project, folder: Path, in_sql: bool) -> dict[str, bytes]:
    target = PackageTarget(folder, folder=True)
    with export_session():
        write_tables(target, ExportContext(project, FULL), TABLES, in_sql, lambda message: None)
    return {table.file: (folder / table.file).read_bytes() for table in TABLES}


@graph_examples(12)
@given(plan=project_graphs())
def test_random_projects_give_the_same_bytes_in_sql_and_in_python(db, plan):
    with tempfile.TemporaryDirectory() as directory, transaction.atomic():
        project = build(plan)
        python = _write(project, Path(directory) / "python", in_sql=False)
        sql = _write(project, Path(directory) / "sql", in_sql=True)
        for name in python:
            old, new = python[name].split(b"\n"), sql[name].split(b"\n")
            assert old == new, (name, [(a, b) for a, b in zip(old, new, strict=False) if a != b][:3])
        transaction.set_rollback(True)
