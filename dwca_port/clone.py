"""Clone a project as a template, driven by the project graph (dwca_port/graph.py).

Walking graph.NODES in order, each model gets what its `clone` rule says:
- COPY: the template's rows (node.rows_of) are copied set-wise: one SELECT, then one INSERT for
  all rows (new primary keys and UUIDs; foreign keys to copied models remapped through the
  template-pk -> clone-pk maps; caches reset; secrets kept, since the clone lives on the same
  instance; excluded fields, i.e. files, left empty);
- LINK: shared rows (taxa, pipelines, users...) are pointed at, never duplicated;
- SKIP: data (captures, sessions, occurrences, jobs...) is left out.
Then every many-to-many field the graph lists is copied inside the database with one
INSERT ... SELECT per field, keeping only the links whose ends are both in the clone's world:
a copied end is remapped to its copy, a shared end is kept, and a link to skipped data is dropped.

Two special cases are explicit: the project row itself (created through Project.objects.create
without upstream's defaults and roles, under its new name and owner) and the role groups (auth
Groups named after the project, outside the graph), copied after the memberships.

Ids that a JSON field holds (a capture set's sampler arguments) follow the same rules as foreign
keys. Copied rows get the clone's creation time as created_at and updated_at.

The number of statements depends on the graph, not on the rows: each model's rows go in one
INSERT (until a statement would pass the backend's bound-variable limit: 32,766 on SQLite, about
1,300 deployments) and each link table in one INSERT ... SELECT, however many links it holds.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.contrib.auth.models import Group
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Case, F, Value, When

from ami.main.models import UserProjectMembership
from ami.users.models import User
from ami.users.roles import ProjectManager, assign_role, create_roles_for_project
from dwca_port import graph
from dwca_port.counts import number
from dwca_port.graph import Clone
from dwca_port.progress import SILENT, Progress

POSTGRES_MAX_PARAMETERS = 65_535  # the protocol's bound on one statement's parameters


class CloneError(ValueError):
    """A refused clone, in one line for the operator; nothing was written."""


@dataclass
class CloneReport:
    source_id: int
    source_name: str
    project_id: int
    project_uuid: uuid.UUID
    name: str
    dry_run: bool = False
    # Rows created, per model ("app.Model") and per link table ("app.Model.field").
    created: dict[str, int] = field(default_factory=dict)
    # Template primary key -> clone primary key, per copied model.
    pk_maps: dict[str, dict[int, int]] = field(default_factory=dict)
    linked: list[str] = field(default_factory=list)  # shared models the clone points at
    left_out: list[str] = field(default_factory=list)  # what a clone deliberately does not copy
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.dry_run:
            head = [
                f"Dry run: nothing was written. Cloning project {self.source_id} ({self.source_name}) "
                f"as {self.name!r} would create:"
            ]
        else:
            head = [
                f"Cloned project {self.source_id} ({self.source_name}) into project {self.project_id} "
                f"({self.name}, uuid {self.project_uuid}). Created:"
            ]
        width = max(len(label) for label in self.created)
        rows = [f"  {label:<{width}} {number(count):>10}" for label, count in self.created.items()]
        return [
            *head,
            *rows,
            "Linked, not duplicated (shared): " + ", ".join(self.linked),
            "Left out (data, not configuration):",
            *(f"  {item}" for item in self.left_out),
            "Notes:",
            *(f"  {note}" for note in self.notes),
        ]


def clone_project(
    source,
    name: str,
    owner=None,
    dry_run: bool = False,
    allow_duplicate_name: bool = False,
    progress: Progress = SILENT,
) -> CloneReport:
    """Copy the template project `source` as a new project called `name`, owned by `owner`
    (default: the template's owner), in one transaction; `dry_run` rolls it back.
    `allow_duplicate_name` lets the clone share its name with a project outside any organization
    (the database's constraint within an organization still holds). `progress` hears one stage,
    the models copied."""
    name = checked_name(source, name, allow_duplicate_name)
    try:
        with transaction.atomic():
            report = _Cloner(source, name, owner, progress).run()
            report.dry_run = dry_run
            if dry_run:
                transaction.set_rollback(True)
    except IntegrityError as error:  # e.g. a project of that name appeared meanwhile
        raise CloneError(f"the clone conflicts with existing rows: {str(error).splitlines()[0]}") from None
    finally:
        progress.finish()
    return report


# -- input checks ---------------------------------------------------------------------------------


def checked_name(source, name: str, allow_duplicate: bool = False) -> str:
    """The clone's name, stripped, or a CloneError: empty, too long, or taken where the model's
    unique constraints require a unique name (a project name within its organization). Where the
    constraint cannot apply (no organization: NULLs are distinct), a taken name is refused too,
    unless `allow_duplicate`: cloning a template twice under one name is a slip, not a wish."""
    model = type(source)
    name = (name or "").strip()
    max_length = model._meta.get_field("name").max_length
    if not name:
        raise CloneError("the new project's name is empty")
    if len(name) > max_length:
        raise CloneError(f"the new project's name is {len(name)} characters long; at most {max_length} are allowed")
    for fields in _unique_field_sets(model):
        if "name" not in fields:
            continue
        scope = {
            model._meta.get_field(f).attname: getattr(source, model._meta.get_field(f).attname)
            for f in fields
            if f != "name"
        }
        outside = [attname for attname, value in scope.items() if value is None]
        if outside and allow_duplicate:
            continue
        # NULL matches NULL here, as the operator reads it: "another project without organization"
        lookup = {attname: value for attname, value in scope.items() if value is not None}
        lookup.update({f"{attname}__isnull": True for attname in outside})
        taken = model._base_manager.filter(name=name, **lookup).values_list("pk", flat=True).first()
        if taken is not None:
            where = ", ".join(f for f in fields if f != "name")
            if outside:
                raise CloneError(
                    f"project {taken} is already named {name!r}, also without {where}; choose another name "
                    "or pass --allow-duplicate-name"
                )
            raise CloneError(f"project {taken} is already named {name!r} in the same {where}; choose another name")
    return name


def _unique_field_sets(model: type[models.Model]) -> list[tuple[str, ...]]:
    sets = [tuple(names) for names in model._meta.unique_together]
    sets += [
        tuple(c.fields)
        for c in model._meta.constraints
        if isinstance(c, models.UniqueConstraint) and c.fields and c.condition is None
    ]
    return sets


# -- the walk -------------------------------------------------------------------------------------


class _Cloner:
    def __init__(self, source, name: str, owner, progress: Progress):
        self.source = source
        self.progress = progress
        self.name = name
        self.owner = owner
        self.maps: dict[str, dict[int, int]] = {}
        self.created: dict[str, int] = {}
        self.project = None
        self.now = None  # the clone's creation time, given to every copied row

    def run(self) -> CloneReport:
        copied = list(graph.nodes(clone=Clone.COPY))
        self.progress.stage("clone", len(copied), "models")
        for node in copied:
            self.copy_rows(node)
            self.progress.advance(1)
        for node in graph.NODES:
            for m2m in node.m2m_fields():
                self.copy_links(node, m2m)
        self.copy_roles()
        return CloneReport(
            source_id=self.source.pk,
            source_name=self.source.name,
            project_id=self.project.pk,
            project_uuid=self.project.uuid,
            name=self.project.name,
            created=self.created,
            pk_maps=self.maps,
            linked=[node.label for node in graph.nodes(clone=Clone.LINK)],
            left_out=_left_out(),
            notes=_notes(),
        )

    # -- rows -------------------------------------------------------------------------------------

    def copy_rows(self, node: graph.Node) -> None:
        read = [f.attname for f in _template_fields(node)]
        template_rows = list(node.rows_of(self.source).order_by("pk").values("pk", *read))
        if node.root:  # the project itself: created, not inserted
            (row,) = template_rows
            self.project = self.create_project(node, row)
            self.now = self.project.created_at
            self.maps[node.label] = {row["pk"]: self.project.pk}
        else:
            new_rows = [self.new_row(node, row) for row in template_rows]
            new_pks = insert_rows(node.model, new_rows)
            self.maps[node.label] = {row["pk"]: pk for row, pk in zip(template_rows, new_pks)}
        self.created[node.label] = len(template_rows)

    def create_project(self, node: graph.Node, row: dict):
        """Upstream's create without its side effects: no default station, device, site or
        capture set, and no roles yet (they are copied with the memberships)."""
        values = {f.attname: self.remap(f, row[f.attname]) for f in _template_fields(node) if not _is_timestamp(f)}
        values.update(name=self.name)
        if self.owner is not None:
            values.update(owner_id=self.owner.pk)
        return node.model.objects.create(create_defaults=False, create_roles=False, **values)

    def new_row(self, node: graph.Node, row: dict) -> dict:
        """The copy of a template row: its values with relations remapped; a fresh UUID, empty
        caches and no files, as a new instance has them; the clone's creation time."""
        fresh = node.model()
        values = {}
        for f in node.model._meta.concrete_fields:
            if f.primary_key:
                continue
            if _is_timestamp(f):
                values[f.attname] = self.now
            elif f.name == "uuid" or f.name in node.calculated or f.name in node.excluded:
                values[f.attname] = getattr(fresh, f.attname)
            else:
                values[f.attname] = self.remap(f, row[f.attname])
        for field_name, key, label in node.json_references:
            document = values[node.model._meta.get_field(field_name).attname]
            if isinstance(document, dict) and isinstance(document.get(key), list):
                document[key] = self.remap_ids(graph.NODES_BY_LABEL[label], document[key])
        return values

    def remap(self, f: models.Field, value):
        """A foreign key's value in the clone: the copy of a copied row, the same shared row, or
        nothing when it points to data a clone does not carry."""
        target = graph.graph_target(f)
        if value is None or target is None or target.clone is Clone.LINK:
            return value
        if target.clone is Clone.SKIP:
            return None
        if target.label not in self.maps:  # a self-reference, or a graph out of order: a bug, not an input
            raise RuntimeError(f"{f.model._meta.label}.{f.name} points to {target.label}, not copied yet")
        # A row outside the template (a device of no project, say) stays the one the template uses.
        return self.maps[target.label].get(value, value)

    def remap_ids(self, target: graph.Node, ids: list) -> list:
        """The same rule for ids inside JSON: a sampler's deployment_ids name the clone's stations;
        ids of skipped data (captures, sessions) are dropped, as the data is."""
        if target.clone is Clone.SKIP:
            return []
        if target.clone is Clone.LINK:
            return ids
        return [self.maps[target.label].get(value, value) for value in ids]

    # -- links ------------------------------------------------------------------------------------

    def copy_links(self, node: graph.Node, m2m: models.ManyToManyField) -> None:
        through = m2m.remote_field.through
        ends = {
            through._meta.get_field(m2m.m2m_field_name()).attname: node,
            through._meta.get_field(m2m.m2m_reverse_field_name()).attname: graph.graph_target(m2m),
        }
        if any(end is None or end.clone is Clone.SKIP for end in ends.values()):
            return  # links to data: left out (listed in the report)
        if all(end.clone is Clone.LINK for end in ends.values()):
            return  # between shared rows: already there for every project
        remaps = {attname: self.maps[end.label] if end.clone is Clone.COPY else None for attname, end in ends.items()}
        self.created[f"{node.label}.{m2m.name}"] = insert_remapped_rows(through, remaps)

    def copy_roles(self) -> None:
        """The template's role groups hold its members' roles: the clone gets its own five groups
        and each member the same roles there; the clone's owner is its project manager, as any
        new project's owner is."""

        groups = create_roles_for_project(self.project)
        template_groups = dict(
            Group.objects.filter(name__in=[role.group_name(self.source) for role in groups]).values_list("name", "pk")
        )
        group_map = {
            template_groups[role.group_name(self.source)]: group.pk
            for role, group in groups.items()
            if role.group_name(self.source) in template_groups
        }
        through = User.groups.through
        insert_remapped_rows(through, {"group_id": group_map, "user_id": None})
        if self.project.owner_id:
            assign_role(self.project, self.project.owner, ProjectManager)
        # The owner may have become a member just now: count what the clone holds.
        self.created[UserProjectMembership._meta.label] = UserProjectMembership.objects.filter(
            project=self.project
        ).count()
        self.created[Group._meta.label + " (role groups)"] = len(groups)
        self.created["users.User.groups (roles)"] = through.objects.filter(group__in=groups.values()).count()


def _template_fields(node: graph.Node) -> list[models.Field]:
    """What a clone reads from a template row: every concrete field but the primary key, the
    UUID, the caches and the excluded fields (files); secrets included (same instance)."""
    return [
        f
        for f in node.model._meta.concrete_fields
        if not f.primary_key and f.name != "uuid" and f.name not in node.excluded and f.name not in node.calculated
    ]


def _is_timestamp(f: models.Field) -> bool:
    return bool(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))


# -- set-wise SQL ---------------------------------------------------------------------------------


def insert_rows(model: type[models.Model], rows: list[dict]) -> list[int]:
    """INSERT rows (dicts by attname, with a fresh `uuid` each) in one statement per
    bound-variable limit, and return their new primary keys in the rows' order. (Django's
    bulk_create splits SQLite inserts into 999-variable batches, forty deployments each.)"""
    if not rows:
        return []
    quote = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    uuid_field, pk_field = model._meta.get_field("uuid"), model._meta.pk
    one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, bound_variable_limit() // len(fields))
    pk_by_uuid = {}
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            cursor.execute(
                f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
                f"VALUES {', '.join([one_row] * len(chunk))} "
                f"RETURNING {quote(uuid_field.column)}, {quote(pk_field.column)}",
                [f.get_db_prep_save(row[f.attname], connection) for row in chunk for f in fields],
            )
            # RETURNING's row order is not guaranteed (SQLite says so): match on the UUIDs.
            pk_by_uuid.update((uuid_field.to_python(u), pk) for u, pk in cursor.fetchall())
    return [pk_by_uuid[row["uuid"]] for row in rows]


def insert_remapped_rows(through: type[models.Model], remaps: Mapping[str, dict[int, int] | None]) -> int:
    """Copy rows of a link table inside the database (INSERT ... SELECT): for each column, a map
    (old key -> new key; only rows whose key is in it are copied) or None (the value is kept).
    Returns the number of rows inserted."""
    rows = through._base_manager.all()
    new_values = {}
    for attname, mapping in remaps.items():
        if mapping is None:
            new_values[f"new_{attname}"] = F(attname)
            continue
        if not mapping:
            return 0
        rows = rows.filter(**{f"{attname}__in": sorted(mapping)})
        new_values[f"new_{attname}"] = _remapped(attname, mapping)
    select = rows.order_by().annotate(**new_values).values_list(*new_values)
    sql, params = select.query.sql_with_params()
    quote = connection.ops.quote_name
    columns = ", ".join(quote(through._meta.get_field(attname).column) for attname in remaps)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(through._meta.db_table)} ({columns}) {sql}", params)
        return cursor.rowcount


