"""After an import: recompute the cached values and compare them with the archive's.

The archive's caches are data to verify, never trusted: the target recomputes them from the rows
it now holds, and every difference is counted in the report (with a few examples), so an
operator sees when the source instance's caches were stale. The models compared are those
declaring `verified_caches` (others, like storage totals, need the storage itself).

The portable writer reads the archive again, a batch at a time (`compare_from_archive`); the
PostgreSQL writer still has the archived cells in its staging tables, so the comparison is one
query per model (`compare_staged`: typed values compared in SQL, counts per column) and only
the examples are formatted in Python.
"""

from __future__ import annotations

from collections.abc import Callable

from ami.main.models import Taxon
from dwca_port import graph
from dwca_port.importer.state import ImportState, batched
from dwca_port.postgres import quote_name as qn
from dwca_port.postgres.casts import SQL_TYPE, TEXT_KINDS, archived_sql
from dwca_port.tables import Table
from dwca_port.values import format_value, parse_value

EXAMPLES = 10


def recompute(state: ImportState) -> None:
    """Every cache of the imported project (and of the taxa the import created)."""
    Taxon.objects.update_all_calculated_fields(Taxon.objects.filter(pk__in=state.created_taxa))
    state.project.update_related_calculated_fields()


def _note_example(state: ImportState, node: graph.Node, row_uuid, field: str, archived, recomputed) -> None:
    examples = state.report.cache_difference_examples
    if len(examples) < EXAMPLES:
        examples.append(f"{node.name} {row_uuid}: {field} archived {archived!r}, recomputed {recomputed!r}")


def compare_from_archive(state: ImportState, node: graph.Node) -> None:
    table = state.tables[node.label]
    columns = [c for c in table.columns if c.calculated]
    id_term = table.identifier_term
    paths = [f"{c.field}__uuid" if node.model._meta.get_field(c.field).is_relation else c.field for c in columns]
    for batch in batched(state.parsed_rows(table)):
        current = {
            record[0]: record[1:]
            for record in node.model._base_manager.filter(uuid__in=[v[id_term] for _, v in batch]).values_list(
                "uuid", *paths
            )
        }
        for _, values in batch:
            now = current.get(values[id_term])
            for column, value in zip(columns, now or ()):
                archived = format_value(column.kind, values[column.term])
                recomputed = format_value(column.kind, value)
                if archived != recomputed:
                    state.report.count_cache_difference(f"{node.label}.{column.field}")
                    _note_example(state, node, values[id_term], column.field, archived, recomputed)


def compare_staged(
    state: ImportState, node: graph.Node, table: Table, staged: str, execute: Callable[[str], list]
) -> None:
    """Archived cells (in the staging table `staged`) against the recomputed values, in SQL."""
    model = node.model
    compared = []  # (column, archived SQL, current SQL)
    for index, column in enumerate(table.columns):
        if not column.calculated:
            continue
        field = model._meta.get_field(column.field)
        if field.is_relation:
            target = field.related_model._meta
            current = (
                f"(SELECT r.uuid FROM {qn(target.db_table)} r WHERE r.{qn(target.pk.column)} = t.{qn(field.column)})"
            )
        elif column.kind in TEXT_KINDS:
            current = f"t.{qn(field.column)}::text"
        else:
            current = f"t.{qn(field.column)}::{SQL_TYPE[column.kind]}"  # (date-times: compared as instants)
        compared.append((column, archived_sql(column.kind, f"s.c{index}"), current))
    if not compared:
        return
    id_cell = f"s.c{table.index_of(table.identifier_term)}"
    differs = [f"({archived}) IS DISTINCT FROM ({current})" for _, archived, current in compared]
    source = f"FROM {staged} s JOIN {qn(model._meta.db_table)} t ON t.uuid = {id_cell}::uuid"
    (counts,) = execute(f"SELECT {', '.join(f'count(*) FILTER (WHERE {d})' for d in differs)} {source}")
    for (column, _, _), count in zip(compared, counts):
        state.report.count_cache_difference(f"{node.label}.{column.field}", count)
    wanted = EXAMPLES - len(state.report.cache_difference_examples)
    if wanted <= 0 or not any(counts):
        return
    cells = ", ".join(f"s.c{table.columns.index(column)}, {current}" for column, _, current in compared)
    rows = execute(
        f"SELECT lower({id_cell}), {cells} {source} WHERE {' OR '.join(differs)} ORDER BY s.line LIMIT {int(wanted)}"
    )
    for row_uuid, *pairs in rows:
        for (column, _, _), cell, value in zip(compared, pairs[0::2], pairs[1::2]):
            archived = format_value(column.kind, parse_value(column.kind, cell))
            recomputed = format_value(column.kind, value)
            if archived != recomputed:
                _note_example(state, node, row_uuid, column.field, archived, recomputed)
