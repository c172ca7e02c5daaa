"""What an archive records about its versions and source, the upgrade window, and refusals outside it."""

from __future__ import annotations

import datetime
import zipfile
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from lxml import etree

from dwca_port.formats import open_source
from dwca_port.importer import ImportOptions, ImportRefused, import_project
from dwca_port.upgrades import UPGRADES, UpgradedSource, archived_version, steps_from, upgraded
from dwca_port.validate import validate_archive
from dwca_port.versions import FORMAT_VERSION, OLDEST_FORMAT_VERSION, toolkit_version
from tests.portability.helpers import table_counts, wipe_graph

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "archives"


def _project_row(path: Path) -> dict[str, str]:
    header, *cells = (line.split("\t") for line in _member(path, "antenna_project.txt").decode().split("\n") if line)
    return dict(zip(header, cells[0]))


def _member(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name)


def _with_version(source: Path, target: Path, version: str) -> Path:
    """A copy of `source` whose project row states layout `version`."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == "antenna_project.txt":
                header, row, *rest = data.decode().split("\n")
                cells = row.split("\t")
                cells[header.split("\t").index("formatVersion")] = version
                data = "\n".join([header, "\t".join(cells), *rest]).encode()
            new.writestr(info, data)
    return target


def test_an_archive_records_its_layout_schema_toolkit_instance_and_export_time(demo, export, settings):
    settings.DWCA_SOURCE_INSTANCE = "antenna.example.org"
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    path = export(demo)
    row = _project_row(path)
    assert row["formatVersion"] == str(FORMAT_VERSION)
    assert row["toolkitVersion"] == toolkit_version() != "unknown"
    assert row["sourceInstance"] == "antenna.example.org"
    applied = MigrationRecorder(connection).applied_migrations()
    latest_main = max(name for app, name in applied if app == "main")
    assert f"main {latest_main}" in row["antennaSchema"].split("; ")
    assert [part.split()[0] for part in row["antennaSchema"].split("; ")] == ["exports", "jobs", "main", "ml", "users"]
    eml = etree.fromstring(_member(path, "eml.xml"))
    stamp = datetime.datetime.fromisoformat(eml.findtext(".//additionalMetadata/metadata/gbif/dateStamp"))
    assert before <= stamp <= datetime.datetime.now(datetime.UTC)


def test_an_unnamed_instance_leaves_the_source_instance_empty(demo, export, settings):
    settings.DWCA_SOURCE_INSTANCE = ""
    assert _project_row(export(demo))["sourceInstance"] == ""


def test_an_import_reports_the_archive_s_versions_and_source(demo, export, settings):
    settings.DWCA_SOURCE_INSTANCE = "antenna.example.org"
    path = export(demo)
    wipe_graph()
    report = import_project(path, ImportOptions(create_missing_users=True))
    assert report.format_version == FORMAT_VERSION
    assert report.provenance["sourceInstance"] == "antenna.example.org"
    assert report.as_dict()["provenance"]["toolkitVersion"] == toolkit_version()


def test_every_version_of_the_window_has_its_upgrade_step():
    assert sorted(UPGRADES) == list(range(OLDEST_FORMAT_VERSION, FORMAT_VERSION))
    assert steps_from(FORMAT_VERSION) == []
    assert steps_from(1) == [UPGRADES[1], UPGRADES[2]]
    assert steps_from(2) == [UPGRADES[2]]


def test_an_older_archive_is_read_through_its_steps_as_today_s_layout():
    source = open_source(FIXTURES / "demo-full-format2.zip")
    try:
        assert archived_version(source) == 2
        reader = upgraded(source)
        assert isinstance(reader, UpgradedSource) and reader.steps == [UPGRADES[2]]
        assert archived_version(reader) == FORMAT_VERSION
    finally:
        source.close()


@pytest.mark.parametrize(
    ("version", "message"),
    [
        (
            "0",
            f"archive format version 0 is older than this toolkit reads (versions {OLDEST_FORMAT_VERSION} to "
            f"{FORMAT_VERSION}); re-export it with an older toolkit first",
        ),
        (
            "99",
            f"archive format version 99 is newer than this toolkit reads ({FORMAT_VERSION}); upgrade the toolkit",
        ),
    ],
)
def test_an_archive_outside_the_window_is_refused_naming_both_versions(tmp_path, version, message):
    archive = _with_version(FIXTURES / "demo-full-format2.zip", tmp_path / "odd.zip", version)
    findings = [f for f in validate_archive(archive).blocking if f.code == "FORMAT_VERSION_UNSUPPORTED"]
    assert [f.message for f in findings] == [message]
    before = table_counts()
    with pytest.raises(ImportRefused) as refused:
        import_project(archive, ImportOptions(create_missing_users=True))
    assert message in str(refused.value) and "antenna_project.txt, line 2" in str(refused.value)
    assert table_counts() == before


def test_a_json_document_outside_the_window_is_refused(tmp_path):
    document = tmp_path / "old.json"
    document.write_text('{"format_version": 0, "project": {}}')
    with pytest.raises(ImportRefused, match="archive format version 0 is older than this toolkit reads"):
        import_project(document, ImportOptions())
