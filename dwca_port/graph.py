"""The project graph: one declaration per model.

Each `Node` says how rows of one model belong to a project (its scope and how to select them),
how they are identified across instances, what a clone does with them, how they hang from the
archive's Event core, which fields never travel (secrets, files) or are caches (exported
only to be verified, recomputed on import), and what else is special about the model: the
project row itself (`root`), how shared rows are matched on import (`match`), columns that are
not model fields (`extras`), unique fields regenerated when taken. Foreign keys between the
models of the graph are read from Django's model metadata, so a new field needs no declaration
here unless it is a secret, a cache or a file.

Clone, export (every format and profile), import, validation and docs/format.md are derived
from this list; its order is the dependency order (every model after the models it points to;
`order_problems` checks it and a test runs the check).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, models
from django.db.migrations.recorder import MigrationRecorder

from ami.main.models import Project, UserProjectMembership
from ami.users.roles import ROLES_BY_NAME, assign_role, roles_of
from dwca_port.values import Kind
from dwca_port.versions import FORMAT_VERSION, source_instance, toolkit_version


class Scope(str, enum.Enum):
    PROJECT = "project"  # owned by one project; travels with it, keeps its UUID
    SHARED = "shared"  # shared between projects (taxa, pipelines...): matched on import, linked by a clone
    USER = "user"  # accounts: referenced by e-mail, never created unless asked


class Clone(str, enum.Enum):
    COPY = "copy"  # a clone gets its own copy (new primary key and UUID)
    LINK = "link"  # a clone points at the same rows
    SKIP = "skip"  # data, not configuration: a clone starts without it


class Match(str, enum.Enum):
    """How an archived shared row finds its row here on import."""

    NATURAL_KEY = "natural key"  # by UUID, then by the natural key; created (keeping its UUID) when missing
    ACCOUNT = "account"  # users: by e-mail; created only when the operator asks for it
    TAXONOMY = "taxonomy"  # taxa: reconciled against this instance's taxonomy (dwca_port.taxonomy)


class ExtraValueError(ValueError):
    """An archived extra cell this instance cannot apply (e.g. an unknown role name)."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Extra:
    """A column of a model's Antenna table that is not a model field."""

    name: str  # the term's local name in the Antenna namespace
    kind: Kind
    doc: str
    required: bool = False
    # Export: given the project, a function from a row's primary key to the cell's value.
    values: Callable[[Any], Callable[[int], Any]] = field(default=lambda project: lambda pk: None, compare=False)
    # Import, once the rows are written: apply [(line, row UUID, value)] of the project's rows;
    # None when the value is only read (checked) by the importer.
    apply: Callable[[Any, list[tuple[int, Any, Any]]], None] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Slice:
    """How a partial export (dwca_port.selection.Subset) picks a model's own rows: ORM paths from a
    row to its deployment, to the moment that dates it, to its capture. A criterion the model has
    no path for picks none of its rows: they come only as rows that selected rows reference."""

    deployment: str | None = None  # "pk": the row is the deployment
    time: str | None = None
    capture: str | None = None  # "pk": the row is the capture


