"""Apply a reconciliation: create the missing taxa with their parent chains in bulk, inside the
caller's transaction, and hand back every archived name's Taxon."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from .decisions import NewTaxon, Reconciliation, TaxonRef
from .errors import StaleReconciliation

_BATCH = 500


def planned_keys(spec: NewTaxon) -> dict:
    """The GBIF keys a reconciliation plans: the key as a string with its checklist, and
    upstream's integer `gbif_taxon_key` when it is a Backbone key."""
    return dict(
        gbif_key=spec.gbif_key,
        gbif_checklist_key=spec.gbif_checklist_key or "",
        gbif_taxon_key=spec.gbif_taxon_key,
    )


def planned_fields(spec: NewTaxon) -> dict:
    """The Taxon fields a reconciliation plans: name, rank, author, GBIF keys, search names."""
    return dict(
        name=spec.name,
        rank=spec.rank,
        author=(spec.author or "")[:255],
        search_names=list(spec.search_names) or None,
        **planned_keys(spec),
    )


def new_taxon(spec: NewTaxon):
    """An unsaved Taxon as the reconciliation planned it."""
    from ami.main.models import Taxon

    now = timezone.now()
    return Taxon(**planned_fields(spec), created_at=now, updated_at=now)


def create_taxa(result: Reconciliation, make: Callable[[NewTaxon], object] = new_taxon) -> dict[str, object]:
    """Create `result.to_create` in bulk, then link parents and accepted names; returns
    {planned name: Taxon}. `make(spec)` builds each unsaved Taxon (the importer builds them from
    the archive's rows). Queries: one per 500 names to check they are still free, the inserts,
    one to read ids back where the backend does not return them, one UPDATE of the links."""
    from ami.base.bulk import update_rows
    from ami.main.models import Taxon

    if not result.to_create:
        return {}
    manager = Taxon._base_manager
    created = {spec.name: make(spec) for spec in result.to_create}
    for taxon in created.values():
        taxon.parent_id = taxon.synonym_of_id = None  # linked below, once every taxon exists
    names = [taxon.name for taxon in created.values()]
    taken = set()
    for start in range(0, len(names), _BATCH):
        taken |= set(manager.filter(name__in=names[start : start + _BATCH]).values_list("name", flat=True))
    if taken:
        raise StaleReconciliation(
            f"{len(taken)} taxa to create exist in the target already (created since the reconciliation?): "
            f"{', '.join(sorted(taken)[:10])}; run the reconciliation again"
        )
    manager.bulk_create(created.values(), batch_size=_BATCH)
    if any(taxon.pk is None for taxon in created.values()):  # backends that return no ids
        pks = {}
        for start in range(0, len(names), _BATCH):
            pks.update(manager.filter(name__in=names[start : start + _BATCH]).values_list("name", "pk"))
        for taxon in created.values():
            taxon.pk = taxon.id = pks[taxon.name]

    def pk_of(ref: TaxonRef | None):
        if ref is None:
            return None
        return ref.id if ref.exists else created[ref.name].pk

    linked = []
    for spec in result.to_create:
        taxon = created[spec.name]
        taxon.parent_id, taxon.synonym_of_id = pk_of(spec.parent), pk_of(spec.synonym_of)
        if taxon.parent_id or taxon.synonym_of_id:
            linked.append(taxon)
    update_rows(Taxon, linked, ["parent", "synonym_of"])
    return created


def create_missing_taxa(result: Reconciliation, key: str = "name") -> dict[str, object]:
    """Create `result.to_create` (parents first) and return {archived name: Taxon} (or, with
    key="uuid", {archived uuid: Taxon}) for every archived taxon that was mapped or created;
    refused ones are absent."""
    from ami.main.models import Taxon

    with transaction.atomic():
        created = create_taxa(result)
        if created:
            Taxon.objects.update_all_calculated_fields(list(created.values()))
        existing = Taxon._base_manager.in_bulk({d.target.id for d in result.decisions if d.target and d.target.exists})
        mapping = {}
        for decision in result.decisions:
            ref = decision.target
            if ref is not None:
                mapping[getattr(decision.archived, key)] = existing[ref.id] if ref.exists else created[ref.name]
        return mapping
