"""The archive's taxa on import, through the reconciliation engine (dwca_port.taxonomy).

Each archived taxon row becomes an `ArchivedTaxon` (its parent chain from the archive's
parentID links, its accepted name from synonymOfID, its GBIF keys). The engine maps it onto the
target's taxonomy by key, by name, or through a matcher (`--checklist`), and plans what to create
per policy (`--taxa=match|gbif|create|strict`). The missing taxa are then created in bulk inside
the import's transaction: a taxon created from the archive keeps its archived UUID and every
archived field (so an archive imported into an empty instance re-exports identical taxa); a taxon
created as GBIF has it, or a level of a parent chain the archive does not hold, gets a new UUID.

A matcher that cannot answer (GBIF down), taxa the policy refuses, and any other taxonomy error
become `ImportError_` raised inside the transaction: nothing is written.
"""
from __future__ import annotations

import uuid as uuid_module
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dwca_port import graph
from dwca_port.extensions.antenna import identifier_term

if TYPE_CHECKING:
    from dwca_port.importer import Importer
    from dwca_port.taxonomy import ArchivedTaxon, Reconciliation

POLICIES = ("match", "gbif", "create", "strict")
_BATCH = 500


@dataclass
class TaxaSettings:
    """How the import maps the archive's taxa: the policy, and the matcher (`checklist`:
    backbone, col-xr, a checklist dataset key or the path of a local checklist; `gbif_url`: a
    GBIF API or a self-hosted matching-ws, default api.gbif.org). No checklist: no matcher.
    `matcher_options` go to `build_matcher` as they are (cache_path, retries, backoff, timeout,
    max_requests_per_second...): the command line leaves them at their defaults."""

    policy: str = "match"
    checklist: str | None = None
    gbif_url: str | None = None
    matcher_options: dict = field(default_factory=dict)


class TaxaSettingsError(Exception):
    """Settings that cannot work (unknown policy, a checklist file that does not exist...)."""


def _term(table, name: str) -> str:
    from dwca_port.importer import _term as term

    return term(table, name)


# -- archive rows -> ArchivedTaxon -------------------------------------------------------------------

def archived_taxa(node: graph.Node, table, rows: list[dict]) -> list[ArchivedTaxon]:
    """ArchivedTaxon of each parsed row {term: value}, in the rows' order."""
    from dwca_port.taxonomy import ArchivedTaxon

    id_term = identifier_term(node)
    t = {name: _term(table, name) for name in ("name", "rank", "author", "parent", "synonym_of", "gbif_key",
                                                "gbif_checklist_key", "gbif_taxon_key")}
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
        taxa.append(ArchivedTaxon(
            uuid=str(values[id_term]), name=values.get(t["name"]) or "", rank=values.get(t["rank"]) or "UNKNOWN",
            author=values.get(t["author"]) or "", parents=chain(values),
            gbif_key=values.get(t["gbif_key"]) or None, gbif_checklist_key=values.get(t["gbif_checklist_key"]) or "",
            gbif_taxon_key=values.get(t["gbif_taxon_key"]) or None,
            synonym_of=(accepted.get(t["name"]) or "") if accepted is not None and accepted is not values else "",
        ))
    return taxa


# -- the engine ------------------------------------------------------------------------------------------

def build_reconciler(settings: TaxaSettings | None, progress=None, target=None):
    """A Reconciler over main.Taxon for these settings. Raises TaxaSettingsError for settings
    that cannot work, taxonomy errors (PolicyError, ChecklistIndexError...) as they come."""
    from dwca_port.taxonomy import DjangoTargetTaxonomy, Reconciler, build_matcher

    settings = settings or TaxaSettings()
    if settings.policy not in POLICIES:
        raise TaxaSettingsError(f"--taxa must be one of {', '.join(POLICIES)}, not {settings.policy!r}")
    if settings.policy == "gbif" and not settings.checklist:
        raise TaxaSettingsError("--taxa=gbif needs a matcher: give --checklist backbone|col-xr|PATH")
    matcher = None
    if settings.checklist and settings.policy != "create":
        try:
            matcher = build_matcher(settings.checklist, gbif_url=settings.gbif_url, progress=progress,
                                    **settings.matcher_options)
        except ValueError as error:
            raise TaxaSettingsError(str(error)) from None
    elif settings.gbif_url and settings.policy != "create":  # a GBIF URL alone: the Backbone there
        matcher = build_matcher("backbone", gbif_url=settings.gbif_url, progress=progress, **settings.matcher_options)
    return Reconciler(target or DjangoTargetTaxonomy(), settings.policy, matcher, progress=progress)


