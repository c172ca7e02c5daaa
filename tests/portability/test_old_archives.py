"""Archives written by earlier versions of the toolkit still import losslessly, through the upgrade steps."""

from pathlib import Path

import pytest

from ami.main.models import Project
from dwca_port.export import export_project
from dwca_port.importer import ImportOptions, import_project
from tests.portability.helpers import data_files

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "archives"


def _antenna_tables(path: Path, columns: list[str] | None = None) -> dict[str, list[str]]:
    """The Antenna tables' lines; of the project table only `columns` (default: all), its layout
    version left out (it is the writer's)."""
    tables = {name: data.decode().split("\n") for name, data in data_files(path).items() if name.startswith("antenna_")}
    project = [line.split("\t") for line in tables["antenna_project.txt"] if line]
    kept = [name for name in (columns or project[0]) if name != "formatVersion"]
    positions = [project[0].index(name) for name in kept]
    tables["antenna_project.txt"] = ["\t".join(cells[i] for i in positions) for cells in project]
    return tables


def _project_columns(path: Path) -> list[str]:
    return data_files(path)["antenna_project.txt"].decode().split("\n", 1)[0].split("\t")


@pytest.mark.parametrize("version", [1, 2])
def test_the_demo_archive_of_an_older_layout_imports_losslessly(tmp_path, version):
    archive = FIXTURES / f"demo-full-format{version}.zip"
    report = import_project(archive, ImportOptions(create_missing_users=True))
    assert report.format_version == version
    assert report.provenance == {"antennaSchema": None, "toolkitVersion": None, "sourceInstance": None}
    assert report.models["main.Occurrence"].created == 95
    assert not report.cache_differences, report.cache_difference_examples
    again = tmp_path / "again.zip"
    export_project(Project.objects.get(), again)
    # Every Antenna table re-exports as it was; the project table gained the provenance columns.
    old_columns = _project_columns(archive)
    assert _antenna_tables(again, old_columns) == _antenna_tables(archive)
    assert set(_project_columns(again)) - set(old_columns) == {"antennaSchema", "toolkitVersion", "sourceInstance"}
