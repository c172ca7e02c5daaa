"""Both profiles of the demo project: valid, readable by common tools, complete, private, stable."""

import re

import pytest
from dwca.read import DwCAReader
from lxml import etree

from ami.main.models import Classification, Detection, Occurrence, Project
from dwca_port.export import ExportError, export_project
from dwca_port.schemas import DWC_TEXT, EML_2_2_0, GBIF_PROFILE_1_3, load_schema
from dwca_port.tables import tables_for_profile
from dwca_port.validate import validate_archive
from tests.portability.helpers import column, data_files, members, rows

pytestmark = pytest.mark.django_db
REGISTERED = {
    "http://rs.tdwg.org/dwc/terms/Event",
    "http://rs.tdwg.org/dwc/terms/Occurrence",
    "http://rs.tdwg.org/eco/terms/Event",
    "http://rs.iobis.org/obis/terms/ExtendedMeasurementOrFact",
    "http://rs.gbif.org/terms/1.0/Multimedia",
}


@pytest.mark.parametrize("profile", ["gbif", "full"])
def test_profiles_validate_and_match_the_schemas(demo, export, profile):
    path = export(demo, profile)
    report = validate_archive(path, profile=profile)
    assert report.ok, [str(f) for f in report.blocking]
    files = members(path)
    load_schema(DWC_TEXT).assertValid(etree.fromstring(files["meta.xml"]))
    eml = etree.fromstring(files["eml.xml"])
    load_schema(EML_2_2_0).assertValid(eml)
    load_schema(GBIF_PROFILE_1_3).assertValid(eml)


@pytest.mark.parametrize("profile", ["gbif", "full"])
def test_python_dwca_reader_and_pandas_read_every_row(demo, export, profile):
    path = export(demo, profile)
    expected = {t.file: len(rows(path, t.file)) for t in tables_for_profile(profile)}
    with DwCAReader(str(path)) as reader:
        core_rows = extension_rows = 0
        for row in reader:
            core_rows += 1
            extension_rows += len(row.extensions)
        assert core_rows == expected["event.txt"] == 6
        assert extension_rows == sum(n for f, n in expected.items() if f != "event.txt")
        for table in tables_for_profile(profile):
            if table.file == "event.txt" or not expected[table.file]:
                continue
            frame = reader.pd_read(table.file)
            assert len(frame) == expected[table.file], table.file


def test_full_profile_holds_every_occurrence_detection_and_classification(demo, export):
    path = export(demo)
    occurrences = dict(
        zip(
            column(path, "antenna_occurrence.txt", "occurrenceID"),
            column(path, "antenna_occurrence.txt", "determinationScore"),
        )
    )
    assert {str(o.uuid): o.determination_score for o in Occurrence.objects.filter(project=demo)} == {
        k: float(v) for k, v in occurrences.items()
    }
    boxes = dict(
        zip(column(path, "antenna_detection.txt", "detectionID"), column(path, "antenna_detection.txt", "bbox"))
    )
    assert {str(d.uuid): d.bbox for d in Detection.objects.filter(source_image__project=demo)} == {
        k: eval(v) for k, v in boxes.items()
    }
    scores = dict(
        zip(
            column(path, "antenna_classification.txt", "classificationID"),
            column(path, "antenna_classification.txt", "score"),
        )
    )
    assert {str(c.uuid): c.score for c in Classification.objects.filter(detection__source_image__project=demo)} == {
        k: float(v) for k, v in scores.items()
    }


def test_gbif_profile_is_registered_and_private(demo, export):
    path = export(demo, "gbif")
    meta = etree.fromstring(members(path)["meta.xml"])
    assert {e.get("rowType") for e in meta if e.get("rowType")} <= REGISTERED
    for name, data in members(path).items():
        assert not re.search(rb"[\w.+-]+@[\w-]+\.[\w.]+", data), name
        assert b"Demo Taxonomist" not in data and b"Demo Project Manager" not in data, name


@pytest.mark.parametrize("profile", ["gbif", "full"])
def test_no_storage_credentials(demo, export, profile):
    for name, data in members(export(demo, profile)).items():
        assert b"DEMO-ACCESS-KEY-NOT-REAL" not in data and b"demo-secret-key-not-real" not in data, name


def test_identifiers_survive_a_rename_and_exports_are_deterministic(demo, export):
    first = export(demo)
    second = export(demo)
    assert data_files(first) == data_files(second)
    assert members(first)["meta.xml"] == members(second)["meta.xml"]
    demo.name = "Renamed project"
    demo.save()
    renamed = export(demo)
    for member in ("event.txt", "occurrence.txt", "measurementorfact.txt"):
        assert column(renamed, member, "eventID") == column(first, member, "eventID")
    assert column(renamed, "occurrence.txt", "occurrenceID") == column(first, "occurrence.txt", "occurrenceID")


def test_gbif_profile_needs_an_accepted_licence(demo, tmp_path):
    demo.license = "All rights reserved"
    demo.save()
    with pytest.raises(ExportError, match="no licence GBIF accepts"):
        export_project(demo, tmp_path / "x.zip", profile="gbif")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_default_filters_decide_what_is_published(demo, export):
    assert len(rows(export(demo, "gbif"), "occurrence.txt")) == 95
    demo.default_filters_score_threshold = 0.9
    demo.save()
    published = Occurrence.objects.filter(project=demo, determination_score__gte=0.9).count()
    assert 0 < published < 95
    assert len(rows(export(Project.objects.get(pk=demo.pk), "gbif"), "occurrence.txt")) == published


def test_a_refused_export_lists_blocking_findings_first_with_their_true_severity():
    from dwca_port.export import refusal
    from dwca_port.findings import Finding, Report, Severity

    report = Report()
    report.add(Finding(25, "REFERENCE_NOT_FOUND", Severity.LOCAL, "not among the ids", file="a.txt", line=3))
    report.add(Finding(0, "EXTRA", Severity.WARNING, "a warning", file="a.txt"))
    report.add(Finding(4, "DATA_FILE_NOT_FOUND", Severity.BLOCKING, "not in the archive", file="meta.xml"))
    lines = refusal(report).split("\n")
    assert lines[0] == (
        "the exported archive does not pass validation (1 blocking, 1 local-rule findings; B blocking, L local rule):"
    )
    assert lines[1] == "  meta.xml: not in the archive [B #4 DATA_FILE_NOT_FOUND]"
    assert lines[2] == "  a.txt, line 3: not among the ids [L #25 REFERENCE_NOT_FOUND]"
    assert len(lines) == 3