def _remapped(attname: str, mapping: dict[int, int]) -> models.Expression:
    if len(mapping) == 1:  # the rows are filtered on the one old key
        return Value(next(iter(mapping.values())), output_field=models.BigIntegerField())
    return Case(
        *(When(**{attname: old}, then=Value(new)) for old, new in mapping.items()),
        output_field=models.BigIntegerField(),
    )


def bound_variable_limit() -> int:
    """How many parameters one statement may carry on this database."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    if connection.vendor == "postgresql":
        return POSTGRES_MAX_PARAMETERS
    return connection.features.max_query_params or POSTGRES_MAX_PARAMETERS


# -- the report's fixed parts, read from the graph ------------------------------------------------


def _left_out() -> list[str]:
    items = [f"{node.label}: {node.doc}" for node in graph.nodes(clone=Clone.SKIP)]
    for node in graph.NODES:
        for m2m in node.m2m_fields():
            target = graph.graph_target(m2m)
            if node.clone is Clone.SKIP or target is None or target.clone is Clone.SKIP:
                items.append(f"{node.label}.{m2m.name}: links to {m2m.related_model._meta.label}, not copied")
    return items


def _notes() -> list[str]:
    notes = []
    for node in graph.nodes(clone=Clone.COPY):
        if node.secret:
            notes.append(
                f"{node.label}: credentials copied ({', '.join(node.secret)}): the clone uses the same "
                "storage with the same keys"
            )
        if node.calculated:
            notes.append(f"{node.label}: cached fields start empty ({', '.join(node.calculated)})")
        if node.excluded:
            notes.append(f"{node.label}: not copied: {', '.join(node.excluded)} (files are not shared)")
    for node in graph.NODES:
        label = node.label
        for field_name, key, target in node.json_references:
            rule = {
                Clone.COPY: "point to the clone's copies",
                Clone.LINK: "are kept",
                Clone.SKIP: "are emptied (not copied)",
            }[graph.NODES_BY_LABEL[target].clone]
            notes.append(f"{label}.{field_name}: {key} ({target}) {rule}")
    notes.append("created_at and updated_at of every copied row are the clone's creation time")
    return notes