@dataclass(frozen=True)
class Node:
    label: str  # "app_label.ModelName"
    scope: Scope
    clone: Clone
    # How the project's rows are found: ORM paths from this model to the Project. Several paths
    # mean "used through any of them" (shared models).
    project_paths: tuple[str, ...] = ()
    # ORM paths to the core Event row a row hangs from in the archive: a capture session, then a
    # deployment; rows that reach neither hang from the project's root event.
    core_paths: tuple[str, ...] = ()
    # Shared models: the fields that identify a row across instances (besides its UUID).
    natural_key: tuple[str, ...] = ()
    calculated: tuple[str, ...] = ()  # caches: exported for verification, recomputed on import
    secret: tuple[str, ...] = ()  # never exported (a same-instance clone keeps them)
    # Fields the secrets are only good for: an import that changes one drops the stored secrets
    # (keys for one endpoint must never be sent to another).
    secret_bound_to: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()  # never travel at all (files, password hashes, login state)
    many_to_many: tuple[str, ...] = ()  # M2M fields that travel, as link tables
    # Primary keys that upstream stores inside JSON fields: (JSON field, key, "app.Model"). A clone
    # points them at its copies; the archive carries them as UUIDs, mapped back on import.
    json_references: tuple[tuple[str, str, str], ...] = ()
    root: bool = False  # the project row itself: one per archive, created (not inserted) by a clone
    match: Match = Match.NATURAL_KEY  # shared models: how archived rows are matched on import
    regenerated: tuple[str, ...] = ()  # unique fields that get a fresh value when the archived one is taken here
    extras: tuple[Extra, ...] = ()  # columns that are not model fields
    verified_caches: bool = False  # its caches are recomputed on import and compared with the archive's
    # Data a partial export selects by deployment, date or capture set. Without it, a model whose
    # project path runs through another row belongs to that row (a detection to its capture); any
    # other (configuration) travels whole.
    slice: Slice | None = None
    doc: str = ""

    @cached_property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.label)

    @property
    def name(self) -> str:
        return self.model.__name__

    def fields(self) -> list[models.Field]:
        """Concrete fields that travel, in declaration order (primary key and uuid excluded)."""
        skip = {"id", "uuid", *self.secret, *self.excluded}
        return [f for f in self.model._meta.concrete_fields if f.name not in skip]

    def foreign_keys(self) -> list[models.ForeignKey]:
        return [f for f in self.fields() if f.is_relation]

    def m2m_fields(self) -> list[models.ManyToManyField]:
        return [self.model._meta.get_field(name) for name in self.many_to_many]

    def rows_of(self, project) -> models.QuerySet:
        """This model's rows that belong to (or are used by) the project."""
        manager = self.model._base_manager
        if not self.project_paths:
            return manager.none()
        query = models.Q()
        for path in self.project_paths:
            query |= models.Q(**{path or "pk": project.pk})
        rows = manager.filter(query)
        # Only a to-many step (or several paths) can repeat a row; DISTINCT over millions is costly.
        repeats = len(self.project_paths) > 1 or not _to_one(self.model, self.project_paths[0])
        return rows.distinct() if repeats else rows

    def reaching(self, projects) -> models.Q:
        """Rows that reach one of `projects` (a queryset or list of keys) through a project path."""
        query = models.Q(pk__in=[])
        for path in self.project_paths:
            query |= models.Q(**{f"{path or 'pk'}__in": projects})
        return query

    def reached_by_others(self, project_pk: int | None) -> models.Q:
        """Rows another project than `project_pk` reaches (any project's, when it is None)."""
        others = Project._base_manager.all()
        return self.reaching(others if project_pk is None else others.exclude(pk=project_pk))

    def usable_by(self, project_pk: int | None) -> models.QuerySet:
        """The rows an archive of project `project_pk` may refer to or match: none another project
        reaches (project isolation, docs/operations.md)."""
        return self.model._base_manager.exclude(self.reached_by_others(project_pk))


def _to_one(model: type[models.Model], path: str) -> bool:
    """Whether every step of the lookup path follows a forward foreign key (one row each)."""
    for name in path.split("__") if path else ():
        field = model._meta.get_field(name)
        if not (field.many_to_one or field.one_to_one) or field.auto_created:
            return False
        model = field.related_model
    return True


# -- the extras' values ------------------------------------------------------------------------


def _format_version(project) -> Callable[[int], int]:
    return lambda pk: FORMAT_VERSION


def _schema_state(project) -> Callable[[int], str]:
    """The latest migration applied here of each app the graph spans ("main 0012_x; ml 0007_y")."""
    labels = {node.model._meta.app_label for node in NODES}
    latest: dict[str, str] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        if app in labels and name > latest.get(app, ""):
            latest[app] = name
    state = "; ".join(f"{app} {name}" for app, name in sorted(latest.items()))
    return lambda pk: state


def _time_zone(project) -> Callable[[int], str]:
    return lambda pk: settings.TIME_ZONE


def _member_roles(project) -> Callable[[int], str | None]:
    """Role names of each membership, fewest permissions first (upstream keeps them as auth groups)."""
    users = {m.pk: m.user for m in UserProjectMembership.objects.filter(project=project).select_related("user")}
    return lambda pk: " ".join(role.__name__ for role in roles_of(project, users[pk])) or None


