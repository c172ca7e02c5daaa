"""Which rows of each graph model a project's archive holds.

Project-scoped models: the project's rows, as querysets (never loaded into memory). Shared models
(taxa, pipelines, algorithms, category maps, organizations, processing services) and users:
the rows the project uses, closed under references, so that the archive is self-contained:
every relation from an exported row to a shared model points at an exported row, a taxon comes
with its parent chain and accepted name, a pipeline with its algorithms. Shared selections are
primary-key sets, bounded by the size of the shared tables (thousands of taxa), not by the data.

A partial export (a `Subset`: deployments, a date range, a capture set) narrows the project's
data, as each model's `slice` declares; configuration travels whole. The selection is then closed
under references: every row a selected row points to is selected too (a capture's session, a
detection's occurrence, a session's deployment), so the archive stands on its own and merges, by
UUID, into an instance holding the rest of the project.
"""

from __future__ import annotations

from functools import cache

from django.db import models

from dwca_port import graph
from dwca_port.graph import Scope
from dwca_port.subset import Subset


class Selection:
    def __init__(self, project, subset: Subset | None = None):
        self.project = project
        # A subset selecting everything is no subset: the archive is the full project's, byte for byte.
        self.subset = subset if subset and not subset.is_whole() else None
        self._shared: dict[str, set[int]] = {}
        self._referenced: dict[str, set[int]] = {}  # rows of partial models selected only as references
        if self.subset:
            self._reference_closure()
        self._close()

    def rows(self, node: graph.Node) -> models.QuerySet:
        manager = node.model._base_manager
        if node.scope is Scope.PROJECT:
            if not self.subset or not _is_partial(node):
                return node.rows_of(self.project)
            wanted = models.Q(pk__in=self._chosen(node).values("pk"))
            referenced = self._referenced.get(node.label)
            if referenced:
                wanted |= models.Q(pk__in=sorted(referenced))
            return node.rows_of(self.project).filter(wanted)
        return manager.filter(pk__in=sorted(self._shared[node.label]))

    def pks(self, node: graph.Node) -> models.QuerySet | list[int]:
        if node.scope is Scope.PROJECT:
            return self.rows(node).values("pk")
        return sorted(self._shared[node.label])

    def _chosen(self, node: graph.Node) -> models.QuerySet:
        """The rows the subset picks by themselves: by the node's slice, or with the row they belong to."""
        manager = node.model._base_manager
        if node.slice is not None:
            condition = self.subset.condition(node.slice)
            return manager.none() if condition is None else manager.filter(condition)
        owner_field, owner = _owner(node)
        return manager.filter(**{f"{owner_field}__in": self.rows(owner).values("pk")})

    def _reference_closure(self) -> None:
        """Add the rows of partial models that selected rows point to, until nothing new appears
        (a detection's occurrence may date from the night before, and brings its session)."""
        project = [n for n in graph.NODES if n.scope is Scope.PROJECT]
        partial = [n for n in project if _is_partial(n)]
        changed = True
        while changed:
            changed = False
            for node in reversed(project):
                for field in node.foreign_keys():
                    target = graph.graph_target(field)
                    if target is None or target not in partial:
                        continue
                    pointed = self.rows(node).exclude(**{field.attname: None}).values(field.attname)
                    new = set(
                        target.model._base_manager.filter(pk__in=pointed)
                        .exclude(pk__in=self.rows(target).values("pk"))
                        .values_list("pk", flat=True)
                    )
                    if new:
                        self._referenced.setdefault(target.label, set()).update(new)
                        changed = True

    def _close(self) -> None:
        shared = [n for n in graph.NODES if n.scope is not Scope.PROJECT]
        for node in shared:
            # One query per path: OR-ing them joins every path's tables at once, then de-duplicates.
            self._shared[node.label] = set()
            for path in node.project_paths:
                if self.subset and _through_partial(node, path):
                    continue  # the rows the subset uses are found from its rows, below
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
            rows = self.rows(node)
            for field in node.foreign_keys():
                target = graph.graph_target(field)
                walked = not self.subset and _walked(node, field, target) if target else False
                if target and target.scope is not Scope.PROJECT and not walked:
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


@cache
def _is_partial(node: graph.Node) -> bool:
    """Whether a partial export narrows this model's rows (else they travel whole)."""
    return node.slice is not None or _owner(node)[1] is not None


@cache
def _owner(node: graph.Node) -> tuple[str | None, graph.Node | None]:
    """The relation to the row this one belongs to: the first step of its only project path, when
    that path runs through another project row whose rows a subset narrows (a classification
    belongs to its detection)."""
    if node.scope is not Scope.PROJECT or len(node.project_paths) != 1 or "__" not in node.project_paths[0]:
        return None, None
    first = node.project_paths[0].split("__", 1)[0]
    field = node.model._meta.get_field(first)
    target = graph.graph_target(field) if field.many_to_one else None
    if target is None or target.scope is not Scope.PROJECT or not _is_partial(target):
        return None, None
    return first, target


def _through_partial(node: graph.Node, path: str) -> bool:
    """Whether a shared model's project path runs through rows a subset narrows."""
    model = node.model
    for name in path.split("__")[:-1] if path else ():
        model = model._meta.get_field(name).related_model
        target = graph.NODES_BY_LABEL.get(model._meta.label)
        if target and target.scope is Scope.PROJECT and _is_partial(target):
            return True
    return False
