"""What follows the writing of a model's rows, as the graph declares it (graph.Node): the
project row becomes the import's project, extras with an `apply` are applied (a member's
roles), and rows whose secrets did not travel are reported (storage credentials to enter
again). Both writers' rows go through here, so each effect is written once."""

from __future__ import annotations

from ami.main.models import Project
from dwca_port import graph
from dwca_port.graph import ExtraValueError
from dwca_port.importer.state import ImportState
from dwca_port.tables import ANTENNA


def after_rows(state: ImportState, node: graph.Node) -> None:
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
        state.report.storage_sources_needing_credentials += [values[table.term_of("name")] for _, values in rows]
