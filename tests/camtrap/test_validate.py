"""The package check is the standard's: the standard's own example passes it, and broken copies
of it are refused with the file, the line and the field named."""

from __future__ import annotations

import json
import zipfile

import pytest
from django.core.management import CommandError, call_command

from dwca_port.formats.camtrap_dp.validate import is_package, validate_package
from tests.camtrap.helpers import EXAMPLE, copy_package, edit_csv


def test_the_standards_example_passes():
    report = validate_package(EXAMPLE)
    assert report.findings == []


def test_a_zipped_example_passes(tmp_path):
    path = tmp_path / "example.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for file in EXAMPLE.iterdir():
            archive.write(file, file.name)
    assert is_package(path)
    assert validate_package(path).findings == []


def _broken(tmp_path, file, change):
    package = copy_package(EXAMPLE, tmp_path / "broken")
    edit_csv(package / file, change)
    return validate_package(package)


def test_a_missing_required_column_is_named_once(tmp_path):
    def drop_file_path(rows):
        index = rows[0].index("filePath")
        return [row[:index] + row[index + 1 :] for row in rows]

    report = _broken(tmp_path, "media.csv", drop_file_path)
    assert not report.ok
    [finding] = report.findings
    assert (finding.file, finding.line, finding.term) == ("media.csv", 1, "filePath")
    assert "required" in finding.message


def test_a_foreign_key_to_no_deployment_is_refused(tmp_path):
    def orphan(rows):
        rows[3][rows[0].index("deploymentID")] = "no-such-deployment"
        return rows

    report = _broken(tmp_path, "media.csv", orphan)
    [finding] = report.findings
    assert (finding.file, finding.line, finding.term) == ("media.csv", 4, "deploymentID")
    assert "'no-such-deployment' refers to no row of deployments.csv" in finding.message


def test_a_bbox_outside_0_1_is_refused(tmp_path):
    def too_wide(rows):
        rows[2][rows[0].index("bboxX")] = "1.5"
        return rows

    report = _broken(tmp_path, "observations.csv", too_wide)
    [finding] = report.findings
    assert (finding.file, finding.line, finding.term) == ("observations.csv", 3, "bboxX")
    assert 'constraint "maximum" is "1"' in finding.message


@pytest.mark.parametrize(
    ("file", "column", "value", "rule"),
    [
        ("observations.csv", "observationLevel", "frame", "enum"),
        ("media.csv", "filePath", "../outside.jpg", "pattern"),
        ("media.csv", "timestamp", "yesterday", "type"),
        ("media.csv", "mediaID", "", "required"),
    ],
)
def test_types_enums_patterns_and_required_cells(tmp_path, file, column, value, rule):
    def change(rows):
        rows[1][rows[0].index(column)] = value
        return rows

    report = _broken(tmp_path, file, change)
    assert report.findings, rule
    first = report.findings[0]
    assert (first.file, first.line, first.term) == (file, 2, column)


def test_a_duplicate_primary_key_is_refused(tmp_path):
    def duplicate(rows):
        rows[2][0] = rows[1][0]
        return rows

    report = _broken(tmp_path, "deployments.csv", duplicate)
    assert any(f.file == "deployments.csv" and f.line == 3 and "primary" in f.code.lower() for f in report.findings)


def test_the_descriptor_is_checked_against_the_profile(tmp_path):
    package = copy_package(EXAMPLE, tmp_path / "broken")
    descriptor = json.loads((package / "datapackage.json").read_text())
    del descriptor["project"]["samplingDesign"]
    descriptor["temporal"]["start"] = "last spring"
    (package / "datapackage.json").write_text(json.dumps(descriptor))
    messages = [str(f) for f in validate_package(package).findings]
    assert any("project: 'samplingDesign' is a required property" in m for m in messages), messages
    assert any("temporal/start" in m for m in messages), messages


def test_an_unknown_schema_version_is_said(tmp_path):
    package = copy_package(EXAMPLE, tmp_path / "other")
    descriptor = json.loads((package / "datapackage.json").read_text())
    descriptor["resources"][1]["schema"] = descriptor["resources"][1]["schema"].replace("1.0.2", "1.0.1")
    (package / "datapackage.json").write_text(json.dumps(descriptor))
    report = validate_package(package)
    assert any(f.code == "CAMTRAP_SCHEMA_UNKNOWN" and "1.0.1" in f.message for f in report.findings)


def test_a_descriptor_that_is_not_json_is_one_finding(tmp_path):
    package = copy_package(EXAMPLE, tmp_path / "bad")
    (package / "datapackage.json").write_text("{not json")
    [finding] = validate_package(package).findings
    assert finding.file == "datapackage.json" and "not JSON" in finding.message


def test_the_command_checks_a_package(tmp_path, capsys):
    call_command("validate_archive", str(EXAMPLE))
    assert "valid (0 blocking" in capsys.readouterr().out

    package = copy_package(EXAMPLE, tmp_path / "broken")
    edit_csv(package / "media.csv", lambda rows: [*rows, [rows[1][0], "nowhere", *rows[1][2:]]])
    with pytest.raises(CommandError) as refused:
        call_command("validate_archive", str(package))
    assert refused.value.returncode == 1
    out = capsys.readouterr().out
    assert "media.csv" in out and "(deploymentID)" in out


def test_a_zip_with_an_unsafe_member_is_refused_before_anything_is_extracted(tmp_path):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for file in EXAMPLE.iterdir():
            archive.write(file, file.name)
        archive.writestr("../outside.csv", "x\n")
    report = validate_package(path)
    assert not report.ok and len(report.findings) == 1
    assert not (tmp_path.parent / "outside.csv").exists()
