"""Templates to clone: the demo project with every kind of configuration added, and small ones."""

from __future__ import annotations

import pytest

from ami.main.demo import load_demo_project
from ami.main.models import (
    Deployment,
    Device,
    Organization,
    Project,
    S3StorageSource,
    Site,
    SourceImageCollection,
    Tag,
    TaxaList,
    Taxon,
    TaxonRank,
    UserProjectMembership,
)
from ami.ml.models import Pipeline, ProcessingService, ProjectPipelineConfig
from ami.users.models import User
from ami.users.roles import Identifier, MLDataManager, ProjectManager, Researcher, assign_role


@pytest.fixture
def demo(db):
    return load_demo_project(stdout=None)


@pytest.fixture
def template(demo):
    return add_configuration(demo)


def add_configuration(project: Project) -> Project:
    """The demo project plus what it lacks: an organization, exclude taxa, settings off their
    defaults, a second tag, global rows that must not be copied, a taxa list and a processing
    service shared with another project, a public device, members without and with two roles."""
    organization = Organization.objects.create(name="Demo Consortium", slug="demo-consortium")
    other = Project.objects.create(name="Another project", organization=organization, create_defaults=False)
    family = Taxon.objects.filter(rank=TaxonRank.FAMILY).order_by("name").first()
    species = list(Taxon.objects.filter(rank=TaxonRank.SPECIES).order_by("name")[:6])

    project.organization = organization
    project.draft = True
    project.priority = 3
    project.session_time_gap_seconds = 3600
    project.feature_flags = {**project.feature_flags, "tags": True, "default_filters": True}
    project.save()
    project.default_filters_exclude_taxa.add(family)

    Tag.objects.create(name="Pest", project=project).taxa.add(*species[:3])
    Tag.objects.create(name="Global tag", project=None).taxa.add(species[0])  # nobody's: not copied
    Tag.objects.create(name="Pest", project=other).taxa.add(species[4])

    TaxaList.objects.create(name="Global list", description="No project: global").taxa.add(*species[:4])
    shared_list = TaxaList.objects.create(name="Shared list", description="Used by two projects")
    shared_list.taxa.add(*species[2:6])
    shared_list.projects.add(project, other)
    other.taxa.add(species[5])

    pipeline, _ = Pipeline.objects.get_or_create(
        name="Moth detector only", version=2, defaults={"slug": "moth-detector-only-v2"}
    )
    ProjectPipelineConfig.objects.create(project=project, pipeline=pipeline, enabled=False, config={"threshold": 0.3})
    service = ProcessingService(name="Shared service", endpoint_url="https://ml.example.org/api")
    service.save()
    service.projects.add(project, other)
    service.pipelines.add(pipeline)

    public_device = Device.objects.create(name="Public trap", project=None)
    second_source = S3StorageSource.objects.create(
        name="Second bucket",
        bucket="second",
        region="us-east-1",
        prefix="p/",
        access_key="K2",
        secret_key="S2",
        project=project,
        total_files=12,
        total_size=3400,
    )
    Site.objects.create(name="Unused site", project=project)
    Deployment.objects.create(
        name="Second station",
        project=project,
        device=public_device,
        data_source=second_source,
        data_source_subdir="night2",
        latitude=45.5,
        longitude=-72.1,
        events_count=7,
        captures_count=99,
    )
    station = project.deployments.get(name="Vermont-Snapshots-Sample")
    SourceImageCollection.objects.create(
        name="Interval sample",
        project=project,
        method="interval",
        kwargs={
            "minute_interval": 10,
            "deployment_ids": [station.pk],
            "research_site_ids": [station.research_site_id],
            "event_ids": list(project.events.values_list("pk", flat=True)[:2]),
            "size": 10,
        },
    )

    ml_manager = User.objects.create_user(email="ml@demo.antenna.example.org", name="ML data manager")
    assign_role(project, ml_manager, MLDataManager)
    identifier = User.objects.get(email="identifier@demo.antenna.example.org")
    assign_role(project, identifier, Researcher)  # now Identifier and Researcher
    bare = User.objects.create_user(email="bare-member@demo.antenna.example.org")
    UserProjectMembership.objects.create(user=bare, project=project)  # a member with no role
    outsider = User.objects.create_user(email="outsider@demo.antenna.example.org")
    assign_role(other, outsider, ProjectManager)
    assign_role(other, identifier, Identifier)
    project.refresh_from_db()
    return project


def small_template(name: str = "Small template", deployments: int = 2, taxa: int = 5, **fields) -> Project:
    """A template of any size, built set-wise (taxa shared with any earlier template)."""
    owner, _ = User.objects.get_or_create(email="small-owner@example.org")
    project = Project.objects.create(name=name, owner=owner, create_defaults=False, **fields)
    storage = S3StorageSource.objects.create(name="Bucket", bucket="b", access_key="A", secret_key="S", project=project)
    device = Device.objects.create(name="Trap", project=project)
    site = Site.objects.create(name="Site", project=project)
    Deployment.objects.bulk_create(
        [
            Deployment(
                name=f"Station {n}",
                project=project,
                data_source=storage,
                device=device,
                research_site=site,
                latitude=45 + n / 1000,
                longitude=-73,
            )
            for n in range(deployments)
        ]
    )
    names = [f"Smallgenus species{n}" for n in range(taxa)]
    Taxon.objects.bulk_create([Taxon(name=name) for name in names], ignore_conflicts=True)
    linked = list(Taxon.objects.filter(name__in=names))
    project.taxa.add(*linked)
    species_list = TaxaList.objects.create(name=f"{name} species")
    species_list.taxa.add(*linked)
    species_list.projects.add(project)
    return project
