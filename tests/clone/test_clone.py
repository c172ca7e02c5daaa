"""clone_project on the demo template: what is copied, linked and left out, and that the
template does not change."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from ami.main.demo import load_demo_project
from ami.main.models import Deployment, Project, SourceImageCollection, Tag, TaxaList
from ami.users.models import User
from ami.users.roles import ProjectManager, roles_of
from dwca_port import graph
from dwca_port.clone import clone_project
from dwca_port.graph import Clone

from .conftest import add_configuration
from .expect import (
    all_link_rows,
    assert_links_copied,
    assert_nothing_skipped_is_copied,
    assert_only_added,
    assert_rows_copied,
    database_snapshot,
    members,
    roles_by_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def cloned(django_db_setup, django_db_blocker):
    """One template and its clone for the read-only tests of this module (building the demo
    takes seconds), rolled back at the end; each test runs in its own savepoint inside."""
    with django_db_blocker.unblock(), transaction.atomic():
        template = add_configuration(load_demo_project())
        before, links_before = database_snapshot(), all_link_rows()
        report = clone_project(template, "New Project from Template")
        yield template, Project.objects.get(pk=report.project_id), report, before, links_before
        transaction.set_rollback(True)


def test_every_copied_row_matches_its_template_row_field_by_field(cloned):
    template, clone, report, _, _ = cloned
    assert_rows_copied(template, clone, report)
    assert report.created == {
        **report.created,
        "main.Deployment": 2,
        "main.Device": 1,
        "main.Site": 2,
        "main.S3StorageSource": 2,
        "main.Tag": 2,
        "main.TaxaList": 2,
        "ml.ProjectPipelineConfig": 2,
        "main.SourceImageCollection": 2,
    }


def test_every_link_is_copied_when_both_ends_are_in_the_clones_world(cloned):
    _, _, report, _, links_before = cloned
    assert_links_copied(links_before, report)


def test_the_template_and_every_other_row_are_unchanged(cloned):
    _, _, _, before, _ = cloned
    assert_only_added(before, database_snapshot())


def test_project_settings_by_hand(cloned):
    template, clone, _, _, _ = cloned
    assert clone.name == "New Project from Template" and clone.pk != template.pk and clone.uuid != template.uuid
    for name in (
        "description",
        "owner_id",
        "organization_id",
        "draft",
        "feature_flags",
        "active",
        "priority",
        "license",
        "rights_holder",
        "default_processing_pipeline_id",
        "session_time_gap_seconds",
        "default_filters_score_threshold",
    ):
        assert getattr(clone, name) == getattr(template, name), name
    assert clone.feature_flags["tags"] is True and clone.session_time_gap_seconds == 3600 and clone.draft
    assert set(clone.default_filters_include_taxa.all()) == set(template.default_filters_include_taxa.all())
    assert set(clone.default_filters_exclude_taxa.all()) == set(template.default_filters_exclude_taxa.all())
    assert clone.default_filters_exclude_taxa.exists()
    assert set(clone.taxa.all()) == set(template.taxa.all())  # Taxon.projects
    assert set(clone.processing_services.all()) == set(template.processing_services.all())
    assert clone.created_at >= template.created_at


def test_stations_point_to_the_clones_devices_sites_and_storage(cloned):
    template, clone, _, _, _ = cloned
    for original in template.deployments.all():
        copy = clone.deployments.get(name=original.name)
        assert (copy.description, copy.latitude, copy.longitude, copy.data_source_subdir, copy.data_source_regex) == (
            original.description,
            original.latitude,
            original.longitude,
            original.data_source_subdir,
            original.data_source_regex,
        )
        assert copy.data_source.project == clone and copy.data_source.name == original.data_source.name
        if original.device.project_id:
            assert copy.device.project == clone and copy.device.name == original.device.name
        else:
            assert copy.device == original.device  # a public device (no project) is the same row
        if original.research_site:
            assert copy.research_site.project == clone and copy.research_site.name == original.research_site.name
        # Cached fields as on a new station.
        assert all(getattr(copy, name) is None for name in Deployment.CALCULATED_FIELDS)
        assert not copy.image
    second = template.deployments.get(name="Second station")
    assert second.events_count == 7  # the template keeps its caches


def test_storage_sources_keep_settings_and_credentials(cloned):
    template, clone, report, _, _ = cloned
    for original in template.storage_sources.all():
        copy = clone.storage_sources.get(name=original.name)
        for name in ("bucket", "region", "prefix", "access_key", "secret_key", "endpoint_url", "public_base_url"):
            assert getattr(copy, name) == getattr(original, name), name
        assert copy.total_files is None and copy.total_size is None and copy.last_checked is None
    assert any("credentials copied" in note and "S3StorageSource" in note for note in report.notes)


def test_taxa_lists_tags_and_pipeline_configs(cloned):
    template, clone, _, _, _ = cloned
    for original in template.taxa_lists.all():
        copy = clone.taxa_lists.get(name=original.name)
        assert copy.pk != original.pk and copy.description == original.description
        assert set(copy.taxa.all()) == set(original.taxa.all())
        assert list(copy.projects.all()) == [clone]  # the clone's own list
    shared = TaxaList.objects.get(name="Shared list", projects=template)
    assert set(shared.projects.values_list("name", flat=True)) == {template.name, "Another project"}
    global_list = TaxaList.objects.get(name="Global list")
    assert not global_list.projects.exists() and TaxaList.objects.filter(name="Global list").count() == 1

    for original in template.tags.all():
        copy = clone.tags.get(name=original.name)
        assert set(copy.taxa.all()) == set(original.taxa.all())
    assert Tag.objects.filter(name="Global tag").count() == 1

    for original in template.project_pipeline_configs.all():
        copy = clone.project_pipeline_configs.get(pipeline=original.pipeline)
        assert (copy.enabled, copy.config) == (original.enabled, original.config)
    assert clone.project_pipeline_configs.filter(enabled=False, config={"threshold": 0.3}).exists()


def test_capture_sets_are_copied_without_their_captures(cloned):
    template, clone, _, _, _ = cloned
    for original in template.sourceimage_collections.all():
        copy = clone.sourceimage_collections.get(name=original.name)
        assert (copy.description, copy.method) == (original.description, original.method)
        assert not copy.images.exists()
    assert SourceImageCollection.objects.get(project=template, method="manual").images.count() == 4
    # Sampler arguments name the clone's own station and site, and none of the template's captures.
    interval = clone.sourceimage_collections.get(name="Interval sample")
    station = clone.deployments.get(name="Vermont-Snapshots-Sample")
    assert interval.kwargs == {
        "minute_interval": 10,
        "deployment_ids": [station.pk],
        "research_site_ids": [station.research_site_id],
        "event_ids": [],
        "size": 10,
    }
    manual = clone.sourceimage_collections.get(method="manual")
    assert manual.kwargs == {"image_ids": []}
    assert template.sourceimage_collections.get(method="manual").kwargs["image_ids"]


def test_data_is_left_out(cloned):
    template, clone, report, _, _ = cloned
    assert_nothing_skipped_is_copied(clone)
    for node in graph.nodes(clone=Clone.SKIP):
        assert node.rows_of(template).exists(), node.label  # the template has some of each
        assert any(item.startswith(node.label + ":") for item in report.left_out), node.label
    assert any(item.startswith("main.SourceImageCollection.images") for item in report.left_out)


def test_shared_rows_are_linked_not_duplicated(cloned):
    template, clone, _, before, _ = cloned
    after = database_snapshot()
    for node in graph.nodes(clone=Clone.LINK):
        assert len(after[node.label]) == len(before[node.label]), node.label


def test_members_and_roles_match_the_template(cloned):
    template, clone, report, _, _ = cloned
    assert members(clone) == members(template)
    assert "bare-member@demo.antenna.example.org" in members(clone)  # a member without a role stays one
    assert roles_by_user(clone) == roles_by_user(template)
    assert roles_by_user(clone)["identifier@demo.antenna.example.org"] == ["Researcher", "Identifier"]
    assert Group.objects.filter(name__startswith=f"{clone.pk}_{clone.name}_").count() == 5
    outsider = User.objects.get(email="outsider@demo.antenna.example.org")
    assert roles_of(clone, outsider) == []
    assert report.created["users.User.groups (roles)"] == sum(len(r) for r in roles_by_user(template).values())


def test_no_upstream_defaults_are_created(cloned):
    _, clone, _, _, _ = cloned
    assert not clone.deployments.filter(name="Default Station").exists()
    assert not clone.sourceimage_collections.filter(name="All Images").exists()
    assert not clone.devices.filter(name="Default Device").exists()


def test_a_clone_of_a_clone(cloned):
    template, first, _, _, _ = cloned
    links_before = all_link_rows()
    report = clone_project(first, "Clone of a clone")
    second = Project.objects.get(pk=report.project_id)
    assert_rows_copied(first, second, report)
    assert_links_copied(links_before, report)
    assert roles_by_user(second) == roles_by_user(template)
    assert set(second.deployments.values_list("name", flat=True)) == set(
        template.deployments.values_list("name", flat=True)
    )
    assert set(second.taxa.all()) == set(template.taxa.all())


def test_another_owner(cloned):
    template = cloned[0]
    newcomer = User.objects.create_user(email="newcomer@example.org")
    report = clone_project(template, "Owned by a newcomer", owner=newcomer)
    clone = Project.objects.get(pk=report.project_id)
    assert clone.owner == newcomer
    assert roles_of(clone, newcomer) == [ProjectManager]
    assert members(clone) == members(template) | {"newcomer@example.org"}
    assert roles_of(clone, template.owner) == roles_of(template, template.owner)  # template members keep their roles
    assert report.created["main.UserProjectMembership"] == template.project_memberships.count() + 1


def test_report_lists_every_model(cloned):
    _, _, report, _, _ = cloned
    for node in graph.nodes(clone=Clone.COPY):
        assert node.label in report.created
    text = "\n".join(report.lines())
    assert "Cloned project" in text and "credentials copied" in text
    assert all(node.label in text for node in graph.NODES)
