"""The synthetic generator: exact sizes, consistent links, usable ids afterwards."""

import pytest
from django.core.management import CommandError, call_command

from ami.main.models import Classification, Deployment, Detection, Event, Identification, Occurrence, SourceImage
from ami.main.synthetic import SyntheticSpec, seed_synthetic_project

pytestmark = pytest.mark.django_db


def test_sizes_and_links():
    project = seed_synthetic_project(
        SyntheticSpec(
            images=1000,
            detections_per_image=0.5,
            classifications_per_detection=2,
            occurrences=50,
            identifications=5,
            deployments=3,
            nights_per_deployment=4,
            taxa=30,
        ),
        progress=None,
    )
    assert SourceImage.objects.filter(project=project).count() == 1000
    assert Detection.objects.filter(source_image__project=project).count() == 500
    assert Classification.objects.filter(detection__source_image__project=project).count() == 1000
    assert Occurrence.objects.filter(project=project).count() == 50
    assert Identification.objects.filter(occurrence__project=project).count() == 5
    assert Deployment.objects.filter(project=project).count() == 3
    assert Event.objects.filter(project=project).count() == 12
    # every capture sits in an event of its own deployment
    assert (
        not SourceImage.objects.filter(project=project).exclude(event__deployment_id=models_f("deployment_id")).exists()
    )
    # every detection's occurrence belongs to the project; ids continue normally afterwards
    assert not Detection.objects.filter(source_image__project=project).exclude(occurrence__project=project).exists()
    SourceImage.objects.create(path="after.jpg", project=project)


def test_cached_counts_are_kept_as_an_instance_keeps_them():
    from ami.main.models import update_detection_counts

    project = seed_synthetic_project(SyntheticSpec(images=300, detections_per_image=0.5, occurrences=20), progress=None)
    captures = SourceImage.objects.filter(project=project)
    assert not captures.filter(detections_count__isnull=True).exists()
    assert update_detection_counts(captures, project=project) == 0  # already right: nothing rewritten
    assert not Event.objects.filter(project=project, captures_count__isnull=True).exists()


def models_f(name):
    from django.db.models import F

    return F(name)


def test_command_and_bad_input(capsys):
    call_command("seed_synthetic_project", "--images", "200", "--detections-per-image", "0.3", "--name", "Tiny")
    assert "Tiny" in capsys.readouterr().out
    with pytest.raises(CommandError, match="--images must not be negative"):
        call_command("seed_synthetic_project", "--images", "-1")
    with pytest.raises(CommandError, match="at least 1"):
        call_command("seed_synthetic_project", "--deployments", "0")
