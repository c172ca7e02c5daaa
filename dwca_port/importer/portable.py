"""The portable writer (every database; the reference): a batch of parsed rows at a time.

Relations to other project rows are resolved with one lookup by UUID per batch and relation,
never one query per row, and rows are written with bulk_create (new) or one prepared UPDATE
(--on-conflict=update). Relations of a model to itself are set once all its rows exist.
"""

from __future__ import annotations

import contextlib
import uuid as uuid_module
from collections import defaultdict

from django.db import DatabaseError, transaction

from ami.base.bulk import update_rows
from dwca_port import graph
from dwca_port.graph import Scope
from dwca_port.importer import caches
from dwca_port.importer.refusals import first_refused
from dwca_port.importer.state import BATCH, ImportState, batched
from dwca_port.tables import Table


class PortableWriter:
    def __init__(self, state: ImportState):
        self.state = state
        self._counted: dict[str, int] = {}

    def prepare(self) -> None:
        """Nothing to stage: rows are read from the archive as they are written."""

    def begin_writing(self) -> None:
        """Nothing to load: shared references are looked up in state.shared."""

    def existing(self) -> dict[str, list[tuple[int, uuid_module.UUID]]]:
        """(line, UUID) of archived project rows whose UUID exists here already, per model."""
        found = {}
        for node in graph.nodes(Scope.PROJECT):
            table = self.state.tables[node.label]
            index = table.index_of(table.identifier_term)
            rows = []
            self._counted[node.label] = 0
            for batch in batched(self.state.rows(table)):
                self._counted[node.label] += len(batch)
                lines = {}
                for line, cells in batch:
                    with contextlib.suppress(ValueError, TypeError):
                        lines.setdefault(uuid_module.UUID(cells[index]), line)
                here = node.model._base_manager.filter(uuid__in=list(lines)).values_list("uuid", flat=True)
                rows += [(lines[u], u) for u in here]
            if rows:
                found[node.label] = sorted(rows)
        return found

    def row_count(self, node: graph.Node) -> int | None:
        """The archive's rows of `node`, when a pass over them counted them (the conflict check)."""
        return self._counted.get(node.label)

    def write(self, node: graph.Node) -> None:
        state = self.state
        table = state.tables[node.label]
        model = node.model
        counts = state.report.models[node.label]
        id_term = table.identifier_term
        overrides = state.overrides(node)
        self_refs = [f for f in node.foreign_keys() if f.related_model is model]
        deferred: list[tuple[uuid_module.UUID, str, uuid_module.UUID]] = []
        names = [f.name for f in node.fields() if f not in self_refs]  # what an update writes
        for batch in batched(state.parsed_rows(table)):
            existing = dict(
                node.usable_by(state.project_pk)
                .filter(uuid__in=[v[id_term] for _, v in batch])
                .values_list("uuid", "pk")
            )
            targets = _project_targets(node, table, batch, self_refs, state.project_pk)
            new, changed = [], []
            for line, values in batch:
                row_uuid = values[id_term]
                attributes = state.row_attributes(node, table, values, line, targets, skip=self_refs)
                if attributes is None:
                    state.dropped[node.label].add(row_uuid)
                    counts.dropped += 1
                    continue
                attributes.update(overrides)
                for ref in self_refs:
                    target = values.get(table.term_of(ref.name))
                    if target is not None:
                        deferred.append((row_uuid, ref.attname, target))
                if row_uuid in existing:
                    if state.options.on_conflict == "update":
                        changed.append((line, model(pk=existing[row_uuid], uuid=row_uuid, **attributes)))
                    else:
                        counts.skipped += 1
                    continue
                new.append((line, model(uuid=row_uuid, **attributes)))
            if new:
                self._written(table, model, new, lambda rows: model._base_manager.bulk_create(rows, batch_size=BATCH))
                counts.created += len(new)
            if changed:
                self._written(table, model, changed, lambda rows: update_rows(model, rows, names))
                counts.updated += len(changed)
            state.progress.advance(len(batch))
        if deferred:
            _link_self_references(node, deferred, state.project_pk)
        if counts.created or counts.updated or counts.skipped:
            state.say(f"{node.label}: {counts.created} created, {counts.skipped} skipped, {counts.updated} updated")

    def _written(self, table: Table, model, rows: list[tuple[int, object]], write) -> None:
        """write(objects) in a savepoint; when the database refuses, name the first row it refuses."""
        try:
            with transaction.atomic():
                write([row for _, row in rows])
        except DatabaseError as error:
            raise first_refused(self.state, table, model, rows, write, error) from None

    def compare_caches(self, node: graph.Node) -> None:
        caches.compare_from_archive(self.state, node)

    def close(self) -> None:
        """Nothing to release."""


