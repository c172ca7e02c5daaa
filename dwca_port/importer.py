"""Archive -> checks -> identity resolution -> database, in one transaction.

1. The archive is validated first; a blocking finding stops the import before anything is written.
2. Conflicts by UUID are found before writing: with --on-conflict=error they are listed and
   nothing is written.
3. Shared references are resolved: users by e-mail, organizations by slug, pipelines and
   algorithms by (name, version), category maps and processing services by UUID, taxa through
   the reconciliation interface. Rows created from the archive keep their archived UUIDs.
4. Project rows are written model by model in the graph's dependency order. On PostgreSQL each
   table is staged with COPY and written with one INSERT ... SELECT (dwca_port/staging.py);
   elsewhere (SQLite) a batch at a time: relations to other project rows are resolved with one
   lookup by UUID per batch and relation, never one query per row. Neither path holds a map of
   every row of a big table in memory.
5. Caches are recomputed and compared with the archived values; role groups and memberships are
   created; the report says what was created, skipped, updated, dropped and decided.
`dry_run` runs the same path and rolls back.
"""
from __future__ import annotations

import contextlib
import functools
import itertools
import sys
import time
import uuid as uuid_module
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, models, transaction

from dwca_port import graph
from dwca_port.extensions import tables_for_profile
from dwca_port.extensions.antenna import FORMAT_VERSION_TERM, ROLES_TERM, TIME_ZONE_TERM, identifier_term, node_table
from dwca_port.extensions.base import FORMAT_VERSION, FULL, Kind, Table
from dwca_port.graph import Scope
from dwca_port.json_references import to_pks
from dwca_port.sources import SourceError, TableSource, open_source
from dwca_port.values import ValueError_, parse_value

BATCH = 2000
CONFLICT_MODES = ("error", "skip", "update")


class ImportError_(Exception):
    """The import cannot go on; the message names the file, line, column and rule when it can."""


class _Rollback(Exception):
    """Raised at the end of a dry run to undo everything."""


@dataclass
class ImportOptions:
    on_conflict: str = "error"
    dry_run: bool = False
    create_missing_users: bool = False
    owner_email: str | None = None
    into_organization: str | None = None
    validate: bool = True
    taxa: Any = None  # a taxonomy.ReconciliationSettings; None: key, then name, then create
    staging: bool | None = None  # the COPY + INSERT ... SELECT path; None: on PostgreSQL


@dataclass
class ModelCounts:
    created: int = 0
    skipped: int = 0
    updated: int = 0
    dropped: int = 0


@dataclass
class ImportReport:
    source: str
    dry_run: bool = False
    project: dict = field(default_factory=dict)
    models: dict[str, ModelCounts] = field(default_factory=lambda: defaultdict(ModelCounts))
    conflicts: dict[str, list[str]] = field(default_factory=dict)
    taxa: list[dict] = field(default_factory=list)
    taxa_summary: str = ""
    users_not_found: list[str] = field(default_factory=list)
    users_created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    storage_sources_needing_credentials: list[str] = field(default_factory=list)
    cache_differences: dict[str, int] = field(default_factory=dict)
    cache_difference_examples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "project": self.project,
            "models": {label: vars(counts) for label, counts in self.models.items()},
            "conflicts": self.conflicts,
            "taxa": self.taxa,
            "taxa_summary": self.taxa_summary,
            "users_not_found": self.users_not_found,
            "users_created": self.users_created,
            "dropped": self.dropped,
            "storage_sources_needing_credentials": self.storage_sources_needing_credentials,
            "cache_differences": self.cache_differences,
            "cache_difference_examples": self.cache_difference_examples,
            "seconds": round(self.seconds, 3),
        }


def _batched(rows: Iterable, size: int = BATCH) -> Iterator[list]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


@contextlib.contextmanager
def _archived_timestamps():
    """Keep the archive's created_at/updated_at: switch off auto_now(_add) while importing."""
    switched = []
    for node in graph.NODES:
        for model_field in node.model._meta.concrete_fields:
            if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
                switched.append((model_field, model_field.auto_now, model_field.auto_now_add))
                model_field.auto_now = model_field.auto_now_add = False
    try:
        yield
    finally:
        for model_field, auto_now, auto_now_add in switched:
            model_field.auto_now, model_field.auto_now_add = auto_now, auto_now_add


