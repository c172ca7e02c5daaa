"""python manage.py validate_archive: grouped findings, --json, exit codes, never a traceback."""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

import dwca_port.validate
from tests.archive_corpus import DEFECTS, SAMPLE_TABLES, sample_archive

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def sample_declarations(monkeypatch):
    """The command takes the registry's declarations; here, those of the sample archive."""
    monkeypatch.setattr(dwca_port.validate, "registry_tables", lambda: SAMPLE_TABLES)


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "good.zip"
    path.write_bytes(sample_archive())
    return path


@pytest.fixture
def bad(tmp_path):
    defect = next(defect for defect in DEFECTS if defect.name == "dangling_coreid")
    path = tmp_path / "bad.zip"
    path.write_bytes(defect.make(sample_archive(), SAMPLE_TABLES))
    return path


def run(*args):
    out = io.StringIO()
    try:
        call_command("validate_archive", *map(str, args), stdout=out)
        code = 0
    except CommandError as error:
        code = error.returncode
    return code, out.getvalue()


def test_a_good_archive_exits_0_and_lists_its_warnings(good):
    code, out = run(good)
    assert code == 0
    assert out.splitlines()[0] == f"{good}: valid (0 blocking, 4 warning(s))"
    assert "meta.xml" in out.splitlines() and "[W #15 UNKNOWN_ROWTYPE]" in out


def test_a_bad_archive_exits_1_with_findings_grouped_by_file(bad):
    code, out = run(bad)
    assert code == 1
    lines = out.splitlines()
    assert "NOT valid" in lines[0]
    place = lines.index("occurrence.txt")
    assert lines[place + 1].startswith("  line 2, column 1: coreid ") and lines[place + 1].endswith(
        "[B #25 RECORD_REFERENTIAL_INTEGRITY_VIOLATION]"
    )


def test_json_report(bad, good):
    code, out = run(bad, "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False and report["blocking"] >= 1
    finding = next(
        finding for finding in report["findings"] if finding["code"] == "RECORD_REFERENTIAL_INTEGRITY_VIOLATION"
    )
    assert finding == {**finding, "item": 25, "severity": "B", "file": "occurrence.txt", "line": 2, "column": 1}
    code, out = run(good, "--json", "--profile", "gbif")
    assert code == 1 and json.loads(out)["profile"] == "gbif"  # Antenna rowTypes block in the gbif profile


@pytest.mark.parametrize("target", ["missing.zip", ".", "garbage"])
def test_unreadable_input_is_one_clear_line_and_exit_1(tmp_path, target):
    path = tmp_path / target
    if target == "garbage":
        path.write_bytes(b"\x00\x01garbage")
    code, out = run(path)
    assert code == 1 and "[B #1 DWCA_UNREADABLE]" in out


def test_real_process_exit_codes_and_no_traceback(tmp_path):
    garbage = tmp_path / "x.zip"
    garbage.write_bytes(b"PK\x03\x04 truncated")
    for args, expected, said in (
        ([str(garbage)], 1, "truncated or damaged zip"),
        ([str(garbage), "--profile", "nope"], 2, "invalid choice"),
    ):
        done = subprocess.run(
            [sys.executable, "manage.py", "validate_archive", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == expected
        assert said in done.stdout + done.stderr and "Traceback" not in done.stdout + done.stderr


def test_a_validator_failure_is_reported_not_raised(monkeypatch, good):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("dwca_port.management.commands.validate_archive.validate_archive", broken)
    code, out = run(good)
    assert code == 2
