"""Bad input: every applicable corpus defect, applied to a real full-profile export of the demo
project, is refused by `manage.py import_project` with a one-line message naming the member and
the rule, and leaves the database exactly as it was.

The archive is exported once per module; then the demo project is loaded again (new UUIDs, so
that the good archive imports without conflicts: see `test_the_undamaged_archive_imports`) and
committed for the whole module. Each test tries to import a damaged copy of the archive into that
database (inside the test's own transaction, rolled back after it) and compares every table with
the module's starting state. The module flushes the database at its end.
"""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from dwca_port.tables import all_tables
from dwca_port.tables.base import FULL, GBIF_PROFILE
from dwca_port.validate import validate_archive
from tests.archive_corpus import DEFECTS, NotApplicable
from tests.portability.corpus_helpers import database_fingerprint, export_demo_once
from tests.portability.helpers import table_counts

pytestmark = pytest.mark.django_db

PREFIX = "import refused, nothing was written: "


@pytest.fixture(scope="module")
def module_state(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        archives = export_demo_once(
            tmp_path_factory.mktemp("good"), profiles=(FULL, GBIF_PROFILE), with_json=True, keep=True
        )
        state = (table_counts(), database_fingerprint())
    yield archives, state
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def archives(module_state) -> dict[str, bytes]:
    return module_state[0]


@pytest.fixture
def snapshot(module_state, db):
    """The database's state: a (non-conflicting) demo project and the shared rows. Calling it
    the first time gives the module's starting state; later calls read the database."""
    calls = iter(range(1000))

    def take():
        if next(calls) == 0:
            return module_state[1]
        return table_counts(), database_fingerprint()

    return take


def _refused(path, *extra) -> str:
    with pytest.raises(CommandError) as caught:
        call_command("import_project", str(path), "--create-missing-users", "--quiet", *extra)
    message = str(caught.value)
    assert "\n" not in message and "\r" not in message, f"not one line: {message!r}"
    assert message.startswith(PREFIX), message
    return message


def test_the_undamaged_archive_imports(archives, snapshot, tmp_path):
    """Control: without a defect the same archive imports into the same database."""
    before = snapshot()
    path = tmp_path / "good.zip"
    path.write_bytes(archives[FULL])
    call_command("import_project", str(path), "--create-missing-users", "--quiet")
    assert snapshot() != before


_DAMAGED: dict[str, bytes | NotApplicable] = {}


def _make(defect, archive: bytes) -> bytes:
    """The damaged archive (made once per module); raises NotApplicable."""
    if defect.name not in _DAMAGED:
        try:
            _DAMAGED[defect.name] = defect.make(archive, all_tables())
        except NotApplicable as reason:
            _DAMAGED[defect.name] = reason
    made = _DAMAGED[defect.name]
    if isinstance(made, NotApplicable):
        raise made
    return made


def _damaged(defect, archive: bytes) -> bytes:
    try:
        return _make(defect, archive)
    except NotApplicable as reason:
        pytest.skip(f"not applicable to the demo export: {reason}")


@pytest.mark.parametrize("defect", DEFECTS, ids=lambda defect: defect.name)
def test_each_defect_is_refused_and_nothing_is_written(defect, archives, snapshot, tmp_path):
    bad = _damaged(defect, archives[FULL])
    path = tmp_path / "bad.zip"
    path.write_bytes(bad)
    report = validate_archive(bad, profile=FULL, tables=all_tables())
    flagged = [f for f in report.findings if f.code == defect.code]
    if report.ok:
        why = "a warning" if flagged else "not flagged"
        pytest.skip(
            f"{defect.code} is {why} in the full profile ({defect.profile or 'any'} profile defect): "
            "not bad input for an import"
        )
    before = snapshot()
    message = _refused(path)
    assert snapshot() == before
    # the rule and its place: the first blocking finding, as the validator reports it
    first = report.blocking[0]
    assert f"[{first.severity.value} #{first.item} {first.code}]" in message
    assert first.location() in message
    if first.file:
        assert first.file in message
    if first.line is not None:
        assert f"line {first.line}" in message
    if first.column is not None:
        assert f"column {first.column}" in message
    # and the defect itself is among the blocking findings (a defect meant for another profile
    # may be only a warning in the full one: the import is refused for what follows from it)
    if defect.profile in (None, FULL):
        assert any(f.code == defect.code for f in report.blocking), message


def test_enough_defects_apply(archives):
    applicable = []
    for defect in DEFECTS:
        try:
            _make(defect, archives[FULL])
        except NotApplicable:
            continue
        applicable.append(defect.name)
    assert len(applicable) >= 30, applicable


# -- not corpus defects -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"eventID\teventDate\nnot a zip at all\n", "DWCA_UNREADABLE"),
        (b"", "DWCA_UNREADABLE"),
        (b"PK\x03\x04" + b"\0" * 100, "DWCA_UNREADABLE"),
    ],
    ids=["not_a_zip", "empty_file", "zip_header_only"],
)
def test_unreadable_files_are_refused(content, expected, snapshot, tmp_path):
    path = tmp_path / "bad.zip"
    path.write_bytes(content)
    before = snapshot()
    message = _refused(path)
    assert expected in message and "bad.zip" in message
    assert snapshot() == before


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.999])
def test_truncated_archive_is_refused(fraction, archives, snapshot, tmp_path):
    data = archives[FULL]
    path = tmp_path / "truncated.zip"
    path.write_bytes(data[: int(len(data) * fraction)])
    before = snapshot()
    message = _refused(path)
    assert "truncated.zip" in message and "DWCA_UNREADABLE" in message
    assert snapshot() == before