def _assign_member_roles(project, rows: list[tuple[int, Any, str | None]]) -> None:
    wanted = [str(row_uuid) for _, row_uuid, roles in rows if roles]
    members = {
        str(m.uuid): m.user
        for m in UserProjectMembership.objects.filter(project=project, uuid__in=wanted).select_related("user")
    }
    for line, row_uuid, roles in rows:
        user = members.get(str(row_uuid).lower())
        for name in (roles or "").split() if user else ():
            role = ROLES_BY_NAME.get(name)
            if role is None:
                raise ExtraValueError(line, f"unknown role {name!r}")
            assign_role(project, user, role)
    # An updated membership may name another user: role groups hold the project's members only.
    members_here = UserProjectMembership.objects.filter(project=project).values("user_id")
    for role in ROLES_BY_NAME.values():
        group = role.get_group(project)
        group.user_set.remove(*group.user_set.exclude(pk__in=members_here))


FORMAT_VERSION_EXTRA = Extra(
    "formatVersion",
    Kind.INTEGER,
    required=True,
    values=_format_version,
    doc=f"Version of the archive layout (this toolkit writes {FORMAT_VERSION}).",
)
TIME_ZONE_EXTRA = Extra(
    "timeZone",
    Kind.TEXT,
    required=True,
    values=_time_zone,
    doc="IANA time zone of every local date-time in the Antenna tables.",
)

# Provenance (layout 3): read back into the import report, never applied.
PROVENANCE_EXTRAS = (
    Extra(
        "antennaSchema",
        Kind.TEXT,
        values=_schema_state,
        doc='Antenna schema state of the source: the latest migration of each app ("main 0012_x; ml 0007_y").',
    ),
    Extra(
        "toolkitVersion",
        Kind.TEXT,
        values=lambda project: lambda pk: toolkit_version(),
        doc="Version of the toolkit that wrote the archive.",
    ),
    Extra(
        "sourceInstance",
        Kind.TEXT,
        values=lambda project: lambda pk: source_instance(),
        doc="Name of the Antenna instance the archive comes from (settings.DWCA_SOURCE_INSTANCE).",
    ),
)

