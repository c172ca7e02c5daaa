"""What follows the writing of a model's rows, as the graph declares it (graph.Node): the
project row becomes the import's project, extras with an `apply` are applied (a member's
roles), and rows whose secrets did not travel are reported (storage credentials to enter
again); an update that changes what the secrets are bound to (a storage source's endpoint or
bucket) drops the stored secrets. Both writers' rows go through here, so each effect is written once."""

from __future__ import annotations

from django.db import models

from ami.main.models import Project
from dwca_port import graph
from dwca_port.graph import ExtraValueError
from dwca_port.importer.state import ImportState
from dwca_port.tables import ANTENNA


def before_rows(state: ImportState, node: graph.Node) -> dict:
    """What after_rows compares with: the values of `secret_bound_to` fields of the archive's rows
    that exist here (UUID -> values)."""
    table = state.tables[node.label]
    if not node.secret_bound_to or not state.source.has(table):
        return {}
    uuids = [values[table.identifier_term] for _, values in state.parsed_rows(table)]
    rows = node.usable_by(state.project_pk).filter(uuid__in=uuids)
    return {row_uuid: tuple(bound) for row_uuid, *bound in rows.values_list("uuid", *node.secret_bound_to)}


def after_rows(state: ImportState, node: graph.Node, before: dict | None = None) -> None:
    table = state.tables[node.label]
    applied = [extra for extra in node.extras if extra.apply]
    if not (node.root or applied or node.secret) or not state.source.has(table):
        return
    rows = list(state.parsed_rows(table))  # the tables concerned are small: the project, members, storage
    if node.root:
        project = Project.objects.get(uuid=rows[0][1][table.identifier_term])
        state.project = project
        state.report.project = {"id": project.pk, "uuid": str(project.uuid), "name": project.name}
    for extra in applied:
        term = ANTENNA + extra.name
        try:
            extra.apply(
                state.project, [(line, values[table.identifier_term], values.get(term)) for line, values in rows]
            )
        except ExtraValueError as error:
            raise state.fail(table, error.line, table.index_of(term), str(error)) from None
    if node.secret:
        _secrets(state, node, table, rows, before or {})


def _secrets(state: ImportState, node: graph.Node, table, rows, before: dict) -> None:
    """Drop the stored secrets of rows whose bound fields changed; report every row without them."""
    manager = node.model._base_manager
    uuids = [values[table.identifier_term] for _, values in rows]
    now = {
        row_uuid: tuple(bound)
        for row_uuid, *bound in manager.filter(uuid__in=uuids).values_list("uuid", *node.secret_bound_to)
    }
    moved = [row_uuid for row_uuid, bound in before.items() if now.get(row_uuid) != bound]
    if moved:
        blank = {name: node.model._meta.get_field(name).get_default() for name in node.secret}
        manager.filter(uuid__in=moved).update(**blank)
    names = {values[table.identifier_term]: values[table.term_of("name")] for _, values in rows}
    state.report.secrets_dropped += [names[row_uuid] for row_uuid in moved]
    empty = models.Q()
    for name in node.secret:
        empty &= models.Q(**{name: ""}) | models.Q(**{f"{name}__isnull": True})
    without = set(manager.filter(empty, uuid__in=uuids).values_list("uuid", flat=True))
    state.report.storage_sources_needing_credentials += [names[u] for u in uuids if u in without]