def test_a_directory_is_refused(snapshot, tmp_path):
    before = snapshot()
    message = _refused(tmp_path)
    assert str(tmp_path) in message
    assert snapshot() == before


def test_a_missing_file_is_refused(snapshot, tmp_path):
    before = snapshot()
    missing = tmp_path / "nowhere.zip"
    message = _refused(missing)
    assert "nowhere.zip" in message
    assert snapshot() == before


def _json_export(archives) -> dict:
    return json.loads(archives["json"])


def _json_case(tmp_path, name: str, document) -> str:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def test_the_undamaged_json_imports(archives, snapshot, tmp_path):
    before = snapshot()
    call_command(
        "import_project",
        str(_json_case(tmp_path, "good.json", _json_export(archives))),
        "--create-missing-users",
        "--quiet",
    )
    assert snapshot() != before


def test_json_with_a_newer_format_version_is_refused(archives, snapshot, tmp_path):
    document = _json_export(archives)
    document["format_version"] = 99
    before = snapshot()
    message = _refused(_json_case(tmp_path, "newer.json", document))
    assert "newer.json" in message and "FORMAT_VERSION_UNSUPPORTED" in message and "99" in message
    assert snapshot() == before


@pytest.mark.parametrize(
    "case",
    ["not_json", "a_list", "no_format_version", "models_not_a_list", "row_not_an_object", "string_format_version"],
)
def test_json_with_a_bad_shape_is_refused(case, archives, snapshot, tmp_path, request):
    document = _json_export(archives)
    expected = {
        "not_json": "JSON_INVALID",
        "a_list": "JSON_NOT_AN_EXPORT",
        "no_format_version": "JSON_NOT_AN_EXPORT",
        "models_not_a_list": "JSON_SHAPE",
        "row_not_an_object": "JSON_SHAPE",
        "string_format_version": "FORMAT_VERSION_UNSUPPORTED",
    }[case]
    if case == "not_json":
        document = '{"format_version": 1, "project": {'
    elif case == "a_list":
        document = [document]
    elif case == "no_format_version":
        del document["format_version"]
    elif case == "models_not_a_list":
        document["models"]["main.Deployment"] = {"not": "a list"}
    elif case == "row_not_an_object":
        document["models"]["main.Deployment"] = ["not an object"]
    elif case == "string_format_version":
        document["format_version"] = "1"
    before = snapshot()
    message = _refused(_json_case(tmp_path, f"{case}.json", document))
    assert f"{case}.json" in message and expected in message, message
    assert snapshot() == before


def test_a_gbif_profile_archive_is_refused(archives, snapshot, tmp_path):
    path = tmp_path / "gbif.zip"
    path.write_bytes(archives[GBIF_PROFILE])
    before = snapshot()
    message = _refused(path)
    assert "gbif.zip" in message and "full" in message, message
    assert snapshot() == before
