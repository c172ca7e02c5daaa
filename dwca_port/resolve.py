"""Shared references of an import: which target rows the archive's users, organizations,
category maps, algorithms, pipelines, processing services and taxa stand for.

Shared rows are matched and linked, never overwritten (other projects use them too). When a row
has no match it is created with its archived UUID, except users, which are only created with
--create-missing-users (inactive, without a usable password: placeholders their owners claim by
resetting the password). These tables are small (thousands of taxa at most), so they are read
whole and resolved in memory; every lookup is still one query per table, not per row.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.hashers import make_password

from dwca_port import graph
from dwca_port.extensions.antenna import identifier_term
from dwca_port.graph import Scope

if TYPE_CHECKING:
    from dwca_port.importer import Importer


def resolve_shared(importer: Importer) -> None:
    for node in graph.NODES:
        if node.scope is Scope.PROJECT:
            continue
        table = importer.tables[node.label]
        rows = [values for _, values in importer.parsed_rows(table)]
        if node.label == "users.User":
            _resolve_users(importer, node, rows)
        elif node.label == "main.Taxon":
            from dwca_port.taxa_import import resolve_taxa

            resolve_taxa(importer, node, table, rows)
        else:
            _resolve_by_key(importer, node, table, rows)


def _attributes(importer: Importer, node: graph.Node, table, values: dict) -> dict:
    """Model attributes of an archived shared row; relations go through the shared maps."""
    from dwca_port.importer import _term, stored_value

    attributes = {}
    for field in node.fields():
        value = values.get(_term(table, field.name))
        if field.is_relation:
            target = graph.graph_target(field)
            attributes[field.attname] = importer.shared[target.label].get(value) if value is not None and target else None
        else:
            attributes[field.attname] = stored_value(field, value)
    return attributes


def _resolve_by_key(importer: Importer, node: graph.Node, table, rows: list[dict]) -> None:
    """Match by UUID, then by natural key; create what is missing, keeping the archived UUID."""
    model = node.model
    id_term = identifier_term(node)
    counts = importer.report.models[node.label]
    by_uuid = dict(model._base_manager.filter(uuid__in=[r[id_term] for r in rows]).values_list("uuid", "pk"))
    natural = {}
    if node.natural_key:
        from dwca_port.importer import _term

        terms = [_term(table, name) for name in node.natural_key]
        for obj in model._base_manager.all().only("pk", *node.natural_key):
            natural[tuple(getattr(obj, name) for name in node.natural_key)] = obj.pk
    for values in rows:
        archived = values[id_term]
        pk = by_uuid.get(archived)
        if pk is None and node.natural_key:
            pk = natural.get(tuple(values[t] for t in terms))
        if pk is not None:
            counts.skipped += 1
        else:
            attributes = _attributes(importer, node, table, values)
            if node.label == "ml.Pipeline" and model._base_manager.filter(slug=attributes.get("slug")).exists():
                attributes["slug"] = ""  # taken here by another pipeline: a new one is generated
            obj = model(uuid=archived, **attributes)
            obj.save()
            pk = obj.pk
            counts.created += 1
        importer.shared[node.label][archived] = pk


def _resolve_users(importer: Importer, node: graph.Node, rows: list[dict]) -> None:
    from ami.users.models import User
    from dwca_port.importer import _term

    id_term = identifier_term(node)
    email_term, name_term = _term(importer.tables[node.label], "email"), _term(importer.tables[node.label], "name")
    counts = importer.report.models[node.label]
    wanted = {values[email_term].lower(): values for values in rows}
    found = {u.email.lower(): u.pk for u in User.objects.filter(email__in=list(wanted))}
    taken = set(User.objects.filter(uuid__in=[v[id_term] for v in rows]).values_list("uuid", flat=True))
    for email, values in sorted(wanted.items()):
        pk = found.get(email)
        if pk is not None:
            counts.skipped += 1
        elif importer.options.create_missing_users:
            user = User(email=email, name=values.get(name_term) or "", is_active=False, password=make_password(None))
            if values[id_term] not in taken:
                user.uuid = values[id_term]
            user.save()
            pk = user.pk
            counts.created += 1
            importer.report.users_created.append(email)
        else:
            importer.report.users_not_found.append(email)
            importer.dropped[node.label].add(values[id_term])
            continue
        importer.shared[node.label][values[id_term]] = pk
