"""The model's constraints, cascades and reverse names that clone, export and import rely on."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.db.models.deletion import ProtectedError

from ami.exports.models import DataExport
from ami.jobs.models import Job
from ami.main.models import (
    Classification,
    Deployment,
    Detection,
    Device,
    Event,
    Identification,
    Occurrence,
    Project,
    S3StorageSource,
    Site,
    SourceImage,
    SourceImageCollection,
    Tag,
    Taxon,
    UserProjectMembership,
)
from ami.ml.models import Algorithm, AlgorithmCategoryMap, Pipeline, ProjectPipelineConfig

pytestmark = pytest.mark.django_db
NIGHT = datetime.datetime(2023, 6, 1, 22, 0)


@pytest.fixture
def project(user):
    return Project.objects.create(name="Schema", owner=user, create_defaults=False)


@pytest.fixture
def station(project):
    return Deployment.objects.create(name="Station", project=project)


def _capture(station, path="a.jpg", **extra):
    return SourceImage.objects.create(deployment=station, project=station.project, path=path, timestamp=NIGHT, **extra)


def test_unique_event_per_deployment_and_day(station):
    Event.objects.create(deployment=station, group_by="2023-06-01", start=NIGHT)
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(deployment=station, group_by="2023-06-01", start=NIGHT)


def test_unique_capture_path_per_deployment(station, project):
    _capture(station)
    with pytest.raises(IntegrityError), transaction.atomic():
        _capture(station)
    other = Deployment.objects.create(name="Other", project=project)
    _capture(other)  # same path under another station is fine


def test_unique_names_where_upstream_has_them(project, user):
    Taxon.objects.create(name="Vanessa")
    with pytest.raises(IntegrityError), transaction.atomic():
        Taxon.objects.create(name="Vanessa")
    Tag.objects.create(name="t", project=project)
    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(name="t", project=project)
    Algorithm.objects.create(name="det", version=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Algorithm.objects.create(name="det", version=1, key="other-key")
    pipeline = Pipeline.objects.create(name="p", version=1)
    ProjectPipelineConfig.objects.create(project=project, pipeline=pipeline)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProjectPipelineConfig.objects.create(project=project, pipeline=pipeline)
    with pytest.raises(IntegrityError), transaction.atomic():
        UserProjectMembership.objects.create(user=user, project=project)  # the owner is a member already


def test_deleting_a_project_orphans_its_data_and_cascades_its_configuration(project, station, user):
    capture = _capture(station)
    occurrence = Occurrence.objects.create(project=project, deployment=station)
    device = Device.objects.create(name="d", project=project)
    site = Site.objects.create(name="s", project=project)
    storage = S3StorageSource.objects.create(name="b", bucket="b", access_key="k", secret_key="s", project=project)
    collection = SourceImageCollection.objects.create(name="c", project=project)
    tag = Tag.objects.create(name="t", project=project)
    job = Job.objects.create(name="j", project=project)
    export = DataExport.objects.create(user=user, project=project, format="dwca")
    project.delete()
    for orphan in (station, capture, occurrence, device, site, storage):
        orphan.refresh_from_db()
        assert orphan.project_id is None
    for cascaded in (collection, tag, job, export):
        assert not type(cascaded).objects.filter(pk=cascaded.pk).exists()


def test_detection_and_classification_cascades(station):
    capture = _capture(station)
    occurrence = Occurrence.objects.create(project=station.project, deployment=station)
    detection = Detection.objects.create(source_image=capture, bbox=[1, 2, 3, 4], occurrence=occurrence)
    classification = Classification.objects.create(detection=detection, score=0.9, timestamp=NIGHT)
    identification = Identification.objects.create(occurrence=occurrence, agreed_with_prediction=classification)
    detection.delete()
    classification.refresh_from_db()
    assert classification.detection_id is None  # orphaned, not deleted (upstream)
    occurrence.delete()
    assert not Identification.objects.filter(pk=identification.pk).exists()
    capture.delete()


def test_category_map_is_protected_by_classifications_and_cascades_algorithms():
    category_map = AlgorithmCategoryMap.objects.create(data=[], labels=[])
    algorithm = Algorithm.objects.create(name="clf", version=1, category_map=category_map)
    Classification.objects.create(category_map=category_map, algorithm=algorithm, timestamp=NIGHT)
    with pytest.raises(ProtectedError):
        category_map.delete()
    Classification.objects.all().delete()
    category_map.delete()
    assert not Algorithm.objects.filter(pk=algorithm.pk).exists()


def test_deleting_a_user_deletes_their_exports_and_export_jobs(project, user):
    export = DataExport.objects.create(user=user, project=project, format="dwca")
    Job.objects.create(name="export", project=project, data_export=export)
    user.delete()
    assert not DataExport.objects.exists() and not Job.objects.exists()


def test_reverse_names_used_by_the_toolkit(project, station):
    capture = _capture(station)
    detection = Detection.objects.create(source_image=capture, bbox=[0, 0, 1, 1])
    assert list(project.deployments.all()) == [station]
    assert list(project.captures.all()) == [capture]
    assert list(capture.detections.all()) == [detection]
    for name in (
        "events",
        "occurrences",
        "taxa",
        "taxa_lists",
        "devices",
        "sites",
        "storage_sources",
        "jobs",
        "sourceimage_collections",
        "processing_services",
        "pipelines",
        "project_pipeline_configs",
        "tags",
        "exports",
        "project_memberships",
        "include_taxa_default_projects"[:0] or "members",
    ):
        assert hasattr(project, name), name


def test_algorithm_and_pipeline_fill_their_derived_identifiers():
    algorithm = Algorithm.objects.create(name="Moth Detector", version=3)
    assert algorithm.key == "moth-detector-3" and algorithm.version_name == "3"
    pipeline = Pipeline.objects.create(name="Moths", version=2)
    assert pipeline.slug.startswith("moths-v2-")


def test_pipeline_config_merges_project_overrides(project):
    pipeline = Pipeline.objects.create(name="p", version=1, default_config={"a": 1, "b": 2})
    ProjectPipelineConfig.objects.create(project=project, pipeline=pipeline, config={"b": 3})
    assert pipeline.get_config(project.pk) == {"a": 1, "b": 3}
    assert pipeline.get_config() == {"a": 1, "b": 2}
