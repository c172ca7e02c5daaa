"""Project isolation of an import, the one rule both writers follow.

Archives are untrusted and published identifiers (eventID, occurrenceID) are public, so a UUID
of the archive may only stand for a row of the archive's own project. Whether a row belongs to
a project is read from its node's declared `project_paths` (graph.Node), never from its label:

* an archived project row whose UUID exists here outside the archive's project (in another
  project, shared with one, or in none) is refused in every conflict mode (`refuse_foreign`);
* a reference to a project row resolves only among rows no other project reaches
  (`Node.usable_by`, used by both writers and by state.row_attributes), so neither a skipped
  nor a new row can hang from another project's row.

The refusal names the archive file, line and UUID, and says no more about the other row.
"""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Iterable

from ami.main.models import Project
from dwca_port import graph
from dwca_port.importer.state import FOREIGN, ImportState, batched


def archived_project_pk(state: ImportState) -> int | None:
    """The archive's project here (by its UUID), or None when it is new here."""
    table = state.tables[graph.ROOT.label]
    index = table.index_of(table.identifier_term)
    for _, cells in state.rows(table):
        return Project._base_manager.filter(uuid=_uuid(cells[index])).values_list("pk", flat=True).first()
    return None


def refuse_foreign(state: ImportState, existing: dict[str, list[tuple[int, uuid_module.UUID]]]) -> None:
    """Refuse the first archived row (per model, in the graph's order) whose UUID exists here but
    is not a row of the archive's project alone. `existing`: label -> (line, UUID) of archived
    rows whose UUID exists here, as the writer found them."""
    project_pk = state.project_here = archived_project_pk(state)
    for node in graph.nodes(graph.Scope.PROJECT):
        found = sorted(existing.get(node.label, ()), key=lambda pair: pair[0])
        if not found or node.root:  # the project row is the archive's project by definition
            continue
        for batch in batched(found):
            foreign = set(_foreign_uuids(node, project_pk, [u for _, u in batch]))
            for line, row_uuid in batch:
                if row_uuid in foreign:
                    table = state.tables[node.label]
                    raise state.fail(
                        table, line, table.index_of(table.identifier_term), f"{node.name} {row_uuid} {FOREIGN}"
                    )


def _foreign_uuids(node: graph.Node, project_pk: int | None, uuids: Iterable) -> Iterable[uuid_module.UUID]:
    rows = node.model._base_manager.filter(uuid__in=list(uuids))
    if project_pk is None:
        return rows.values_list("uuid", flat=True)
    outside = rows.filter(node.reached_by_others(project_pk)).values_list("uuid", flat=True)
    not_ours = rows.exclude(node.reaching([project_pk])).values_list("uuid", flat=True)
    return [*outside, *not_ours]


def _uuid(cell: str | None):
    try:
        return uuid_module.UUID(cell or "")
    except ValueError:
        return None