class Importer:
    def __init__(self, source: TableSource, options: ImportOptions, progress: TextIO | None = sys.stderr):
        self.source = source
        self.options = options
        self.progress = progress
        self.report = ImportReport(source.label, dry_run=options.dry_run)
        self.tables = {t.node: t for t in tables_for_profile(FULL) if t.node and not t.link}
        self.links = [t for t in tables_for_profile(FULL) if t.link]
        # archived UUID -> target primary key, for shared models and users (bounded, small tables)
        self.shared: dict[str, dict[uuid_module.UUID, int]] = defaultdict(dict)
        # archived UUIDs of rows not written (unknown user...): references to them become null
        self.dropped: dict[str, set[uuid_module.UUID]] = defaultdict(set)
        self.project = None
        self.staging = None  # a staging.Staging while the PostgreSQL path writes
        self._started = time.monotonic()

    # -- helpers ------------------------------------------------------------------------------------

    def say(self, message: str) -> None:
        if self.progress:
            self.progress.write(f"[{time.monotonic() - self._started:7.1f}s] {message}\n")
            self.progress.flush()

    def fail(self, table: Table, line: int | None, column: int | None, message: str) -> ImportError_:
        member = self.source.member(table) if self.source.has(table) else table.file
        place = member + (f", line {line}" if line else "") + (f", column {column + 1} ({table.columns[column].name})" if column is not None else "")
        return ImportError_(f"{place}: {message}")

    def rows(self, table: Table) -> Iterator[tuple[int, list]]:
        if not self.source.has(table):
            return iter(())
        try:
            yield from self.source.rows(table)
        except SourceError as error:
            raise ImportError_(str(error.finding)) from None

    def parsed_rows(self, table: Table) -> Iterator[tuple[int, dict[str, Any]]]:
        """Rows as {term: value}, each cell parsed by its column's kind."""
        for line, cells in self.rows(table):
            values = {}
            for index, (column, cell) in enumerate(zip(table.columns, cells)):
                try:
                    values[column.term] = parse_value(column.kind, cell)
                except ValueError_ as error:
                    raise self.fail(table, line, index, str(error)) from None
            yield line, values

    # -- the whole import ------------------------------------------------------------------------------

    def run(self) -> ImportReport:
        from dwca_port import staging

        self._check_format()
        if staging.enabled(self.options):
            self.staging = staging.Staging(self)  # conflicts are found once the rows are staged
        elif self.options.on_conflict == "error":
            self._refuse_conflicts()
        try:
            with transaction.atomic(), _archived_timestamps():
                self._import()
                if self.options.dry_run:
                    raise _Rollback
        except _Rollback:
            self.say("dry run: everything rolled back")
        except IntegrityError as error:
            raise ImportError_(f"the database refused a row: {error}") from None
        self.report.seconds = time.monotonic() - self._started
        return self.report

    def _check_format(self) -> None:
        project_table = self.tables["main.Project"]
        if not self.source.has(project_table):
            raise ImportError_(f"{self.source.label}: no Antenna project table (rowType {project_table.row_type}); "
                               "only a full-profile archive can be imported")
        rows = list(self.parsed_rows(project_table))
        if len(rows) != 1:
            raise self.fail(project_table, None, None, f"holds {len(rows)} projects; an archive holds exactly one")
        line, values = rows[0]
        version = values.get(FORMAT_VERSION_TERM)
        if version is None or version > FORMAT_VERSION:
            raise self.fail(project_table, line, project_table.index_of(FORMAT_VERSION_TERM),
                            f"format version {version} is newer than this toolkit reads ({FORMAT_VERSION}); upgrade it")
        zone = values.get(TIME_ZONE_TERM)
        if zone and zone != settings.TIME_ZONE:
            raise self.fail(project_table, line, project_table.index_of(TIME_ZONE_TERM),
                            f"local times are in {zone}, this instance stores {settings.TIME_ZONE}")

    def _refuse_conflicts(self) -> None:
        for node in graph.nodes(Scope.PROJECT):
            table = self.tables[node.label]
            id_term = identifier_term(node)
            found = []
            for batch in _batched(self.rows(table)):
                index = table.index_of(id_term)
                uuids = [cells[index] for _, cells in batch if cells[index]]
                found += [str(u) for u in node.model._base_manager.filter(uuid__in=uuids).values_list("uuid", flat=True)]
            if found:
                self.report.conflicts[node.label] = sorted(found)
        self._raise_conflicts()

    def _raise_conflicts(self) -> None:
        if self.report.conflicts:
            total = sum(len(v) for v in self.report.conflicts.values())
            listing = "; ".join(f"{label}: {len(v)} ({', '.join(v[:3])}{', ...' if len(v) > 3 else ''})"
                                for label, v in self.report.conflicts.items())
            raise ImportError_(f"{total} rows of the archive already exist here (by UUID): {listing}. "
                               "Nothing was written; use --on-conflict=skip or --on-conflict=update.")

    def _import(self) -> None:
        from dwca_port.resolve import resolve_shared

        if self.staging:
            self.staging.stage_all()
            if self.options.on_conflict == "error":
                self.report.conflicts.update(self.staging.conflicts())
                self._raise_conflicts()
        resolve_shared(self)
        if self.staging:
            self.staging.load_shared()
        for node in graph.nodes(Scope.PROJECT):
            if self.staging and self.staging.can_write(node):
                self.staging.write_node(node, self._project_overrides({}) if node.label == "main.Project" else {})
            else:
                self._write_node(node)
                if self.staging:
                    self.staging.note_dropped([node.label])
        for table in self.links:
            self._write_links(table)
        self._after_writing()
        if self.staging:
            self.staging.close()

    # -- project rows ----------------------------------------------------------------------------------

    def _write_node(self, node: graph.Node) -> None:
        table = self.tables[node.label]
        model = node.model
        counts = self.report.models[node.label]
        id_term = identifier_term(node)
        fields = node.fields()
        self_refs = [f for f in node.foreign_keys() if f.related_model is model]
        deferred: list[tuple[uuid_module.UUID, str, uuid_module.UUID]] = []
        for batch in _batched(self.parsed_rows(table)):
            uuids = [values[id_term] for _, values in batch]
            existing = dict(model._base_manager.filter(uuid__in=uuids).values_list("uuid", "pk"))
            targets = self._resolve_batch(node, table, batch, self_refs)
            new, changed = [], []
            for line, values in batch:
                row_uuid = values[id_term]
                attributes = self._attributes(node, table, fields, values, targets, line, self_refs)
                if attributes is None:
                    self.dropped[node.label].add(row_uuid)
                    counts.dropped += 1
                    continue
                for ref in self_refs:
                    target = values.get(_term(table, ref.name))
                    if target is not None:
                        deferred.append((row_uuid, ref.attname, target))
                if row_uuid in existing:
                    if self.options.on_conflict == "update":
                        changed.append(model(pk=existing[row_uuid], uuid=row_uuid, **attributes))
                    else:
                        counts.skipped += 1
                    continue
                new.append(model(uuid=row_uuid, **attributes))
            if new:
                model._base_manager.bulk_create(new, batch_size=BATCH)
                counts.created += len(new)
            if changed:
                from ami.base.bulk import update_rows

                update_rows(model, changed, [f.name for f in fields if f.name not in {r.name for r in self_refs}])
                counts.updated += len(changed)
            self._after_batch(node, table, batch)
        if deferred:
            self._link_self_references(model, deferred)
        if counts.created or counts.updated or counts.skipped:
            self.say(f"{node.label}: {counts.created} created, {counts.skipped} skipped, {counts.updated} updated")

    def _resolve_batch(self, node, table, batch, self_refs) -> dict[str, dict[uuid_module.UUID, int]]:
        """For each relation to another project model: archived UUID -> primary key, one query per batch."""
        targets = {}
        for relation in node.foreign_keys():
            target = graph.graph_target(relation)
            if relation in self_refs or target is None or target.scope is not Scope.PROJECT:
                continue
            term = _term(table, relation.name)
            wanted = {values[term] for _, values in batch if values.get(term) is not None}
            targets[relation.name] = dict(
                target.model._base_manager.filter(uuid__in=wanted).values_list("uuid", "pk")) if wanted else {}
        return targets

    def _attributes(self, node, table, fields, values, targets, line, self_refs) -> dict | None:
        """Model attributes of one archived row; None when the row cannot be kept (reported)."""
        attributes = {}
        json_reference_fields = {name for name, _, _ in node.json_references}
        for model_field in fields:
            if model_field in self_refs:
                continue
            term = _term(table, model_field.name)
            value = values.get(term)
            if model_field.is_relation:
                target = graph.graph_target(model_field)
                if value is None:
                    attributes[model_field.attname] = None
                    continue
                if target.label in self.dropped and value in self.dropped[target.label]:
                    pk = None
                elif target.scope is Scope.PROJECT:
                    pk = targets[model_field.name].get(value)
                    if pk is None:
                        raise self.fail(table, line, table.index_of(term),
                                        f"refers to {target.name} {value}, which is neither in the archive nor here")
                else:
                    pk = self.shared[target.label].get(value)
                if pk is None:
                    if not model_field.null:
                        self.report.dropped.append(f"{node.name} {values[identifier_term(node)]}: its {model_field.name} "
                                                   f"({target.name} {value}) is not here")
                        return None
                attributes[model_field.attname] = pk
            else:
                if model_field.name in json_reference_fields:
                    value = to_pks(node, model_field.name, value)
                attributes[model_field.attname] = stored_value(model_field, value)
        if node.label == "main.Project":
            self._project_overrides(attributes)
        return attributes

    def _project_overrides(self, attributes: dict) -> dict:
        from ami.main.models import Organization
        from ami.users.models import User

        if self.options.owner_email:
            owner = User.objects.filter(email__iexact=self.options.owner_email).first()
            if owner is None:
                raise ImportError_(f"--owner: no user with e-mail {self.options.owner_email!r} here")
            attributes["owner_id"] = owner.pk
        if self.options.into_organization:
            organization = Organization.objects.filter(slug=self.options.into_organization).first()
            if organization is None:
                raise ImportError_(f"--into-organization: no organization with slug {self.options.into_organization!r} here")
            attributes["organization_id"] = organization.pk
        return attributes

    def _after_batch(self, node, table, batch) -> None:
        if node.label == "main.Project":
            _, values = batch[0]
            self.set_project(values[identifier_term(node)])
        elif node.label == "main.UserProjectMembership":
            id_term = identifier_term(node)
            self.assign_roles(table, [(line, values[id_term], values.get(ROLES_TERM)) for line, values in batch])
        elif node.label == "main.S3StorageSource":
            self.report.storage_sources_needing_credentials += [
                values[_term(table, "name")] for _, values in batch]

    def set_project(self, project_uuid) -> None:
        from ami.main.models import Project

        self.project = Project.objects.get(uuid=project_uuid)
        self.report.project = {"id": self.project.pk, "uuid": str(self.project.uuid), "name": self.project.name}

    def assign_roles(self, table, memberships: list[tuple[int, Any, str | None]]) -> None:
        """Project roles of written memberships: (line, membership UUID, space-separated role names)."""
        from ami.main.models import UserProjectMembership
        from ami.users.roles import ROLES_BY_NAME, assign_role

        written = {str(m.uuid): m for m in UserProjectMembership.objects.filter(
            uuid__in=[str(row_uuid) for _, row_uuid, _ in memberships]).select_related("user", "project")}
        for line, row_uuid, roles in memberships:
            membership = written.get(str(row_uuid).lower())
            if membership is None:
                continue
            for name in (roles or "").split():
                role = ROLES_BY_NAME.get(name)
                if role is None:
                    raise self.fail(table, line, table.index_of(ROLES_TERM), f"unknown role {name!r}")
                assign_role(membership.project, membership.user, role)

    def _link_self_references(self, model, deferred) -> None:
        """Relations of a model to itself (e.g. a classification applied to another), once all its rows exist."""
        from ami.base.bulk import update_rows

        by_field = defaultdict(list)
        for row, attname, target in deferred:
            by_field[attname].append((row, target))
        for attname, pairs in by_field.items():
            relation = next(f for f in model._meta.concrete_fields if f.attname == attname)
            for batch in _batched(pairs):
                pks = dict(model._base_manager.filter(uuid__in={u for pair in batch for u in pair}).values_list("uuid", "pk"))
                rows = []
                for row, target in batch:
                    if row in pks:
                        obj = model(pk=pks[row])
                        setattr(obj, attname, pks.get(target))
                        rows.append(obj)
                update_rows(model, rows, [relation.name])

    # -- links -------------------------------------------------------------------------------------------

    def _write_links(self, table: Table) -> None:
        node = graph.NODES_BY_LABEL[table.node]
        relation = node.model._meta.get_field(table.link)
        through = relation.remote_field.through
        source_name, target_name = relation.m2m_field_name(), relation.m2m_reverse_field_name()
        target_node = graph.graph_target(relation)
        owner_term, target_term = table.columns[1].term, table.columns[2].term
        created = skipped = 0
        for batch in _batched(self.parsed_rows(table)):
            owners = self._pks(node, {v[owner_term] for _, v in batch})
            linked = self._pks(target_node, {v[target_term] for _, v in batch})
            pairs = {(owners[v[owner_term]], linked[v[target_term]]) for _, v in batch
                     if v[owner_term] in owners and v[target_term] in linked}
            present = set(through.objects.filter(**{f"{source_name}_id__in": {a for a, _ in pairs},
                                                    f"{target_name}_id__in": {b for _, b in pairs}})
                          .values_list(f"{source_name}_id", f"{target_name}_id"))
            through.objects.bulk_create(
                [through(**{f"{source_name}_id": a, f"{target_name}_id": b}) for a, b in sorted(pairs - present)])
            created += len(pairs - present)
            skipped += len(pairs & present)
        counts = self.report.models[f"{node.label}.{table.link}"]
        counts.created += created
        counts.skipped += skipped

    def _pks(self, node: graph.Node, uuids: set) -> dict:
        if node.scope is not Scope.PROJECT:
            return {u: self.shared[node.label][u] for u in uuids if u in self.shared[node.label]}
        return dict(node.model._base_manager.filter(uuid__in=uuids).values_list("uuid", "pk"))

    # -- after writing --------------------------------------------------------------------------------------

    def _after_writing(self) -> None:
        from ami.users.roles import create_roles_for_project
        from dwca_port.caches import compare_caches

        create_roles_for_project(self.project)
        self.say("recomputing cached values")
        compare_caches(self)


