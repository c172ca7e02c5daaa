"""Project role groups (named as upstream), membership and creation defaults."""

import pytest
from django.contrib.auth.models import Group

from ami.main.models import Project
from ami.users.roles import (
    ROLES,
    BasicMember,
    Identifier,
    MLDataManager,
    ProjectManager,
    Researcher,
    assign_role,
    create_roles_for_project,
    delete_roles_for_project,
    get_primary_role,
    remove_role,
    rename_roles_for_project,
    roles_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(django_user_model):
    return django_user_model.objects.create_user(email="Member@Example.org")


def test_five_groups_named_like_upstream(user):
    project = Project.objects.create(name="Moths of Quebec", owner=user, create_defaults=False)
    names = set(Group.objects.filter(name__startswith=f"{project.pk}_").values_list("name", flat=True))
    assert names == {
        f"{project.pk}_Moths of Quebec_{role}"
        for role in ("BasicMember", "Researcher", "Identifier", "MLDataManager", "ProjectManager")
    }


def test_role_permissions_inherit_and_project_manager_holds_them_all(user):
    project = Project.objects.create(name="P", owner=user, create_defaults=False)
    groups = create_roles_for_project(project)  # idempotent
    perms = {role: set(groups[role].permissions.values_list("codename", flat=True)) for role in ROLES}
    assert perms[BasicMember] < perms[Researcher] < perms[ProjectManager]
    assert perms[Identifier] >= {"create_identification", "update_identification", "delete_identification"}
    assert "run_ml_job" in perms[MLDataManager] and "run_ml_job" not in perms[Identifier]
    assert perms[ProjectManager] >= perms[Researcher] | perms[Identifier] | perms[MLDataManager]
    assert "delete_job" not in perms[ProjectManager]  # superuser only, as upstream
    assert Group.objects.filter(name__startswith=f"{project.pk}_").count() == 5


def test_owner_is_project_manager_and_members_follow_roles(user, member):
    project = Project.objects.create(name="P", owner=user, create_defaults=False)
    assert get_primary_role(project, user) is ProjectManager
    assert member.email == "member@example.org"  # lowercased as upstream
    assign_role(project, member, Researcher)
    assign_role(project, member, Identifier)
    assert set(project.members.all()) == {user, member}
    assert roles_of(project, member) == [Researcher, Identifier]
    remove_role(project, member, Researcher)
    assert project.members.filter(pk=member.pk).exists()
    remove_role(project, member, Identifier)
    assert not project.members.filter(pk=member.pk).exists()


def test_rename_and_delete_roles(user):
    project = Project.objects.create(name="Old", owner=user, create_defaults=False)
    project.name = "New"
    project.save()
    rename_roles_for_project(project, "Old")
    assert get_primary_role(project, user) is ProjectManager
    assert Group.objects.filter(name=f"{project.pk}_New_ProjectManager").exists()
    delete_roles_for_project(project)
    assert not Group.objects.filter(name__startswith=f"{project.pk}_").exists()


def test_creation_defaults_on(user):
    project = Project.objects.create(name="With defaults", owner=user)
    assert list(project.devices.values_list("name", flat=True)) == ["Default Device"]
    assert list(project.sites.values_list("name", flat=True)) == ["Default Site"]
    station = project.deployments.get()
    assert (station.name, station.latitude, station.longitude) == ("Default Station", 0, 0)
    assert station.device.name == "Default Device" and station.research_site.name == "Default Site"
    collection = project.sourceimage_collections.get()
    assert (collection.name, collection.method) == ("All Images", "full")


def test_creation_defaults_off(user):
    project = Project.objects.create(name="Bare", owner=user, create_defaults=False)
    assert not project.devices.exists() and not project.sites.exists()
    assert not project.deployments.exists() and not project.sourceimage_collections.exists()


def test_creation_without_roles(user):
    project = Project.objects.create(name="No roles", owner=user, create_defaults=False, create_roles=False)
    assert not Group.objects.filter(name__startswith=f"{project.pk}_").exists()
    assert not project.members.exists()


def test_feature_flags_default_like_upstream(user):
    project = Project.objects.create(name="Flags", create_defaults=False)
    assert project.feature_flags == {
        "tags": False,
        "reprocess_existing_detections": False,
        "default_filters": False,
        "reprocess_all_images": False,
        "async_pipeline_workers": True,
    }
    assert (project.session_time_gap_seconds, project.default_filters_score_threshold) == (7200, 0.5)