NODES: tuple[Node, ...] = (
    Node(
        "users.User",
        Scope.USER,
        Clone.LINK,
        match=Match.ACCOUNT,
        project_paths=(
            "project_memberships__project",
            "projects",
            "identifications__occurrence__project",
            "exports__project",
            "sourceimage__project",
        ),
        natural_key=("email",),
        excluded=("password", "last_login", "is_superuser", "is_staff", "is_active", "date_joined", "image"),
        doc="Accounts, referenced by e-mail; matched on import, created only with --create-missing-users.",
    ),
    Node(
        "main.Organization",
        Scope.SHARED,
        Clone.LINK,
        project_paths=("projects",),
        natural_key=("slug",),
        doc="The institution a project belongs to; matched by slug on import.",
    ),
    Node(
        "ml.AlgorithmCategoryMap",
        Scope.SHARED,
        Clone.LINK,
        project_paths=(
            "algorithms__pipelines__project_pipeline_configs__project",
            "classification__detection__source_image__project",
        ),
        # labels_hash is Python's per-process randomised hash() upstream: meaningless elsewhere.
        excluded=("labels_hash",),
        doc="The labels of a classifier's outputs.",
    ),
    Node(
        "ml.Algorithm",
        Scope.SHARED,
        Clone.LINK,
        project_paths=(
            "pipelines__project_pipeline_configs__project",
            "classifications__detection__source_image__project",
            "detection__source_image__project",
        ),
        natural_key=("name", "version"),
        doc="A model of a pipeline (detector, classifier...); matched by (name, version).",
    ),
    Node(
        "ml.Pipeline",
        Scope.SHARED,
        Clone.LINK,
        project_paths=(
            "project_pipeline_configs__project",
            "default_projects",
            "jobs__project",
            "processing_services__projects",
        ),
        natural_key=("name", "version"),
        regenerated=("slug",),
        many_to_many=("algorithms",),
        doc="A sequence of algorithms; matched by (name, version).",
    ),
    Node(
        "main.Taxon",
        Scope.SHARED,
        Clone.LINK,
        match=Match.TAXONOMY,
        project_paths=(
            "projects",
            "occurrences__project",
            "classifications__detection__source_image__project",
            "identifications__occurrence__project",
            "include_taxa_default_projects",
            "exclude_taxa_default_projects",
            "lists__projects",
            "tags__project",
        ),
        natural_key=("name",),
        calculated=("display_name", "search_names"),
        # parents_json caches the parent chain with this instance's primary keys: rebuilt on import.
        excluded=("parents_json",),
        many_to_many=("projects", "tags"),
        doc="Shared taxonomy; reconciled on import (GBIF key, name, matcher), with the parent chain.",
    ),
    Node(
        "main.Project",
        Scope.PROJECT,
        Clone.COPY,
        project_paths=("",),
        root=True,
        excluded=("image",),
        extras=(FORMAT_VERSION_EXTRA, TIME_ZONE_EXTRA, *PROVENANCE_EXTRAS),
        many_to_many=("default_filters_include_taxa", "default_filters_exclude_taxa"),
        doc="The project: settings, default filters, licence, feature flags.",
    ),
    Node(
        "ml.ProcessingService",
        Scope.SHARED,
        Clone.LINK,
        project_paths=("projects",),
        calculated=("last_seen", "last_seen_live", "last_seen_latency"),
        many_to_many=("projects", "pipelines"),
        doc="An ML backend endpoint; the clone links to the same services.",
    ),
    Node(
        "main.UserProjectMembership",
        Scope.PROJECT,
        Clone.COPY,
        project_paths=("project",),
        extras=(
            Extra(
                "roles",
                Kind.TEXT,
                values=_member_roles,
                apply=_assign_member_roles,
                doc="The member's project roles, space-separated (e.g. Identifier Researcher).",
            ),
        ),
        doc="Members; their roles travel as the role column of this table.",
    ),
    Node(
        "ml.ProjectPipelineConfig",
        Scope.PROJECT,
        Clone.COPY,
        project_paths=("project",),
        doc="Per-project pipeline settings (enabled, config overrides).",
    ),
    Node(
        "main.Tag",
        Scope.PROJECT,
        Clone.COPY,
        project_paths=("project",),
        doc="Project tags for taxa.",
    ),
    Node(
        "main.TaxaList",
        Scope.PROJECT,
        Clone.COPY,
        project_paths=("projects",),
        many_to_many=("taxa", "projects"),
        doc="Lists of taxa linked to the project (a list may be shared with other projects).",
    ),
    Node(
        "main.S3StorageSource",
        Scope.PROJECT,
        Clone.COPY,
        project_paths=("project",),
        secret=("access_key", "secret_key"),
        secret_bound_to=("endpoint_url", "bucket"),
        calculated=("total_size", "total_files", "last_checked"),
        doc="Where captures are stored: settings travel, credentials never do.",
    ),
    Node("main.Device", Scope.PROJECT, Clone.COPY, project_paths=("project",), doc="Trap hardware configurations."),
    Node("main.Site", Scope.PROJECT, Clone.COPY, project_paths=("project",), doc="Research sites."),
    Node(
        "main.Deployment",
        Scope.PROJECT,
        Clone.COPY,
        project_paths=("project",),
        core_paths=("self",),
        excluded=("image",),
        verified_caches=True,
        calculated=(
            "data_source_total_files",
            "data_source_total_size",
            "events_count",
            "occurrences_count",
            "captures_count",
            "detections_count",
            "taxa_count",
            "first_capture_timestamp",
            "last_capture_timestamp",
        ),
        slice=Slice(deployment="pk"),
        doc="Stations (a trap at a place over a period); each is an event of the core.",
    ),
    Node(
        "main.Event",
        Scope.PROJECT,
        Clone.SKIP,
        project_paths=("project",),
        core_paths=("self",),
        verified_caches=True,
        calculated=("start", "end", "captures_count", "detections_count", "occurrences_count"),
        excluded=("calculated_fields_updated_at",),  # when this instance last recomputed: not data
        slice=Slice(deployment="deployment", time="start"),
        doc="Capture sessions (nights); each is an event of the core under its deployment.",
    ),
    Node(
        "main.SourceImage",
        Scope.PROJECT,
        Clone.SKIP,
        project_paths=("project",),
        core_paths=("event", "deployment"),
        verified_caches=True,
        calculated=("detections_count",),
        slice=Slice(deployment="deployment", time="timestamp", capture="pk"),
        doc="Captures: paths relative to the storage source; image files do not travel.",
    ),
    Node(
        "main.SourceImageCollection",
        Scope.PROJECT,
        Clone.COPY,
        project_paths=("project",),
        many_to_many=("images",),
        json_references=(
            ("kwargs", "deployment_ids", "main.Deployment"),
            ("kwargs", "research_site_ids", "main.Site"),
            ("kwargs", "event_ids", "main.Event"),
            ("kwargs", "image_ids", "main.SourceImage"),
        ),
        doc="Capture sets; a clone copies the definition without the captures.",
    ),
    Node(
        "main.Occurrence",
        Scope.PROJECT,
        Clone.SKIP,
        project_paths=("project",),
        core_paths=("event", "deployment"),
        slice=Slice(deployment="deployment", time="event__start"),
        doc="Individual organisms seen in one or more detections.",
    ),
    Node(
        "main.Detection",
        Scope.PROJECT,
        Clone.SKIP,
        project_paths=("source_image__project",),
        core_paths=("source_image__event", "source_image__deployment"),
        doc="Bounding boxes on captures (a null box marks an image where the detector found nothing).",
    ),
    Node(
        "main.Classification",
        Scope.PROJECT,
        Clone.SKIP,
        project_paths=("detection__source_image__project",),
        core_paths=("detection__source_image__event", "detection__source_image__deployment"),
        doc="Machine predictions for detections, with scores.",
    ),
    Node(
        "main.Identification",
        Scope.PROJECT,
        Clone.SKIP,
        project_paths=("occurrence__project",),
        core_paths=("occurrence__event", "occurrence__deployment"),
        doc="Human identifications of occurrences.",
    ),
    Node(
        "exports.DataExport",
        Scope.PROJECT,
        Clone.SKIP,
        project_paths=("project",),
        calculated=("filters_display", "record_count", "file_size"),
        json_references=(
            ("filters", "collection_id", "main.SourceImageCollection"),
            ("filters", "taxa_list_id", "main.TaxaList"),
        ),
        doc="Records of earlier data exports (the files themselves do not travel).",
    ),
    Node(
        "jobs.Job",
        Scope.PROJECT,
        Clone.SKIP,
        project_paths=("project",),
        core_paths=("deployment",),
        slice=Slice(deployment="deployment", time="started_at", capture="source_image_collection__images"),
        doc="Processing history.",
    ),
    Node(
        "jobs.JobLog",
        Scope.PROJECT,
        Clone.SKIP,
        project_paths=("job__project",),
        core_paths=("job__deployment",),
        doc="Log lines of jobs.",
    ),
)

