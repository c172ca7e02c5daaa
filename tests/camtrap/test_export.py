"""export_project --format camtrap-dp: a package that passes the standard's check, and agrees
record by record with the database and with the Darwin Core Archive of the same project."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ami.main.models import Deployment, Detection, SourceImage
from ami.main.synthetic import SyntheticSpec, seed_synthetic_project
from dwca_port.export import ExportError, export_project
from dwca_port.formats.camtrap_dp.validate import validate_package
from dwca_port.tables.camtrap.observations import box
from tests.camtrap.helpers import descriptor, files, records
from tests.portability.helpers import column, header, rows

pytestmark = pytest.mark.django_db
on_postgres = connection.vendor == "postgresql"


def _ids(path, name, **where) -> set[str]:
    return {r[next(iter(r))] for r in records(path, name) if all(r[key] == value for key, value in where.items())}


def test_the_demo_package_validates_as_a_zip_and_as_a_folder(demo, package):
    for name in ("demo.zip", "demo/"):
        path = package(demo, name)
        assert validate_package(path).findings == []
    assert files(package(demo, "again.zip")).keys() == {
        "deployments.csv",
        "media.csv",
        "observations.csv",
        "datapackage.json",
    }


def test_record_counts_agree_with_the_database_and_the_archive(demo, package, tmp_path):
    path = package(demo)
    gbif, full = tmp_path / "gbif.zip", tmp_path / "full.zip"
    export_project(demo, gbif, profile="gbif")
    export_project(demo, full, profile="full")

    deployments = {str(u) for u in Deployment.objects.filter(project=demo).values_list("uuid", flat=True)}
    captures = {str(u) for u in SourceImage.objects.filter(project=demo).values_list("uuid", flat=True)}
    occurrences = set(column(gbif, "occurrence.txt", "occurrenceID"))
    detections = {
        str(u)
        for u in Detection.objects.filter(occurrence__uuid__in=occurrences, source_image__project=demo).values_list(
            "uuid", flat=True
        )
    }
    assert occurrences and detections

    surveys = {r[0] for r in rows(gbif, "event.txt") if r[header(gbif, "event.txt").index("eventType")] == "Survey"}
    assert _ids(path, "deployments.csv") == deployments == surveys
    assert _ids(path, "media.csv") == captures == set(column(full, "antenna_sourceimage.txt", "sourceImageID"))
    assert _ids(path, "observations.csv", observationLevel="event") == occurrences
    assert _ids(path, "observations.csv", observationLevel="media") == detections
    assert detections <= set(column(full, "antenna_detection.txt", "detectionID"))


def test_observations_link_detections_to_their_occurrence_and_capture(demo, package):
    path = package(demo)
    observations = records(path, "observations.csv")
    events = {r["observationID"]: r for r in observations if r["observationLevel"] == "event"}
    media = [r for r in observations if r["observationLevel"] == "media"]
    for row in media:
        detection = Detection.objects.select_related("source_image", "occurrence").get(uuid=row["observationID"])
        assert row["mediaID"] == str(detection.source_image.uuid)
        assert row["eventID"] == str(detection.occurrence.uuid)
        event = events[row["eventID"]]
        assert event["eventStart"] <= row["eventStart"] <= event["eventEnd"]
    boxed = [r for r in media if r["bboxX"]]
    assert boxed, "the demo's detections have boxes and its captures sizes"
    for row in boxed:
        assert all(0 <= float(row[k]) <= 1 for k in ("bboxX", "bboxY", "bboxWidth", "bboxHeight"))
    assert {r["classificationMethod"] for r in events.values()} <= {"human", "machine"}
    assert any(r["classificationMethod"] == "human" for r in events.values()), "the demo has verified records"
    assert all("@" not in r["classifiedBy"] for r in observations)


def test_the_descriptor_says_what_the_eml_says(demo, package):
    meta = descriptor(package(demo))
    assert meta["profile"].endswith("/1.0.2/camtrap-dp-profile.json")
    assert meta["id"] == str(demo.uuid)
    assert meta["title"] == demo.name
    assert [licence["scope"] for licence in meta["licenses"]] == ["data", "media"]
    assert meta["project"]["captureMethod"] == ["timeLapse"]
    assert meta["project"]["observationLevel"] == ["event", "media"]
    names = {taxon["scientificName"] for taxon in meta["taxonomic"]}
    observed = {r["scientificName"] for r in records(package(demo, "b.zip"), "observations.csv") if r["scientificName"]}
    assert observed <= names
    assert meta["temporal"]["start"] <= meta["temporal"]["end"]


def test_a_synthetic_project_packages_and_validates(db, package):
    project = seed_synthetic_project(
        SyntheticSpec(images=3000, detections_per_image=1.5, occurrences=600, identifications=50, deployments=3),
        progress=None,
    )
    path = package(project)
    assert validate_package(path).findings == []
    assert len(records(path, "media.csv")) == 3000
    assert len(records(path, "deployments.csv")) == 3


def test_captures_the_standard_cannot_hold_are_left_out_and_counted(demo, package, capsys):
    captures = SourceImage.objects.filter(project=demo).order_by("uuid")
    no_time, no_path = captures[0], captures[1]
    SourceImage.objects.filter(pk=no_time.pk).update(timestamp=None)
    SourceImage.objects.filter(pk=no_path.pk).update(path="")
    path = package(demo)
    media = _ids(path, "media.csv")
    assert str(no_time.uuid) not in media and str(no_path.uuid) not in media
    assert len(media) == captures.count() - 2
    assert validate_package(path).findings == []

    call_command("export_project", "--project", str(demo.pk), "--output", str(path) + "2", "--format", "camtrap-dp")
    out = capsys.readouterr().out
    assert "1 captures without a timestamp left out" in out and "1 captures without a file path left out" in out


def test_a_project_without_an_accepted_licence_is_refused_in_one_line(demo, tmp_path):
    demo.license = ""
    demo.save()
    with pytest.raises(CommandError) as refused:
        call_command(
            "export_project", "--project", str(demo.pk), "--output", str(tmp_path / "p.zip"), "--format", "camtrap-dp"
        )
    assert "no licence" in str(refused.value) and "\n" not in str(refused.value)
    assert not (tmp_path / "p.zip").exists()


def test_a_folder_that_is_not_empty_is_refused(demo, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(ExportError, match="not empty"):
        export_project(demo, f"{tmp_path / 'full'}/", format="camtrap-dp")
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"


@pytest.mark.skipif(not on_postgres, reason="the SQL fast path is PostgreSQL's")
@pytest.mark.parametrize("synthetic", [False, True])
def test_postgresql_writes_the_same_bytes_as_python(demo, package, synthetic):
    project = (
        seed_synthetic_project(SyntheticSpec(images=800, identifications=20), progress=None) if synthetic else demo
    )
    python = files(package(project, "python.zip", in_sql=False))
    sql = files(package(project, "sql.zip", in_sql=True))
    for name in ("deployments.csv", "media.csv", "observations.csv"):
        old, new = python[name].split(b"\n"), sql[name].split(b"\n")
        assert old == new, (name, [(a, b) for a, b in zip(old, new, strict=False) if a != b][:3])


@pytest.mark.parametrize(
    ("bbox", "width", "height", "expected"),
    [
        ([10, 20, 60, 120], 100, 200, {"bboxX": "0.1", "bboxY": "0.1", "bboxWidth": "0.5", "bboxHeight": "0.5"}),
        ([10, 20, 60, 120], None, 200, {}),  # the capture's size unknown
        ([10, 20, 160, 120], 100, 200, {}),  # wider than the capture
        ([60, 20, 10, 120], 100, 200, {}),  # negative width
        ([-5, 20, 60, 120], 100, 200, {}),
        ([10, 20, 60], 100, 200, {}),
        ({"x": 1}, 100, 200, {}),
        ([True, 20, 60, 120], 100, 200, {}),
        (None, 100, 200, {}),
    ],
)
def test_a_box_is_published_only_as_fractions_in_range(bbox, width, height, expected):
    assert box(bbox, width, height) == expected
