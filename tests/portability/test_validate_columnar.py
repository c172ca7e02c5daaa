"""A real export is proven clean by the columnar fast path of validation, with the precise reader's findings;
a broken reference in it is not, and the precise reader names it."""

import zipfile

import pytest

from dwca_port.tables.base import FULL, GBIF_PROFILE
from dwca_port.validate import validate_archive

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("profile", (FULL, GBIF_PROFILE))
def test_a_real_export_is_proven_clean_with_the_same_findings(demo, export, profile):
    path = export(demo, profile, validate=False)
    precise = validate_archive(path, profile=profile, columnar=False)
    columnar = validate_archive(path, profile=profile, columnar=True)
    assert columnar.columnar, "\n".join(map(str, precise.findings))
    assert columnar.findings == precise.findings


def _with_cell(path, broken, member: str, column_name: bytes, value: bytes):
    """A copy of the archive at `path` with the first row's `column_name` of `member` set to `value`."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(broken, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == member:
                lines = data.split(b"\n")
                cells = lines[1].split(b"\t")
                cells[lines[0].split(b"\t").index(column_name)] = value
                lines[1] = b"\t".join(cells)
                data = b"\n".join(lines)
            target.writestr(info, data)
    return broken


def test_a_dangling_reference_falls_back_to_the_precise_reader(demo, export, tmp_path):
    path = export(demo, FULL, validate=False)
    # the first detection's image
    broken = _with_cell(
        path,
        tmp_path / "broken.zip",
        "antenna_detection.txt",
        b"sourceImageID",
        b"0badf00d-0000-4000-8000-00000000d00d",
    )
    precise = validate_archive(broken, columnar=False)
    columnar = validate_archive(broken, columnar=True)
    assert not columnar.columnar
    assert columnar.findings == precise.findings
    assert any(f.code == "REFERENCE_NOT_FOUND" and f.file == "antenna_detection.txt" for f in precise.findings)


@pytest.mark.parametrize(
    ("member", "column", "value", "code"),
    (
        ("antenna_deployment.txt", b"name", b"n" * 81, "VALUE_OUT_OF_RANGE"),  # varchar(80)
        ("antenna_sourceimage.txt", b"width", b"99999999999999999999", "VALUE_OUT_OF_RANGE"),  # past an integer
    ),
)
def test_a_value_past_its_columns_limits_is_not_proven_clean(demo, export, tmp_path, member, column, value, code):
    broken = _with_cell(export(demo, FULL, validate=False), tmp_path / "broken.zip", member, column, value)
    precise = validate_archive(broken, columnar=False)
    columnar = validate_archive(broken, columnar=True)
    assert not columnar.columnar
    assert columnar.findings == precise.findings
    assert any(f.code == code and f.file == member for f in precise.findings), precise.findings
