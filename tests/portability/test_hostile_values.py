"""Hostile cells (issue 12): values that crashed the import with a traceback, or that one database
took and the other refused, are refused by `manage.py import_project` with one line naming the
file, line and column, exit status 1, and the database exactly as it was.

The demo project is exported once per module (archive and JSON form); the database then holds a
second demo project (new UUIDs) that the archives do not conflict with, committed for the module
(flushed at its end), as in test_bad_input.py. Each test damages one cell of a copy.
"""

from __future__ import annotations

import json
import math

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from dwca_port.tables import all_tables
from dwca_port.tables.base import FULL
from tests.archive_corpus import Editor
from tests.portability.corpus_helpers import database_fingerprint, export_demo_once

pytestmark = pytest.mark.django_db

PREFIX = "import refused, nothing was written: "


@pytest.fixture(scope="module")
def archives(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        made = export_demo_once(tmp_path_factory.mktemp("good"), profiles=(FULL,), with_json=True, keep=True)
    yield made
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


def _damaged(archive: bytes, member: str, name: str, value: str) -> tuple[bytes, int, int]:
    """The archive with column `name` of the first row of `member` set to `value`; with the
    (physical line, 1-based column) of that cell."""
    editor = Editor(archive, all_tables())
    table = next(t for t in editor.meta.tables if t.file == member)
    header, rows = editor.rows(table)
    index = header.index(name)
    rows[0][index] = value
    editor.write_rows(table, header, rows)
    return editor.build(), 2, index + 1


def _refused(path) -> str:
    before = database_fingerprint()
    with pytest.raises(CommandError) as caught:
        call_command("import_project", str(path), "--create-missing-users", "--quiet")
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message, f"not one line: {message!r}"
    assert message.startswith(PREFIX), message
    assert database_fingerprint() == before
    return message


DEEP = "[" * 100_000 + "]" * 100_000

HOSTILE = {
    # member, column, value, what the message says
    "json_nested_100000_deep": ("antenna_detection.txt", "bbox", DEEP, "nested deeper than 100"),
    "json_reference_object": (
        "antenna_sourceimagecollection.txt",
        "kwargs",
        '{"image_ids": [{"a": 1}]}',
        "image_ids must hold UUIDs",
    ),
    "json_reference_list": (
        "antenna_dataexport.txt",
        "filters",
        '{"collection_id": [[1]]}',
        "collection_id must hold UUIDs",
    ),
    "integer_20_digits": ("antenna_sourceimage.txt", "width", "12345678901234567890", "out of the column's range"),
    "integer_past_int32": ("antenna_sourceimage.txt", "width", "2147483648", "out of the column's range"),
    "bigint_past_int64": ("antenna_sourceimage.txt", "size", "9223372036854775808", "out of the column's range"),
    "text_81_in_varchar_80": ("antenna_deployment.txt", "name", "n" * 81, "longer than the 80"),
    "json_nan": ("antenna_detection.txt", "bbox", "[NaN, 1, 2, 3]", "NaN"),
    "json_infinity": ("antenna_detection.txt", "bbox", "[1, Infinity, 2, 3]", "Infinity"),
    "json_number_past_a_double": ("antenna_detection.txt", "bbox", "[1E400, 1, 2, 3]", "past the range of a double"),
    "json_nul": ("antenna_sourceimagecollection.txt", "kwargs", '{"note": "a\\u0000b"}', "NUL"),
    "json_lone_surrogate": ("antenna_sourceimagecollection.txt", "kwargs", '{"note": "\\ud800"}', "lone surrogate"),
    "float_past_float8": ("antenna_detection.txt", "detectionScore", "1e400", "out of range"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_cell_is_refused_with_its_place(case, archives, tmp_path):
    member, name, value, reason = HOSTILE[case]
    damaged, line, column = _damaged(archives[FULL], member, name, value)
    path = tmp_path / "hostile.zip"
    path.write_bytes(damaged)
    message = _refused(path)
    assert f"{member}, line {line}, column {column}" in message, message
    assert name in message and reason in message, message


JSON_HOSTILE = {
    # model label, column name, value, what the message says
    "text_81_in_varchar_80": ("main.Deployment", "name", "n" * 81, "longer than the 80"),
    "integer_past_int32": ("main.SourceImage", "width", 2147483648, "out of the column's range"),
    "json_reference_list": ("exports.DataExport", "filters", {"collection_id": [[1]]}, "collection_id must hold UUIDs"),
}


@pytest.mark.parametrize("case", list(JSON_HOSTILE))
def test_a_hostile_value_in_the_json_form_is_refused_with_its_place(case, archives, tmp_path):
    """The JSON form is not validated beforehand: the writer itself (or, on PostgreSQL, the
    diagnosis of the database's refusal) names the row and column."""
    label, name, value, reason = JSON_HOSTILE[case]
    document = json.loads(archives["json"])
    row = document["models"][label][0]
    assert name in row, sorted(row)
    row[name] = value
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(document))
    message = _refused(path)
    assert "hostile.json" in message and "line " in message and f"({name})" in message, message
    assert reason in message, message


def _import(path) -> None:
    call_command("import_project", str(path), "--create-missing-users", "--quiet")


def test_a_float_nan_is_kept_where_the_database_can_store_it(archives, tmp_path):
    """SQLite turns a float NaN into NULL: refused there, with its place; PostgreSQL keeps it."""
    from ami.main.models import Detection

    damaged, line, column = _damaged(archives[FULL], "antenna_detection.txt", "detectionScore", "NaN")
    path = tmp_path / "nan.zip"
    path.write_bytes(damaged)
    if connection.vendor == "sqlite":
        message = _refused(path)
        assert f"antenna_detection.txt, line {line}, column {column} (detectionScore)" in message, message
        assert "NaN" in message
        return
    _import(path)
    assert any(
        score is not None and math.isnan(score) for score in Detection.objects.values_list("detection_score", flat=True)
    )


def test_a_row_only_the_database_refuses_is_named(archives, tmp_path):
    """Two captures of one deployment with one path break a unique constraint that no cell
    check sees: the import names the second row's line and the constraint's column."""
    editor = Editor(archives[FULL], all_tables())
    table = next(t for t in editor.meta.tables if t.file == "antenna_sourceimage.txt")
    header, rows = editor.rows(table)
    path_index, deployment_index = header.index("path"), header.index("deploymentID")
    assert rows[0][deployment_index] == rows[1][deployment_index]
    rows[1][path_index] = rows[0][path_index]
    editor.write_rows(table, header, rows)
    path = tmp_path / "same-path.zip"
    path.write_bytes(editor.build())
    message = _refused(path)
    assert f"antenna_sourceimage.txt, line 3, column {path_index + 1} (path)" in message, message
    assert "the database refused it" in message


def test_a_json_form_nested_past_the_parser_is_refused_in_one_line(archives, tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    message = _refused(path)
    assert message.startswith(PREFIX) and "deep.json" in message and "nested too deep" in message, message
