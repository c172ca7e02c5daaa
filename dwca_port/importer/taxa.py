"""The archive's taxa on import, through the reconciliation engine (dwca_port.taxonomy).

Each archived taxon row becomes an `ArchivedTaxon` (its parent chain from the archive's
parentID links, its accepted name from synonymOfID, its GBIF keys). The engine maps it onto the
target's taxonomy by key, by name, or through a matcher, and plans what to create per policy
(`--taxa=match|gbif|create|strict`). The missing taxa are then created in bulk inside the
import's transaction (taxonomy.create_taxa): a taxon created from the archive keeps its archived
UUID and every archived field (so an archive imported into an empty instance re-exports
identical taxa), plus the matcher's key when the row has none; an archived name the matcher
calls a synonym is kept as one, with its archived UUID, while its rows go to the accepted taxon;
a taxon created as GBIF has it, or a level of a parent chain the archive does not hold, gets a
new UUID.

A matcher that cannot answer (GBIF down), taxa the policy refuses, and any other taxonomy error
become `ImportRefused` raised inside the transaction: nothing is written.
"""

from __future__ import annotations

import dataclasses
import uuid as uuid_module

from django.conf import settings as django_settings

from ami.main.models import Taxon
from dwca_port import graph
from dwca_port.importer.state import ImportRefused, ImportState
from dwca_port.tables import Table
from dwca_port.taxonomy import ArchivedTaxon, MatcherUnavailable, NewTaxon, Reconciliation, Role, TaxonomyError, report
from dwca_port.taxonomy.create import create_taxa, new_taxon, planned_fields, planned_keys
from dwca_port.taxonomy.names import name_key
from dwca_port.taxonomy.options import (
    DEFAULT_ATTEMPTS,
    DEFAULT_TIMEOUT,
    TaxaSettings,
    TaxaSettingsError,
    build_reconciler,
    close_matcher,
    one_line,
)

_BATCH = 500
_FIELDS = ("name", "rank", "author", "parent", "synonym_of", "gbif_key", "gbif_checklist_key", "gbif_taxon_key")


def archived_taxa(table: Table, rows: list[dict]) -> list[ArchivedTaxon]:
    """ArchivedTaxon of each parsed row {term: value}, in the rows' order."""
    id_term = table.identifier_term
    t = {name: table.term_of(name) for name in _FIELDS}
    by_uuid = {values[id_term]: values for values in rows}

    def chain(values) -> tuple[tuple[str, str], ...]:
        parents, seen = [], {values[id_term]}
        parent = values.get(t["parent"])
        while parent is not None and parent in by_uuid and parent not in seen:  # a cycle or a dangling link ends it
            seen.add(parent)
            above = by_uuid[parent]
            parents.append((above.get(t["rank"]) or "UNKNOWN", above.get(t["name"]) or ""))
            parent = above.get(t["parent"])
        return tuple(reversed(parents))

    taxa = []
    for values in rows:
        accepted = by_uuid.get(values.get(t["synonym_of"]))
        taxa.append(
            ArchivedTaxon(
                uuid=str(values[id_term]),
                name=values.get(t["name"]) or "",
                rank=values.get(t["rank"]) or "UNKNOWN",
                author=values.get(t["author"]) or "",
                parents=chain(values),
                gbif_key=values.get(t["gbif_key"]) or None,
                gbif_checklist_key=values.get(t["gbif_checklist_key"]) or "",
                gbif_taxon_key=values.get(t["gbif_taxon_key"]) or None,
                synonym_of=(accepted.get(t["name"]) or "") if accepted is not None and accepted is not values else "",
            )
        )
    return taxa


def reconcile_rows(table: Table, rows: list[dict], settings: TaxaSettings | None, progress=None) -> Reconciliation:
    """Dry reconciliation of parsed taxon rows: reads the database, writes nothing."""
    reconciler = build_reconciler(with_instance_defaults(settings or TaxaSettings()), progress)
    try:
        return reconciler.reconcile(archived_taxa(table, rows))
    finally:
        close_matcher(reconciler)


def with_instance_defaults(settings: TaxaSettings) -> TaxaSettings:
    """The instance's HTTP matcher settings (TAXA_MATCHER_TIMEOUT, TAXA_MATCHER_ATTEMPTS) under
    what the caller gave (`timeout`/`attempts`, or the same in `matcher_options`)."""
    defaults = {
        "timeout": float(getattr(django_settings, "TAXA_MATCHER_TIMEOUT", DEFAULT_TIMEOUT)),
        "retries": int(getattr(django_settings, "TAXA_MATCHER_ATTEMPTS", DEFAULT_ATTEMPTS)) - 1,
    }
    return dataclasses.replace(settings, matcher_options={**defaults, **settings.matcher_options})


