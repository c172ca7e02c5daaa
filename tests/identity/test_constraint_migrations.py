"""The constraint migrations on databases that already hold duplicates."""

import json

import pytest
from django.apps import apps as live_apps
from django.core.management import CommandError, call_command
from django.db import connection

from ami.base.unique_violations import DuplicateRowsError
from tests.identity.conftest import BEFORE_DEDUP_CONSTRAINTS, BEFORE_NAME_CONSTRAINTS
from tests.identity.graph import T0

LONG = "N" * 80  # Deployment/Device/Site names are 80 characters at most


@pytest.mark.django_db(transaction=True)
def test_duplicate_names_are_renamed_and_reported(migrator, capsys):
    old = migrator.migrate(BEFORE_NAME_CONSTRAINTS)
    Project, Deployment, Device, Site = (
        old.get_model("main", name) for name in ("Project", "Deployment", "Device", "Site")
    )
    project = Project.objects.create(name="Vermont")
    other = Project.objects.create(name="Quebec")
    traps = [Deployment.objects.create(name="Trap", project=project) for _ in range(3)]
    Deployment.objects.create(name="Trap (2)", project=project)  # the first free suffix is taken
    Deployment.objects.create(name="Trap", project=other)  # another project: not a duplicate
    orphans = [Deployment.objects.create(name="Trap", project=None) for _ in range(2)]  # no project: not constrained
    long_names = [Device.objects.create(name=LONG, project=project) for _ in range(2)]
    sites = [Site.objects.create(name="Field", project=project) for _ in range(2)]
    capsys.readouterr()

    migrator.migrate_to_latest()

    output = capsys.readouterr().out
    Deployment, Device, Site = (live_apps.get_model("main", name) for name in ("Deployment", "Device", "Site"))
    assert [Deployment.objects.get(pk=t.pk).name for t in traps] == ["Trap", "Trap (3)", "Trap (4)"]
    assert {Deployment.objects.get(pk=o.pk).name for o in orphans} == {"Trap"}
    renamed_device = Device.objects.get(pk=long_names[1].pk).name
    assert renamed_device == "N" * 76 + " (2)" and len(renamed_device) == 80
    assert Site.objects.get(pk=sites[1].pk).name == "Field (2)"
    assert "Renamed 2 duplicate main.Deployment name(s)" in output
    assert f'main.Deployment #{traps[1].pk} (project #{project.pk}): "Trap" -> "Trap (3)"' in output
    assert f'main.Site #{sites[1].pk} (project #{project.pk}): "Field" -> "Field (2)"' in output


def insert_duplicate_detections(old_apps):
    """Two detections of the same box, two null markers of one algorithm, and a classification
    written twice, as racing workers leave them upstream."""
    get = old_apps.get_model
    project = get("main", "Project").objects.create(name="Duplicates")
    capture = get("main", "SourceImage").objects.create(path="a.jpg", project=project)
    detector = get("ml", "Algorithm").objects.create(name="Detector", key="detector", version=1)
    classifier = get("ml", "Algorithm").objects.create(name="Classifier", key="classifier", version=1)
    taxon = get("main", "Taxon").objects.create(name="Vanessa cardui")
    occurrence = get("main", "Occurrence").objects.create(project=project, determination=taxon, determination_score=0.8)
    Detection, Classification = get("main", "Detection"), get("main", "Classification")
    box = [
        Detection.objects.create(
            source_image=capture,
            bbox=[1, 2, 3, 4],
            occurrence=occurrence if n == 0 else None,
            path=None if n == 0 else f"crop-{n}.jpg",
        )
        for n in range(2)
    ]
    markers = [
        Detection.objects.create(source_image=capture, bbox=None, detection_algorithm=detector) for _ in range(2)
    ]
    same = {"taxon": taxon, "algorithm": classifier, "score": 0.8, "timestamp": T0}
    first = Classification.objects.create(detection=box[0], **same)
    second = Classification.objects.create(detection=box[1], **same)  # same result, on the duplicate detection
    third = Classification.objects.create(detection=box[0], **same)  # written twice
    identification = get("main", "Identification").objects.create(
        occurrence=occurrence, taxon=taxon, agreed_with_prediction=second
    )
    return {
        "box": box,
        "markers": markers,
        "classifications": [first, second, third],
        "identification": identification,
        "occurrence": occurrence,
    }