def stored_value(model_field: models.Field, value: Any) -> Any:
    """An archived cell's value as the column stores it: an empty cell is NULL where the column
    allows it, else the empty string (text) or the field's default."""
    if value == "" and model_field.null and not isinstance(model_field, models.JSONField):
        return None  # (a JSON field's "" is the JSON string "", a value)
    if value is None and not model_field.null:
        return "" if isinstance(model_field, (models.CharField, models.TextField)) else model_field.get_default()
    return value


def _term(table: Table, field_name: str) -> str:
    try:
        return _field_terms(table)[field_name]
    except KeyError:
        raise KeyError(f"{table.file} has no column for {field_name}") from None


@functools.cache
def _field_terms(table: Table) -> dict[str, str]:
    """Model field name -> term, per table (looked up for every cell of an import)."""
    return {column.field: column.term for column in table.columns if column.field}


def import_project(path: str | Path, options: ImportOptions | None = None, progress: TextIO | None = sys.stderr) -> ImportReport:
    """Import the project in the archive (or JSON document) at `path`."""
    options = options or ImportOptions()
    if options.on_conflict not in CONFLICT_MODES:
        raise ImportError_(f"--on-conflict must be one of {', '.join(CONFLICT_MODES)}")
    if options.validate:
        _validate_first(path)
    try:
        source = open_source(path)
    except SourceError as error:
        raise ImportError_(str(error.finding)) from None
    try:
        return Importer(source, options, progress).run()
    finally:
        source.close()


def _validate_first(path: str | Path) -> None:
    from dwca_port.validate import validate_archive

    from dwca_port.sources import looks_like_json

    if looks_like_json(path):
        return  # the JSON form is checked while it is read
    report = validate_archive(path, profile=FULL)
    if not report.ok:
        first = report.blocking[0]
        more = len(report.blocking) - 1
        # A finding about the whole archive names no member: say which file was given.
        prefix = "" if first.file else f"{path}: "
        raise ImportError_(f"{prefix}{first}" + (f" (and {more} more blocking findings; run validate_archive for all)" if more else ""))