def close_matcher(reconciler) -> None:
    close = getattr(reconciler.matcher, "close", None)
    if close:
        close()


def one_line(error: Exception) -> str:
    """An error as one line: a TaxaRefused lists every taxon on its own line; the first few join."""
    from dwca_port.taxonomy import TaxaRefused

    if isinstance(error, TaxaRefused):
        names = [f"{d.archived.name} ({d.note})" for d in error.decisions[:5]]
        more = len(error.decisions) - len(names)
        return (f"{len(error.decisions)} archived taxa cannot be mapped onto this instance's taxonomy: "
                + "; ".join(names) + (f"; and {more} more" if more > 0 else ""))
    return " ".join(str(error).split())


def reconcile_rows(node: graph.Node, table, rows: list[dict], settings: TaxaSettings | None,
                   progress=None) -> Reconciliation:
    """Dry reconciliation of parsed taxon rows: reads the database, writes nothing."""
    reconciler = build_reconciler(settings, progress)
    try:
        return reconciler.reconcile(archived_taxa(node, table, rows))
    finally:
        close_matcher(reconciler)


# -- the import -----------------------------------------------------------------------------------------

def resolve_taxa(importer: Importer, node: graph.Node, table, rows: list[dict]) -> None:
    """Map every archived taxon (importer.shared["main.Taxon"]: archived UUID -> pk), create the
    missing ones, and report each decision. Raises ImportError_ when the taxa cannot be mapped."""
    from dwca_port.importer import ImportError_
    from dwca_port.taxonomy import MatcherUnavailable, TaxonomyError, report

    settings = importer.options.taxa or TaxaSettings()
    progress = importer.say if importer.progress else None
    try:
        result = reconcile_rows(node, table, rows, settings, progress)
        importer.report.taxa_summary = report.summary(result)  # printed by import_project
        importer.report.taxa_reconciliation = result
        result.raise_if_refused()
        created = _create(importer, node, table, rows, result)
    except MatcherUnavailable as error:
        raise ImportError_(f"taxa: the matcher is unavailable ({one_line(error)}); retry later or give a local "
                           "--checklist") from None
    except (TaxonomyError, TaxaSettingsError) as error:
        raise ImportError_(f"taxa: {one_line(error)}") from None

    id_term = identifier_term(node)
    mapping, counts = importer.shared[node.label], importer.report.models[node.label]
    pks = {str(values[id_term]): values[id_term] for values in rows}
    for decision in result.decisions:
        target = decision.target
        pk = target.id if target.exists else created[target.name].pk
        mapping[pks[decision.archived.uuid]] = pk
        if decision.outcome != "created":
            counts.skipped += 1
        importer.report.taxa.append({
            "uuid": decision.archived.uuid, "name": decision.archived.name, "decision": decision.method.value,
            "target": created[target.name].name if not target.exists else target.name,
            "confidence": decision.confidence,
            "divergence": "; ".join(str(d) for d in decision.divergences),
        })
    counts.created += len(created)
    importer.created_taxa = [taxon.pk for taxon in created.values()]
    importer.say(f"main.Taxon: {len(created)} created, {counts.skipped} mapped onto existing taxa "
                 f"(--taxa={result.policy.value})")


