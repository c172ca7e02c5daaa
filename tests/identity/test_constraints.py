"""The unique constraints refuse new duplicates, at the database and in validate_constraints()."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils.text import capfirst

from ami.main.models import Classification, Deployment, Detection, Device, Organization, Project, Site, SourceImage
from ami.ml.models import Algorithm
from tests.identity.graph import T0

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(user):
    return Project.objects.create(name="Constraints", owner=user, create_defaults=False)


@pytest.fixture
def capture(project):
    deployment = Deployment.objects.create(name="Station", project=project)
    return SourceImage.objects.create(path="a.jpg", deployment=deployment, project=project)


def assert_refused(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


@pytest.mark.parametrize("model", [Deployment, Device, Site])
def test_names_are_unique_within_a_project(model, project, user):
    model.objects.create(name="Trap A", project=project)
    assert_refused(lambda: model.objects.create(name="Trap A", project=project))

    other = Project.objects.create(name="Other", owner=user, create_defaults=False)
    model.objects.create(name="Trap A", project=other)  # another project: fine
    model.objects.create(name="Trap A", project=None)  # no project: not constrained
    model.objects.create(name="Trap A", project=None)

    duplicate = model(name="Trap A", project=project)
    with pytest.raises(ValidationError) as error:
        duplicate.validate_constraints()
    assert error.value.messages == [f"{capfirst(model._meta.verbose_name)} with this Project and Name already exists."]


def test_project_names_are_unique_within_an_organization(user):
    organization = Organization.objects.create(name="Insectarium", slug="insectarium")
    Project.objects.create(name="Moths", organization=organization, create_defaults=False)
    assert_refused(lambda: Project.objects.create(name="Moths", organization=organization, create_defaults=False))
    with pytest.raises(ValidationError, match="Project with this Organization and Name already exists."):
        Project(name="Moths", organization=organization).validate_constraints()
    # Without an organization, names may repeat (each user's "Scratch Project", upstream).
    Project.objects.create(name="Scratch Project", owner=user, create_defaults=False)
    Project.objects.create(name="Scratch Project", create_defaults=False)


def test_one_detection_per_capture_and_box(capture):
    detector = Algorithm.objects.create(name="Detector", version=1)
    Detection.objects.create(source_image=capture, bbox=[1, 2, 30, 40], detection_algorithm=detector)
    # The same box from another algorithm is the same detection (upstream's get_or_create_detection).
    assert_refused(lambda: Detection.objects.create(source_image=capture, bbox=[1, 2, 30, 40]))
    Detection.objects.create(source_image=capture, bbox=[1, 2, 30, 41])
    with pytest.raises(ValidationError) as error:
        Detection(source_image=capture, bbox=[1, 2, 30, 40]).validate_constraints()
    assert error.value.messages == ["This capture already has a detection with this bounding box."]
    Detection(source_image=capture, bbox=[9, 9, 9, 9]).validate_constraints()  # no error


def test_equal_boxes_written_differently_collide(capture):
    """jsonb on PostgreSQL, json() over the text on SQLite: whitespace does not make a new box."""
    Detection.objects.create(source_image=capture, bbox=[1, 2, 30, 40])
    fields = "created_at, updated_at, uuid, source_image_id, bbox"
    uuid_value = (
        "'0b8f6f52-3c44-4a0c-9d8f-6a2f4f1e2a11'"
        if connection.vendor == "postgresql"
        else "'0b8f6f523c444a0c9d8f6a2f4f1e2a11'"
    )
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO main_detection ({fields}) VALUES (%s, %s, {uuid_value}, %s, '[1,2,  30,40]')",
            [T0, T0, capture.pk],
        )


def test_one_null_marker_per_capture_and_algorithm(capture):
    detector = Algorithm.objects.create(name="Detector", version=1)
    other = Algorithm.objects.create(name="Detector", version=2)
    Detection.objects.create(source_image=capture, bbox=None, detection_algorithm=detector)
    assert_refused(lambda: Detection.objects.create(source_image=capture, bbox=None, detection_algorithm=detector))
    Detection.objects.create(source_image=capture, bbox=None, detection_algorithm=other)
    # A marker without an algorithm counts once too, as upstream's lookup with algorithm=None.
    Detection.objects.create(source_image=capture, bbox=None, detection_algorithm=None)
    assert_refused(lambda: Detection.objects.create(source_image=capture, bbox=None, detection_algorithm=None))
    with pytest.raises(ValidationError, match="already has a null marker"):
        Detection(source_image=capture, bbox=None, detection_algorithm=detector).validate_constraints()


def test_one_classification_per_result(capture):
    detection = Detection.objects.create(source_image=capture, bbox=[1, 2, 3, 4])
    classifier = Algorithm.objects.create(name="Classifier", version=1)
    from ami.main.models import Taxon

    taxon = Taxon.objects.create(name="Vanessa cardui")
    result = {"detection": detection, "algorithm": classifier, "taxon": taxon, "timestamp": T0}
    Classification.objects.create(score=0.8, **result)
    assert_refused(lambda: Classification.objects.create(score=0.8, **result))
    Classification.objects.create(score=0.7, **result)  # a re-run with another score: kept, as upstream
    with pytest.raises(
        ValidationError, match="Classification with this Detection, Algorithm, Taxon and Score already exists."
    ):
        Classification(score=0.8, **result).validate_constraints()