NODES_BY_LABEL: dict[str, Node] = {node.label: node for node in NODES}
ROOT: Node = next(node for node in NODES if node.root)


def graph_target(field: models.Field) -> Node | None:
    """The graph node a relation points to, or None when it leaves the graph (auth groups...)."""
    return NODES_BY_LABEL.get(field.related_model._meta.label) if field.is_relation else None


def nodes(scope: Scope | None = None, clone: Clone | None = None) -> Iterator[Node]:
    for node in NODES:
        if (scope is None or node.scope is scope) and (clone is None or node.clone is clone):
            yield node


def order_problems() -> list[str]:
    """Declaration mistakes: a relation to a later node, an unknown field name, not one root."""
    problems, seen = [], set()
    if sum(node.root for node in NODES) != 1:
        problems.append("exactly one node must be the root (the project)")
    for node in NODES:
        names = {f.name for f in node.model._meta.get_fields()}
        for name in (
            *node.calculated,
            *node.secret,
            *node.secret_bound_to,
            *node.excluded,
            *node.many_to_many,
            *node.natural_key,
            *node.regenerated,
        ):
            if name not in names:
                problems.append(f"{node.label}: no field {name!r}")
        for relation in node.foreign_keys():
            target = graph_target(relation)
            if target and target.label != node.label and target.label not in seen:
                problems.append(f"{node.label}.{relation.name} points to {target.label}, declared later")
        seen.add(node.label)
    return problems
