"""Which rows of each graph model a project's archive holds.

Project-scoped models: the project's rows, as querysets (never loaded into memory). Shared models
(taxa, pipelines, algorithms, category maps, organizations, processing services) and users:
the rows the project uses, closed under references, so that the archive is self-contained:
every relation from an exported row to a shared model points at an exported row, a taxon comes
with its parent chain and accepted name, a pipeline with its algorithms. Shared selections are
primary-key sets, bounded by the size of the shared tables (thousands of taxa), not by the data.
"""

from __future__ import annotations

from django.db import models

from dwca_port import graph
from dwca_port.graph import Scope


class Selection:
    def __init__(self, project):
        self.project = project
        self._shared: dict[str, set[int]] = {}
        self._close()

    def rows(self, node: graph.Node) -> models.QuerySet:
        manager = node.model._base_manager
        if node.scope is Scope.PROJECT:
            return node.rows_of(self.project)
        return manager.filter(pk__in=sorted(self._shared[node.label]))

    def pks(self, node: graph.Node) -> models.QuerySet | list[int]:
        if node.scope is Scope.PROJECT:
            return node.rows_of(self.project).values("pk")
        return sorted(self._shared[node.label])

    def _close(self) -> None:
        shared = [n for n in graph.NODES if n.scope is not Scope.PROJECT]
        for node in shared:
            # One query per path: OR-ing them joins every path's tables at once, then de-duplicates.
            self._shared[node.label] = set()
            for path in node.project_paths:
                self._shared[node.label].update(
                    node.model._base_manager.filter(**{path or "pk": self.project.pk})
                    .order_by()
                    .values_list("pk", flat=True)
                    .distinct()
                )
        # Relations from project rows to shared rows (e.g. a classification's taxon, a job's pipeline).
        for node in graph.NODES:
            if node.scope is not Scope.PROJECT:
                continue
            rows = node.rows_of(self.project)
            for field in node.foreign_keys():
                target = graph.graph_target(field)
                if target and target.scope is not Scope.PROJECT and not _walked(node, field, target):
                    found = (
                        rows.exclude(**{field.attname: None})
                        .order_by()  # (no ordering columns in the DISTINCT)
                        .values_list(field.attname, flat=True)
                        .distinct()
                    )
                    self._shared[target.label].update(found)
        # Relations among shared rows, until nothing new appears (parent chains have any depth).
        changed = True
        while changed:
            changed = False
            for node in shared:
                pks = self._shared[node.label]
                if not pks:
                    continue
                relations = [*node.foreign_keys(), *node.m2m_fields()]
                for field in relations:
                    target = graph.graph_target(field)
                    if not target or target.scope is Scope.PROJECT:
                        continue
                    path = field.attname if not field.many_to_many else f"{field.name}__pk"
                    found = set(
                        node.model._base_manager.filter(pk__in=sorted(pks))
                        .exclude(**{path: None})
                        .order_by()
                        .values_list(path, flat=True)
                        .distinct()
                    )
                    new = found - self._shared[target.label]
                    if new:
                        self._shared[target.label] |= new
                        changed = True


def _walked(node: graph.Node, field, target: graph.Node) -> bool:
    """Whether the target's own project paths already go through this relation from every path of
    the node's rows (e.g. Algorithm's "classifications__detection__source_image__project"): the rows
    it reaches are selected already, and a second scan of a big table would find nothing new."""
    reverse = field.related_query_name()
    return bool(node.project_paths) and all(
        (f"{reverse}__{own}" if own else reverse) in target.project_paths for own in node.project_paths
    )