@pytest.mark.django_db(transaction=True)
def test_duplicate_detections_stop_the_migration_until_merged(migrator, capsys):
    rows = insert_duplicate_detections(migrator.migrate(BEFORE_DEDUP_CONSTRAINTS))

    # Reported, with ids and exit code 1.
    with pytest.raises(CommandError) as error:
        call_command("check_unique_violations")
    assert error.value.returncode == 1
    output = capsys.readouterr().out
    box, markers = rows["box"], rows["markers"]
    assert "main.Detection.unique_detection_bbox (source_image, bbox) where bbox is not null: 1 group(s)" in output
    assert f"ids {box[0].pk}, {box[1].pk}" in output
    assert f"ids {markers[0].pk}, {markers[1].pk}" in output
    assert "merge_duplicate_detections" in output

    # The migration refuses before building anything, naming the command to run.
    with pytest.raises(DuplicateRowsError, match=r"unique_detection_bbox .*merge_duplicate_detections"):
        migrator.migrate_to_latest()
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, "main_detection")
    assert "unique_detection_bbox" not in indexes

    # A dry run changes nothing.
    call_command("merge_duplicate_detections", "--dry-run")
    assert "Dry run: nothing was changed." in capsys.readouterr().out
    Detection = live_apps.get_model("main", "Detection")
    assert Detection.objects.count() == 4

    call_command("merge_duplicate_detections")
    output = capsys.readouterr().out
    assert f"unique_detection_bbox: kept {box[0].pk}, merged {box[1].pk}" in output
    assert f"unique_detection_null_marker: kept {markers[0].pk}, merged {markers[1].pk}" in output
    first, second, third = rows["classifications"]
    assert f"unique_classification_result: kept {first.pk}, merged {second.pk}, {third.pk}" in output

    kept = Detection.objects.get(pk=box[0].pk)
    assert kept.path == "crop-1.jpg"  # filled from the duplicate
    assert kept.occurrence_id == rows["occurrence"].pk
    assert not Detection.objects.filter(pk__in=[box[1].pk, markers[1].pk]).exists()
    Classification = live_apps.get_model("main", "Classification")
    assert list(Classification.objects.values_list("pk", "detection_id")) == [(first.pk, kept.pk)]
    Identification = live_apps.get_model("main", "Identification")
    assert Identification.objects.get(pk=rows["identification"].pk).agreed_with_prediction_id == first.pk

    call_command("check_unique_violations")  # exit code 0: no exception
    migrator.migrate_to_latest()
    with connection.cursor() as cursor:
        assert "unique_detection_bbox" in connection.introspection.get_constraints(cursor, "main_detection")


@pytest.mark.django_db(transaction=True)
def test_check_unique_violations_json(migrator, capsys):
    rows = insert_duplicate_detections(migrator.migrate(BEFORE_DEDUP_CONSTRAINTS))
    with pytest.raises(CommandError):
        call_command("check_unique_violations", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["violations"] == 3  # the box, the null marker, the classification written twice
    by_name = {c["constraint"]: c for c in report["constraints"]}
    assert by_name["unique_detection_bbox"]["groups"] == [
        {
            "key": {"source_image": rows["box"][0].source_image_id, "bbox": [1, 2, 3, 4]},
            "ids": [d.pk for d in rows["box"]],
        }
    ]
    first, _, third = rows["classifications"]
    assert by_name["unique_classification_result"]["groups"][0]["ids"] == [first.pk, third.pk]
    assert "main.Deployment.unique_deployment_name_per_project" in report["enforced_not_scanned"]
