"""What a clone must look like, derived from the project graph and checked row by row."""

from __future__ import annotations

import json

from django.apps import apps

from ami.users.models import User
from ami.users.roles import roles_of
from dwca_port import graph
from dwca_port.graph import Clone


def database_snapshot() -> dict[str, set[str]]:
    """Every row of every table (link tables included), as comparable strings."""
    snapshot = {}
    for model in apps.get_models(include_auto_created=True):
        columns = [f.attname for f in model._meta.concrete_fields]
        rows = model._base_manager.order_by().values_list(*columns)
        snapshot[model._meta.label] = {json.dumps(row, sort_keys=True, default=str) for row in rows}
    return snapshot


def assert_only_added(before: dict[str, set[str]], after: dict[str, set[str]]) -> None:
    """No row that existed before was changed or deleted."""
    for label, rows in before.items():
        missing = rows - after[label]
        assert not missing, f"{label}: {len(missing)} rows changed or deleted, e.g. {sorted(missing)[0]}"


def assert_rows_copied(source, clone, report) -> None:
    """For every copied model: the clone's rows are exactly the copies of the template's (a
    bijection through the report's maps), field by field."""
    for node in graph.nodes(clone=Clone.COPY):
        template_rows = {row["pk"]: row for row in node.rows_of(source).values("pk", *_columns(node))}
        clone_rows = {row["pk"]: row for row in node.rows_of(clone).values("pk", *_columns(node))}
        mapping = report.pk_maps[node.label]
        assert set(mapping) == set(template_rows), node.label
        assert sorted(mapping.values()) == sorted(clone_rows), node.label
        assert not set(mapping.values()) & set(template_rows), f"{node.label}: a copy reuses a template row"
        for old, new in mapping.items():
            assert_row_copied(node, template_rows[old], clone_rows[new], report.pk_maps, clone)


def _columns(node) -> list[str]:
    return [f.attname for f in node.model._meta.concrete_fields]


def assert_row_copied(node, old: dict, new: dict, maps: dict, clone) -> None:
    for f in node.model._meta.concrete_fields:
        before, after = old[f.attname], new[f.attname]
        where = f"{node.label}.{f.name} of template row {old['pk']}"
        if f.primary_key:
            assert after != before, where
        elif f.name == "uuid":
            assert after is not None and after != before, where
        elif f.name == "created_at" or (f.name == "updated_at" and node.label != "main.Project"):
            assert after == clone.created_at, where  # decision: the clone's creation time
        elif f.name == "updated_at":
            assert after >= clone.created_at, where  # auto_now: a moment after auto_now_add
        elif f.name in node.calculated:
            assert after == f.get_default(), where  # caches start empty, as on a new row
        elif f.name in node.excluded:
            assert not after, where  # files are not shared
        elif node.label == "main.Project" and f.name in ("name", "owner"):
            continue  # given to the clone
        elif (node.label, f.name) == ("main.SourceImageCollection", "kwargs"):
            assert after == expected_sampler_arguments(before, maps), where
        elif f.is_relation and graph.graph_target(f) and graph.graph_target(f).clone is Clone.COPY:
            assert after == maps[graph.graph_target(f).label].get(before, before), where
        else:
            assert after == before, where  # plain values, secrets and links to shared rows


def expected_sampler_arguments(kwargs: dict | None, maps: dict) -> dict | None:
    """A capture set's sampler arguments name the clone's stations and sites; the captures and
    sessions it named are not in the clone."""
    if not isinstance(kwargs, dict):
        return kwargs
    expected = dict(kwargs)
    for key, label in (("deployment_ids", "main.Deployment"), ("research_site_ids", "main.Site")):
        if key in expected:
            expected[key] = [maps[label].get(pk, pk) for pk in expected[key]]
    for key in ("event_ids", "image_ids"):
        if key in expected:
            expected[key] = []
    return expected


def link_rows(node, m2m) -> set[tuple[int, int]]:
    through = m2m.remote_field.through
    return set(
        through.objects.values_list(
            through._meta.get_field(m2m.m2m_field_name()).attname,
            through._meta.get_field(m2m.m2m_reverse_field_name()).attname,
        )
    )


def assert_links_copied(before: dict[str, set], report) -> None:
    """For every many-to-many field of the graph: the links created are the template's links
    with copied ends remapped, and only those whose ends are both in the clone's world.
    `before`: link_rows per field before the clone."""
    for node in graph.NODES:
        for m2m in node.m2m_fields():
            label = f"{node.label}.{m2m.name}"
            ends = (node, graph.graph_target(m2m))
            expected = set()
            if all(end.clone is not Clone.SKIP for end in ends) and any(end.clone is Clone.COPY for end in ends):
                for row in before[label]:
                    mapped = tuple(
                        report.pk_maps[end.label].get(value) if end.clone is Clone.COPY else value
                        for end, value in zip(ends, row)
                    )
                    if None not in mapped:
                        expected.add(mapped)
            assert link_rows(node, m2m) - before[label] == expected, label
            assert report.created.get(label, 0) == len(expected), label


def all_link_rows() -> dict[str, set]:
    return {f"{node.label}.{m2m.name}": link_rows(node, m2m) for node in graph.NODES for m2m in node.m2m_fields()}


def assert_nothing_skipped_is_copied(clone) -> None:
    for node in graph.nodes(clone=Clone.SKIP):
        assert not node.rows_of(clone).exists(), node.label
    assert not clone.sourceimage_collections.filter(images__isnull=False).exists()


def roles_by_user(project) -> dict[str, list[str]]:
    users = User.objects.filter(groups__name__startswith=f"{project.pk}_").distinct()
    return {user.email: [role.__name__ for role in roles_of(project, user)] for user in users}


def members(project) -> set[str]:
    return set(project.project_memberships.values_list("user__email", flat=True))