def _create(importer: Importer, node: graph.Node, table, rows: list[dict], result: Reconciliation) -> dict:
    """Create result.to_create (parents first, in bulk) and return {spec name: Taxon}. A taxon
    created from the archive keeps its archived UUID and fields; its name is the archived one."""
    from django.utils import timezone

    from ami.main.models import Taxon
    from dwca_port.resolve import _attributes
    from dwca_port.taxonomy import StaleReconciliation
    from dwca_port.taxonomy.names import name_key

    if not result.to_create:
        return {}
    id_term = identifier_term(node)
    by_uuid = {str(values[id_term]): values for values in rows}
    # The archived row each spec comes from: the first archived taxon created as that spec.
    source_row: dict[str, dict] = {}
    for decision in result.decisions:
        target = decision.target
        if decision.outcome == "created" and target is not None and not target.exists:
            source_row.setdefault(target.name, by_uuid[decision.archived.uuid])
    # Chain levels the archive holds as rows of their own (a parent planned for an earlier child).
    by_name = {name_key(values[_term(table, "name")] or ""): values for values in rows}
    for spec in result.to_create:
        if spec.name not in source_row and spec.source == "archive" and name_key(spec.name) in by_name:
            source_row[spec.name] = by_name[name_key(spec.name)]

    manager = Taxon._base_manager
    uuids = [values[id_term] for values in source_row.values()]
    taken_uuids = set()
    for start in range(0, len(uuids), _BATCH):
        taken_uuids |= set(manager.filter(uuid__in=uuids[start: start + _BATCH]).values_list("uuid", flat=True))
    names = []
    created: dict[str, Taxon] = {}
    now = timezone.now()
    for spec in result.to_create:
        values = source_row.get(spec.name)
        if values is not None:
            attributes = _attributes(importer, node, table, values)
            if spec.source != "archive":  # created as the matcher has it: its name, rank, author and keys
                attributes.update(name=spec.name, rank=spec.rank, author=(spec.author or "")[:255], gbif_key=spec.gbif_key,
                                  gbif_checklist_key=spec.gbif_checklist_key or "", gbif_taxon_key=spec.gbif_taxon_key,
                                  display_name=None, search_names=None)
            same = spec.source == "archive" or name_key(spec.name) == name_key(values[_term(table, "name")] or "")
            # An archived UUID names the archived taxon: never given to another one (GBIF's accepted name, a
            # taxon that holds it here already, a second spec from the same row).
            row_uuid = values[id_term] if same and values[id_term] not in taken_uuids else uuid_module.uuid4()
            taken_uuids.add(row_uuid)
            taxon = Taxon(uuid=row_uuid, **attributes)
        else:
            taxon = Taxon(name=spec.name, rank=spec.rank, author=(spec.author or "")[:255], gbif_key=spec.gbif_key,
                          gbif_checklist_key=spec.gbif_checklist_key or "", gbif_taxon_key=spec.gbif_taxon_key,
                          created_at=now, updated_at=now)
        taxon.parent_id = taxon.synonym_of_id = None  # linked below, once every taxon exists
        created[spec.name] = taxon
        names.append(taxon.name)

    taken = set()
    for start in range(0, len(names), _BATCH):
        taken |= set(manager.filter(name__in=names[start: start + _BATCH]).values_list("name", flat=True))
    if taken:
        raise StaleReconciliation(f"{len(taken)} taxa to create exist in the target already: "
                                  f"{', '.join(sorted(taken)[:10])}")
    manager.bulk_create(created.values(), batch_size=_BATCH)
    if any(taxon.pk is None for taxon in created.values()):  # backends that return no ids
        pks = {}
        for start in range(0, len(names), _BATCH):
            pks.update(manager.filter(name__in=names[start: start + _BATCH]).values_list("name", "pk"))
        for taxon in created.values():
            taxon.pk = taxon.id = pks[taxon.name]

    def pk_of(ref):
        if ref is None:
            return None
        return ref.id if ref.exists else created[ref.name].pk

    linked = []
    for spec in result.to_create:
        taxon = created[spec.name]
        taxon.parent_id, taxon.synonym_of_id = pk_of(spec.parent), pk_of(spec.synonym_of)
        if taxon.parent_id or taxon.synonym_of_id:
            linked.append(taxon)
    if linked:
        from ami.base.bulk import update_rows

        update_rows(Taxon, linked, ["parent", "synonym_of"])
    return created
