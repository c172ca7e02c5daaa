"""Shared references of an import: which target rows the archive's users, organizations,
category maps, algorithms, pipelines, processing services and taxa stand for.

Each shared node declares how it is matched (graph.Match). Shared rows are matched and linked,
never overwritten (other projects use them too). When a row has no match it is created with its
archived UUID, except users, which are only created with --create-missing-users (inactive,
without a usable password: placeholders their owners claim by resetting the password). These
tables are small (thousands of taxa at most), so they are read whole and resolved in memory;
every lookup is still one query per table, not per row.
"""

from __future__ import annotations

from django.contrib.auth.hashers import make_password

from ami.users.models import User
from dwca_port import graph
from dwca_port.graph import Match, Scope
from dwca_port.importer.state import ImportState
from dwca_port.importer.taxa import resolve_taxa
from dwca_port.tables import Table


def resolve_shared(state: ImportState) -> None:
    resolvers = {Match.NATURAL_KEY: _by_key, Match.ACCOUNT: _users, Match.TAXONOMY: resolve_taxa}
    for node in graph.NODES:
        if node.scope is not Scope.PROJECT:
            table = state.tables[node.label]
            rows = [values for _, values in state.parsed_rows(table)]
            resolvers[node.match](state, node, table, rows)


def _by_key(state: ImportState, node: graph.Node, table: Table, rows: list[dict]) -> None:
    """Match by UUID, then by natural key; create what is missing, keeping the archived UUID."""
    manager = node.model._base_manager
    id_term = table.identifier_term
    counts = state.report.models[node.label]
    by_uuid = dict(manager.filter(uuid__in=[r[id_term] for r in rows]).values_list("uuid", "pk"))
    key_terms = [table.term_of(name) for name in node.natural_key]
    by_key = {tuple(key): pk for *key, pk in manager.values_list(*node.natural_key, "pk")} if node.natural_key else {}
    for values in rows:
        archived = values[id_term]
        pk = by_uuid.get(archived)
        if pk is None and key_terms:
            pk = by_key.get(tuple(values[term] for term in key_terms))
        if pk is not None:
            counts.skipped += 1
        else:
            attributes = state.row_attributes(node, table, values, line=0)
            if attributes is None:
                state.dropped[node.label].add(archived)
                counts.dropped += 1
                continue
            for name in node.regenerated:  # taken here by another row: the model generates a new one
                if manager.filter(**{name: attributes.get(name)}).exists():
                    attributes[name] = ""
            row = node.model(uuid=archived, **attributes)
            row.save()
            pk = row.pk
            counts.created += 1
        state.shared[node.label][archived] = pk


def _users(state: ImportState, node: graph.Node, table: Table, rows: list[dict]) -> None:
    id_term, email_term, name_term = table.identifier_term, table.term_of("email"), table.term_of("name")
    counts = state.report.models[node.label]
    wanted = {values[email_term].lower(): values for values in rows}
    found = {u.email.lower(): u.pk for u in User.objects.filter(email__in=list(wanted))}
    taken = set(User.objects.filter(uuid__in=[v[id_term] for v in rows]).values_list("uuid", flat=True))
    for email, values in sorted(wanted.items()):
        pk = found.get(email)
        if pk is not None:
            counts.skipped += 1
        elif state.options.create_missing_users:
            user = User(email=email, name=values.get(name_term) or "", is_active=False, password=make_password(None))
            if values[id_term] not in taken:
                user.uuid = values[id_term]
            user.save()
            pk = user.pk
            counts.created += 1
            state.report.users_created.append(email)
        else:
            state.report.users_not_found.append(email)
            state.dropped[node.label].add(values[id_term])
            continue
        state.shared[node.label][values[id_term]] = pk