def _project_targets(node: graph.Node, table: Table, batch, self_refs, project_pk: int | None) -> dict[str, dict]:
    """For each relation to another project model: archived UUID -> primary key, one query per
    batch, among the rows this project may refer to."""
    targets = {}
    for relation in node.foreign_keys():
        target = graph.graph_target(relation)
        if relation in self_refs or target is None or target.scope is not Scope.PROJECT:
            continue
        term = table.term_of(relation.name)
        wanted = {values[term] for _, values in batch if values.get(term) is not None}
        targets[relation.name] = (
            dict(target.usable_by(project_pk).filter(uuid__in=wanted).values_list("uuid", "pk")) if wanted else {}
        )
    return targets


def _link_self_references(node: graph.Node, deferred, project_pk: int | None) -> None:
    """Relations of a model to itself (e.g. a classification applied to another), once all its rows exist."""
    model = node.model
    by_field = defaultdict(list)
    for row, attname, target in deferred:
        by_field[attname].append((row, target))
    for attname, pairs in by_field.items():
        relation = next(f for f in model._meta.concrete_fields if f.attname == attname)
        for batch in batched(pairs):
            pks = dict(
                node.usable_by(project_pk)
                .filter(uuid__in={u for pair in batch for u in pair})
                .values_list("uuid", "pk")
            )
            rows = []
            for row, target in batch:
                if row in pks:
                    obj = model(pk=pks[row])
                    setattr(obj, attname, pks.get(target))
                    rows.append(obj)
            update_rows(model, rows, [relation.name])


def write_links(state: ImportState, table: Table) -> None:
    """A many-to-many link table: the pairs whose two ends are here, those not linked yet."""
    node = graph.NODES_BY_LABEL[table.node]
    relation = node.model._meta.get_field(table.link)
    through = relation.remote_field.through
    source_name, target_name = relation.m2m_field_name(), relation.m2m_reverse_field_name()
    target_node = graph.graph_target(relation)
    owner_term, target_term = table.columns[1].term, table.columns[2].term
    created = skipped = 0
    for batch in batched(state.parsed_rows(table)):
        owners = _pks(state, node, {v[owner_term] for _, v in batch})
        linked = _pks(state, target_node, {v[target_term] for _, v in batch})
        pairs = {
            (owners[v[owner_term]], linked[v[target_term]])
            for _, v in batch
            if v[owner_term] in owners and v[target_term] in linked
        }
        present = set(
            through.objects.filter(
                **{f"{source_name}_id__in": {a for a, _ in pairs}, f"{target_name}_id__in": {b for _, b in pairs}}
            ).values_list(f"{source_name}_id", f"{target_name}_id")
        )
        through.objects.bulk_create(
            [through(**{f"{source_name}_id": a, f"{target_name}_id": b}) for a, b in sorted(pairs - present)]
        )
        created += len(pairs - present)
        skipped += len(pairs & present)
    counts = state.report.models[f"{node.label}.{table.link}"]
    counts.created += created
    counts.skipped += skipped


def _pks(state: ImportState, node: graph.Node, uuids: set) -> dict:
    if node.scope is not Scope.PROJECT:
        return {u: state.shared[node.label][u] for u in uuids if u in state.shared[node.label]}
    return dict(node.usable_by(state.project_pk).filter(uuid__in=uuids).values_list("uuid", "pk"))
