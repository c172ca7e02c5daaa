"""The archive's taxa on import: which target taxon each one stands for, creating the missing ones
with their parent chain (archived UUIDs kept), set-wise.

Decisions, in order: same GBIF key in the same checklist; same legacy Backbone integer key; same
name; else created under its (resolved) archived parent. Every decision goes into the report.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from dwca_port import graph
from dwca_port.extensions.antenna import identifier_term

if TYPE_CHECKING:
    from dwca_port.importer import Importer


def _term(table, name: str) -> str:
    from dwca_port.importer import _term as term

    return term(table, name)


def resolve_taxa(importer: Importer, node: graph.Node, table, rows: list[dict]) -> None:
    from ami.main.models import Taxon
    from dwca_port.resolve import _attributes

    id_term = identifier_term(node)
    name_term, key_term, checklist_term, legacy_term = (
        _term(table, "name"), _term(table, "gbif_key"), _term(table, "gbif_checklist_key"), _term(table, "gbif_taxon_key"))
    parent_term, synonym_term = _term(table, "parent"), _term(table, "synonym_of")
    counts = importer.report.models[node.label]
    mapping = importer.shared[node.label]

    by_key = {(k, c): pk for pk, k, c in Taxon.objects.filter(gbif_key__in=[r[key_term] for r in rows if r[key_term]])
              .values_list("pk", "gbif_key", "gbif_checklist_key")}
    by_legacy = dict(Taxon.objects.filter(gbif_taxon_key__in=[r[legacy_term] for r in rows if r[legacy_term]])
                     .values_list("gbif_taxon_key", "pk"))
    by_name = dict(Taxon.objects.filter(name__in=[r[name_term] for r in rows]).values_list("name", "pk"))
    by_uuid = dict(Taxon.objects.filter(uuid__in=[r[id_term] for r in rows]).values_list("uuid", "pk"))
    names = dict(Taxon.objects.filter(pk__in={*by_key.values(), *by_legacy.values(), *by_name.values(), *by_uuid.values()})
                 .values_list("pk", "name"))

    pending = []
    for values in rows:
        decision, pk = None, None
        if values[key_term] and (values[key_term], values[checklist_term] or "") in by_key:
            decision, pk = "key", by_key[(values[key_term], values[checklist_term] or "")]
        elif values[legacy_term] and values[legacy_term] in by_legacy:
            decision, pk = "key", by_legacy[values[legacy_term]]
        elif values[name_term] in by_name:
            decision, pk = "name", by_name[values[name_term]]
        elif values[id_term] in by_uuid:
            decision, pk = "uuid", by_uuid[values[id_term]]
        if pk is None:
            pending.append(values)
            continue
        mapping[values[id_term]] = pk
        counts.skipped += 1
        importer.report.taxa.append({"uuid": str(values[id_term]), "name": values[name_term], "decision": decision,
                                     "target": names.get(pk)})

    # Create the rest parent first: a taxon waits until its archived parent is resolved.
    created = []
    while pending:
        waiting = {v[id_term] for v in pending}
        ready = [v for v in pending if v[parent_term] is None or v[parent_term] in mapping
                 or v[parent_term] not in waiting]
        if not ready:  # a cycle in the archived parent chain: break it at the first taxon
            ready = pending[:1]
        batch = []
        for values in ready:
            attributes = _attributes(importer, node, table, values)
            attributes["parent_id"] = mapping.get(values[parent_term]) if values[parent_term] else None
            attributes["synonym_of_id"] = None  # linked below, once every taxon exists
            batch.append(Taxon(uuid=values[id_term], **attributes))
        Taxon.objects.bulk_create(batch)
        for values, pk in Taxon.objects.filter(uuid__in=[v[id_term] for v in ready]).values_list("uuid", "pk"):
            mapping[values] = pk
        for values in ready:
            importer.report.taxa.append({"uuid": str(values[id_term]), "name": values[name_term], "decision": "created",
                                         "target": values[name_term]})
        counts.created += len(ready)
        created += [mapping[v[id_term]] for v in ready]
        ready_ids = {v[id_term] for v in ready}
        pending = [v for v in pending if v[id_term] not in ready_ids]

    synonyms = [(mapping[v[id_term]], mapping.get(v[synonym_term])) for v in rows
                if v[synonym_term] is not None and mapping[v[id_term]] in created]
    if synonyms:
        from ami.base.bulk import update_rows

        update_rows(Taxon, [Taxon(pk=pk, synonym_of_id=target) for pk, target in synonyms], ["synonym_of"])
    importer.created_taxa = created
