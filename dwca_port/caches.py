"""After an import: recompute the cached values and compare them with the archive's.

The archive's caches are data to verify, never trusted: the target recomputes them from the rows
it now holds, and every difference is counted in the report (with a few examples), so an
operator sees when the source instance's caches were stale.
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
