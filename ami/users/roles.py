"""Project roles, as upstream stores them: one auth Group per (project, role) named
"{project.pk}_{project.name}_{RoleClassName}", holding the role's permissions on Project.

Upstream keeps memberships and groups in sync with m2m signals and also writes guardian object
permissions; here the same state is reached by explicit calls (`assign_role`, `remove_role`,
`create_roles_for_project`) so that clone and import control every write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

if TYPE_CHECKING:
    from ami.main.models import Project
    from ami.users.models import User


class Role:
    """The base role: seeing the project."""

    display_name = "Role"
    permissions: frozenset[str] = frozenset({"view_project"})

    @classmethod
    def group_name(cls, project: Project) -> str:
        return f"{project.pk}_{project.name}_{cls.__name__}"

    @classmethod
    def get_group(cls, project: Project) -> Group:
        group, _ = Group.objects.get_or_create(name=cls.group_name(project))
        return group


class BasicMember(Role):
    display_name = "Basic member"
    permissions = Role.permissions | {
        "view_private_data",
        "star_sourceimage",
        "create_job",
        "run_single_image_ml_job",
        "view_userprojectmembership",
    }


class Researcher(BasicMember):
    display_name = "Researcher"
    permissions = BasicMember.permissions | {"create_dataexport", "delete_dataexport"}


class Identifier(BasicMember):
    display_name = "Identifier"
    permissions = BasicMember.permissions | {
        "create_identification",
        "update_identification",
        "delete_identification",
    }


class MLDataManager(BasicMember):
    display_name = "ML data manager"
    permissions = BasicMember.permissions | {
        "create_job",
        "update_job",
        "run_ml_job",
        "run_populate_captures_collection_job",
        "run_data_storage_sync_job",
        "sync_deployment",
        "run_regroup_events_job",
        "run_data_export_job",
        "delete_occurrences",
        "create_projectpipelineconfig",
        "update_projectpipelineconfig",
        "delete_projectpipelineconfig",
        "create_sourceimagecollection",
        "update_sourceimagecollection",
        "delete_sourceimagecollection",
        "populate_sourceimagecollection",
    }


def _crud(model: str, *extra: str) -> set[str]:
    return {f"{action}_{model}" for action in ("create", "update", "delete", *extra)}


class ProjectManager(BasicMember):
    display_name = "Project manager"
    permissions = (
        Researcher.permissions
        | Identifier.permissions
        | MLDataManager.permissions
        | {"update_project", "delete_project", "import_data"}
        | _crud("s3storagesource", "test")
        | _crud("deployment", "sync", "regroup_sessions")
        | _crud("site")
        | _crud("device")
        | _crud("sourceimage")
        | _crud("sourceimageupload")
        | _crud("userprojectmembership")
        | _crud("taxalist")
    )


# Ordered from the fewest to the most permissions; the primary role is the last one a user holds.
ROLES: tuple[type[Role], ...] = (BasicMember, Researcher, Identifier, MLDataManager, ProjectManager)
ROLES_BY_NAME: dict[str, type[Role]] = {role.__name__: role for role in ROLES}

# Permissions upstream grants to no role (superusers only); declared so that they exist.
SUPERUSER_ONLY_PERMISSIONS = frozenset({"delete_job", "run_post_processing_job", "update_dataexport", "create_project"})


def all_permission_codenames() -> set[str]:
    codenames = set(SUPERUSER_ONLY_PERMISSIONS)
    for role in ROLES:
        codenames |= role.permissions
    return codenames


def _project_permissions(codenames: set[str]) -> dict[str, Permission]:
    from ami.main.models import Project

    content_type = ContentType.objects.get_for_model(Project)
    existing = {p.codename: p for p in Permission.objects.filter(content_type=content_type, codename__in=codenames)}
    missing = [
        Permission(content_type=content_type, codename=c, name=c.replace("_", " ").capitalize())
        for c in sorted(codenames - existing.keys())
    ]
    for permission in Permission.objects.bulk_create(missing):
        existing[permission.codename] = permission
    if missing and not all(p.pk for p in existing.values()):  # SQLite before 3.35 returns no pks
        existing = {p.codename: p for p in Permission.objects.filter(content_type=content_type, codename__in=codenames)}
    return existing


@transaction.atomic
def create_roles_for_project(project: Project) -> dict[type[Role], Group]:
    """Create (or repair) the five role groups of a project with exactly their permissions. Idempotent."""
    permissions = _project_permissions(all_permission_codenames())
    groups = {}
    for role in ROLES:
        group = role.get_group(project)
        group.permissions.set([permissions[c] for c in role.permissions])
        groups[role] = group
    return groups


def rename_roles_for_project(project: Project, old_name: str) -> None:
    """Upstream renames the groups when the project is renamed."""
    for role in ROLES:
        Group.objects.filter(name=f"{project.pk}_{old_name}_{role.__name__}").update(name=role.group_name(project))


def delete_roles_for_project(project: Project) -> None:
    Group.objects.filter(name__startswith=f"{project.pk}_").delete()


def assign_role(project: Project, user: User, role: type[Role]) -> None:
    """Give a user a role: the role's group, and a membership (upstream's signal loop, made explicit)."""
    from ami.main.models import UserProjectMembership

    user.groups.add(role.get_group(project))
    UserProjectMembership.objects.get_or_create(user=user, project=project)


def remove_role(project: Project, user: User, role: type[Role]) -> None:
    """Take a role away; the membership goes too when the user has no role left in the project."""
    from ami.main.models import UserProjectMembership

    user.groups.remove(role.get_group(project))
    if not roles_of(project, user):
        UserProjectMembership.objects.filter(user=user, project=project).delete()


def roles_of(project: Project, user: User) -> list[type[Role]]:
    names = set(user.groups.filter(name__startswith=f"{project.pk}_").values_list("name", flat=True))
    return [role for role in ROLES if role.group_name(project) in names]


def get_primary_role(project: Project, user: User) -> type[Role] | None:
    """The role with the most permissions, as upstream's Role.get_primary_role."""
    held = roles_of(project, user)
    return max(held, key=lambda role: len(role.permissions)) if held else None
