"""Archives written by earlier versions of the toolkit still import losslessly."""

from pathlib import Path

import pytest

from ami.main.models import Project
from dwca_port.export import export_project
from dwca_port.importer import ImportOptions, import_project
from tests.portability.helpers import data_files

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "archives"


def _antenna_tables(path: Path) -> dict[str, list[str]]:
    """The Antenna tables' lines, the project's layout version left out (it is the writer's)."""
    tables = {name: data.decode().split("\n") for name, data in data_files(path).items() if name.startswith("antenna_")}
    project = tables["antenna_project.txt"]
    version = project[0].split("\t").index("formatVersion")
    tables["antenna_project.txt"] = [
        "\t".join(c for i, c in enumerate(line.split("\t")) if i != version) for line in project if line
    ]
    return tables


def test_the_format_1_demo_archive_imports_losslessly(tmp_path):
    archive = FIXTURES / "demo-full-format1.zip"
    report = import_project(archive, ImportOptions(create_missing_users=True), progress=None)
    assert report.models["main.Occurrence"].created == 95
    assert not report.cache_differences, report.cache_difference_examples
    again = tmp_path / "again.zip"
    export_project(Project.objects.get(), again, progress=None)
    assert _antenna_tables(again) == _antenna_tables(archive)
