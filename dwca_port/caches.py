"""After an import: recompute the cached values and compare them with the archive's.

The archive's caches are data to verify, never trusted: the target recomputes them from the rows
it now holds, and every difference is counted in the report (with a few examples), so an
operator sees when the source instance's caches were stale.

On the PostgreSQL path the archived cells are still in their staging tables: the comparison is
one query per model (typed values compared in SQL, the counts per column), and only the examples
are formatted in Python. Elsewhere the archive is read again, a batch at a time.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from dwca_port import graph
from dwca_port.extensions.antenna import identifier_term
from dwca_port.values import format_value

if TYPE_CHECKING:
    from dwca_port.importer import Importer

# The caches this instance can recompute (others, like storage totals, need the storage itself).
RECOMPUTED = ("main.Event", "main.Deployment", "main.SourceImage")
EXAMPLES = 10


def compare_caches(importer: Importer) -> None:
    from ami.main.models import Taxon

    Taxon.objects.update_all_calculated_fields(Taxon.objects.filter(pk__in=getattr(importer, "created_taxa", [])))
    importer.project.update_related_calculated_fields()
    for label in RECOMPUTED:
        staging = importer.staging
        if staging is not None and label in staging.staged:
            _compare_staged(importer, staging.staged[label])
            continue
        node = graph.NODES_BY_LABEL[label]
        table = importer.tables[label]
        columns = [c for c in table.columns if c.calculated]
        id_term = identifier_term(node)
        paths = [f"{c.field}__uuid" if node.model._meta.get_field(c.field).is_relation else c.field for c in columns]
        rows = importer.parsed_rows(table)
        from dwca_port.importer import _batched

        for batch in _batched(rows):
            current = {
                record[0]: record[1:]
                for record in node.model._base_manager.filter(uuid__in=[v[id_term] for _, v in batch])
                .values_list("uuid", *paths)
            }
            for line, values in batch:
                now = current.get(values[id_term])
                if now is None:
                    continue
                for column, value in zip(columns, now):
                    archived = format_value(column.kind, values[column.term])
                    recomputed = format_value(column.kind, value)
                    if archived != recomputed:
                        key = f"{label}.{column.field}"
                        importer.report.cache_differences[key] = importer.report.cache_differences.get(key, 0) + 1
                        if len(importer.report.cache_difference_examples) < EXAMPLES:
                            importer.report.cache_difference_examples.append(
                                f"{node.name} {values[id_term]}: {column.field} archived {archived!r}, recomputed {recomputed!r}")


def _count(importer: Importer, key: str, add: int) -> None:
    if add:
        importer.report.cache_differences[key] = importer.report.cache_differences.get(key, 0) + add


def _compare_staged(importer: Importer, staged) -> None:
    """Archived cells (staged) against the recomputed values, typed and compared in SQL."""
    from dwca_port.staging import SQL_TYPE, TEXT_KINDS, qn
    from dwca_port.values import parse_value

    node, table = staged.node, staged.table
    model = node.model
    compared = []  # (column, archived SQL, current SQL)
    for index, column in enumerate(table.columns):
        if not column.calculated:
            continue
        field = model._meta.get_field(column.field)
        if field.is_relation:
            target = field.related_model._meta
            current = f"(SELECT r.uuid FROM {qn(target.db_table)} r WHERE r.{qn(target.pk.column)} = t.{qn(field.column)})"
        elif column.kind in TEXT_KINDS:
            current = f"t.{qn(field.column)}::text"
        else:
            current = f"t.{qn(field.column)}::{SQL_TYPE[column.kind]}"  # timestamptz -> local time, as the ORM reads it
        archived = f"s.c{index}" if column.kind in TEXT_KINDS else f"NULLIF(s.c{index}, '')::{SQL_TYPE[column.kind]}"
        compared.append((column, archived, current))
    if not compared:
        return
    differs = [f"({archived}) IS DISTINCT FROM ({current})" for _, archived, current in compared]
    source = f"FROM {staged.name} s JOIN {qn(model._meta.db_table)} t ON t.uuid = {staged.id_cell}::uuid"
    (counts,) = importer.staging.execute(f"SELECT {', '.join(f'count(*) FILTER (WHERE {d})' for d in differs)} {source}")
    for (column, _, _), count in zip(compared, counts):
        _count(importer, f"{node.label}.{column.field}", count)
    wanted = EXAMPLES - len(importer.report.cache_difference_examples)
    if wanted <= 0 or not any(counts):
        return
    cells = ", ".join(f"s.c{table.columns.index(column)}, {current}" for column, _, current in compared)
    rows = importer.staging.execute(f"SELECT lower({staged.id_cell}), {cells} {source} WHERE {' OR '.join(differs)} "
                        f"ORDER BY s.line LIMIT {int(wanted)}")
    examples = importer.report.cache_difference_examples
    for row_uuid, *pairs in rows:
        for (column, _, _), cell, value in zip(compared, pairs[0::2], pairs[1::2]):
            archived = format_value(column.kind, parse_value(column.kind, cell))
            recomputed = format_value(column.kind, value)
            if archived != recomputed and len(examples) < EXAMPLES:
                examples.append(f"{node.name} {row_uuid}: {column.field} archived {archived!r}, recomputed {recomputed!r}")