def resolve_taxa(state: ImportState, node: graph.Node, table: Table, rows: list[dict]) -> None:
    """Map every archived taxon (state.shared[node.label]: archived UUID -> pk), create the
    missing ones, and report each decision. Raises ImportRefused when the taxa cannot be mapped."""
    settings = state.options.taxa or TaxaSettings()
    try:
        result = reconcile_rows(table, rows, settings, state.say)
        state.report.taxa_summary = report.summary(result)  # printed by import_project
        result.raise_if_refused()
        created = _create(state, node, table, rows, result)
    except MatcherUnavailable as error:
        raise ImportRefused(
            f"taxa: the matcher is unavailable ({one_line(error)}); retry later or give a local --checklist"
        ) from None
    except (TaxonomyError, TaxaSettingsError) as error:
        raise ImportRefused(f"taxa: {one_line(error)}") from None

    mapping, counts = state.shared[node.label], state.report.models[node.label]
    archived_uuids = {str(values[table.identifier_term]): values[table.identifier_term] for values in rows}
    pks = {
        decision.archived.uuid: decision.target.id if decision.target.exists else created[decision.target.name].pk
        for decision in result.decisions
    }
    keys = _keys_of(set(pks.values()))
    for decision in result.decisions:
        pk = pks[decision.archived.uuid]
        mapping[archived_uuids[decision.archived.uuid]] = pk
        if decision.outcome != "created":
            counts.skipped += 1
        state.report.taxa.append(
            {
                "uuid": decision.archived.uuid,
                "name": decision.archived.name,
                "outcome": decision.outcome,
                "decision": decision.method.value,
                "target": keys[pk][0],
                "key": keys[pk][1],
                "confidence": decision.confidence,
                "divergence": "; ".join(str(d) for d in decision.divergences),
                "note": decision.note,
            }
        )
    counts.created += len(created)
    state.created_taxa = [taxon.pk for taxon in created.values()]
    state.say(
        f"main.Taxon: {len(created)} created, {counts.skipped} mapped onto existing taxa (--taxa={result.policy.value})"
    )


def _keys_of(pks: set) -> dict:
    """{pk: (name, its GBIF key or "")} of the taxa the archive's taxa landed on."""
    found = {}
    ordered = sorted(pks)
    for start in range(0, len(ordered), _BATCH):
        for pk, name, key, legacy in Taxon._base_manager.filter(pk__in=ordered[start : start + _BATCH]).values_list(
            "pk", "name", "gbif_key", "gbif_taxon_key"
        ):
            found[pk] = (name, key or (str(legacy) if legacy else ""))
    return found


def _create(state: ImportState, node: graph.Node, table: Table, rows: list[dict], result: Reconciliation) -> dict:
    """Create result.to_create and return {planned name: Taxon}. A taxon planned from an archived
    row keeps that row's fields, and its UUID under the same name; the plan's keys go on a row
    that has none (the matcher's key for exactly that name)."""
    id_term, name_term = table.identifier_term, table.term_of("name")
    by_uuid = {str(values[id_term]): values for values in rows}
    by_name = {name_key(values[name_term] or ""): values for values in rows}

    def row_of(spec: NewTaxon) -> dict | None:
        if spec.archived_uuid:
            return by_uuid[spec.archived_uuid]
        if spec.role is Role.PARENT and spec.source == "archive":  # a level of an archived parent chain
            return by_name.get(name_key(spec.name))
        return None

    source_row = {spec.name: row_of(spec) for spec in result.to_create}
    uuids = [values[id_term] for values in source_row.values() if values is not None]
    taken_uuids = set()
    for start in range(0, len(uuids), _BATCH):
        taken_uuids |= set(
            Taxon._base_manager.filter(uuid__in=uuids[start : start + _BATCH]).values_list("uuid", flat=True)
        )

    def from_archive(spec: NewTaxon) -> Taxon:
        values = source_row[spec.name]
        if values is None:
            return new_taxon(spec)
        attributes = state.row_attributes(node, table, values, line=0)
        if spec.source != "archive":  # created as the matcher has it: its name, rank, author, keys
            attributes.update(planned_fields(spec), display_name=None)
        else:
            if not (attributes["gbif_key"] or attributes["gbif_taxon_key"]):
                attributes.update(planned_keys(spec))  # the matcher's key for exactly this name
            if spec.search_names:  # archived misspellings of it
                attributes["search_names"] = list(
                    dict.fromkeys([*(attributes["search_names"] or []), *spec.search_names])
                )
        same = spec.source == "archive" or name_key(spec.name) == name_key(values[name_term] or "")
        # An archived UUID names the archived taxon: never given to another one (GBIF's accepted
        # name, a taxon that holds it here already, a second planned taxon from the same row).
        row_uuid = values[id_term] if same and values[id_term] not in taken_uuids else uuid_module.uuid4()
        taken_uuids.add(row_uuid)
        return Taxon(uuid=row_uuid, **attributes)

    return create_taxa(result, from_archive)
