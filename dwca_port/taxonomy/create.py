"""Apply a reconciliation: create the missing taxa with their parent chains in bulk, inside the
caller's transaction, and hand back every archived name's Taxon."""
from __future__ import annotations

from django.db import transaction

from .decisions import Reconciliation, TaxonRef
from .errors import StaleReconciliation

_BATCH = 500


def create_missing_taxa(result: Reconciliation, using: str = "default", key: str = "name") -> dict[str, object]:
    """Create `result.to_create` (parents first) and return {archived name: Taxon} (or, with
    key="uuid", {archived uuid: Taxon}) for every archived taxon that was mapped or created;
    refused ones are absent. Queries: one to check the
    names are still free, the inserts, one to read ids back where the backend does not return
    them, one bulk update of the parent/synonym links, the calculated fields, one to load the
    mapped taxa."""
    from ami.main.models import Taxon

    with transaction.atomic(using=using):
        manager = Taxon._base_manager.db_manager(using)
        names = [spec.name for spec in result.to_create]
        taken = set()
        for start in range(0, len(names), _BATCH):
            taken |= set(manager.filter(name__in=names[start: start + _BATCH]).values_list("name", flat=True))
        if taken:
            raise StaleReconciliation(
                f"{len(taken)} taxa to create exist in the target already (created since the reconciliation?): "
                f"{', '.join(sorted(taken)[:10])}; run the reconciliation again")

        created = {spec.name: Taxon(name=spec.name, rank=spec.rank, author=(spec.author or "")[:255],
                                    gbif_key=spec.gbif_key, gbif_checklist_key=spec.gbif_checklist_key or "",
                                    gbif_taxon_key=spec.gbif_taxon_key)
                   for spec in result.to_create}
        manager.bulk_create(created.values(), batch_size=_BATCH)
        if any(taxon.pk is None for taxon in created.values()):  # backends that return no ids
            for start in range(0, len(names), _BATCH):
                for name, pk in manager.filter(name__in=names[start: start + _BATCH]).values_list("name", "pk"):
                    created[name].pk = created[name].id = pk

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
        if created:
            manager.bulk_update(linked, ["parent", "synonym_of"], batch_size=_BATCH)
            Taxon.objects.db_manager(using).update_all_calculated_fields(list(created.values()))

        existing = manager.in_bulk({d.target.id for d in result.decisions if d.target and d.target.exists})
        mapping = {}
        for decision in result.decisions:
            ref = decision.target
            if ref is not None:
                mapping[getattr(decision.archived, key)] = existing[ref.id] if ref.exists else created[ref.name]
        return mapping
