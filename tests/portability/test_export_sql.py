"""The export's PostgreSQL fast path writes the same bytes as the Python builders.

On PostgreSQL the server formats the cells (dwca_port/postgres/cells.py and the tables' SQL forms);
the Python builders are the reference (and the SQLite path). Both profiles, on the demo project
and on random project graphs with tricky text, floats, JSON and timestamps.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from django.db import connection, transaction
from hypothesis import given

from dwca_port.export import export_project
from tests.portability.helpers import data_files
from tests.portability.test_properties import build, graph_examples, project_graphs

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL fast path is PostgreSQL's"),
]


def assert_same_files(python: Path, sql: Path) -> None:
    expected, found = data_files(python), data_files(sql)
    assert expected.keys() == found.keys()
    for member in sorted(expected):
        old, new = expected[member].split(b"\n"), found[member].split(b"\n")
        assert old == new, (member, [(a, b) for a, b in zip(old, new) if a != b][:3])


@pytest.mark.parametrize("profile", ["full", "gbif"])
def test_the_demo_project_exports_the_same_in_sql_and_in_python(demo, export, profile):
    assert_same_files(export(demo, profile, in_sql=False), export(demo, profile, in_sql=True))


@graph_examples(12)
@given(plan=project_graphs())
def test_random_projects_export_the_same_in_sql_and_in_python(db, plan):
    with tempfile.TemporaryDirectory() as directory, transaction.atomic():
        project = build(plan)
        for profile in ("full", "gbif"):
            python, sql = Path(directory) / f"{profile}-python.zip", Path(directory) / f"{profile}-sql.zip"
            # validation is not what is compared here (and test_properties validates random archives)
            export_project(project, python, profile=profile, in_sql=False, validate=False)
            export_project(project, sql, profile=profile, in_sql=True, validate=False)
            assert_same_files(python, sql)
        transaction.set_rollback(True)
