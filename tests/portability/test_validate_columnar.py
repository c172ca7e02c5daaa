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


def test_a_dangling_reference_falls_back_to_the_precise_reader(demo, export, tmp_path):
    path = export(demo, FULL, validate=False)
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(broken, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "antenna_detection.txt":
                lines = data.split(b"\n")
                cells = lines[1].split(b"\t")
                column = lines[0].split(b"\t").index(b"sourceImageID")
                cells[column] = b"0badf00d-0000-4000-8000-00000000d00d"  # the first detection's image
                lines[1] = b"\t".join(cells)
                data = b"\n".join(lines)
            target.writestr(info, data)
    precise = validate_archive(broken, columnar=False)
    columnar = validate_archive(broken, columnar=True)
    assert not columnar.columnar
    assert columnar.findings == precise.findings
    assert any(f.code == "REFERENCE_NOT_FOUND" and f.file == "antenna_detection.txt" for f in precise.findings)
