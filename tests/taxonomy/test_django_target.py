"""Reconciliation against main.Taxon (SQLite by default, PostgreSQL with DATABASE_URL): set-wise
lookups, bulk creation of the missing taxa, and a clean rollback when GBIF fails."""

import json

import pytest
from django.db import transaction

from ami.main.models import Taxon, TaxonRank
from dwca_port.taxonomy.checklists import BACKBONE, COL_XR
from dwca_port.taxonomy.create import create_missing_taxa
from dwca_port.taxonomy.django_target import DjangoTargetTaxonomy
from dwca_port.taxonomy.errors import MatcherUnavailable, StaleReconciliation
from dwca_port.taxonomy.ranks import ANTENNA_RANKS
from dwca_port.taxonomy.reconcile import ArchivedTaxon, Method, Policy, Reconciler

from .conftest import LEPIDOPTERA
from .gbif_replay import FIXTURES

ANTENNA_TAXA = json.loads((FIXTURES / "quebec-vermont-uk-denmark-taxa-20230914.json").read_text())

pytestmark = pytest.mark.django_db


def load_antenna_taxonomy(entries: list[dict]) -> None:
    """The target as upstream's import_taxa builds it from the 2023 list: Lepidoptera > family >
    genus > species, the species key also given to the genus it created, synonyms linked."""
    order = Taxon.objects.create(name="Lepidoptera", rank=TaxonRank.ORDER)
    families, genera, species = {}, {}, {}
    for entry in entries:
        families.setdefault(entry["family"], Taxon(name=entry["family"], rank=TaxonRank.FAMILY, parent=order))
    Taxon.objects.bulk_create(families.values())
    for entry in entries:
        if entry["genus"] not in genera:
            genera[entry["genus"]] = Taxon(
                name=entry["genus"],
                rank=TaxonRank.GENUS,
                parent=families[entry["family"]],
                gbif_taxon_key=entry.get("gbif_taxon_key"),
            )  # upstream's quirk
    Taxon.objects.bulk_create(genera.values())
    for entry in entries:
        species.setdefault(
            entry["species"],
            Taxon(
                name=entry["species"],
                rank=TaxonRank.SPECIES,
                parent=genera[entry["genus"]],
                gbif_taxon_key=entry.get("gbif_taxon_key"),
            ),
        )
    Taxon.objects.bulk_create(species.values())
    synonyms = [t for t in species.values() if _entry(entries, t.name).get("synonym_of") in species]
    for taxon in synonyms:
        taxon.synonym_of = species[_entry(entries, taxon.name)["synonym_of"]]
    Taxon.objects.bulk_update(synonyms, ["synonym_of"])


def _entry(entries, name):
    return next(e for e in entries if e["species"] == name)


def archived_from(entry: dict, **changes) -> ArchivedTaxon:
    fields = dict(
        uuid=f"uuid-{entry['species']}",
        name=entry["species"],
        rank="SPECIES",
        parents=LEPIDOPTERA + (("FAMILY", entry["family"]), ("GENUS", entry["genus"])),
        gbif_taxon_key=entry.get("gbif_taxon_key"),
    )
    fields.update(changes)
    return ArchivedTaxon(**fields)


def test_rank_vocabulary_matches_the_model():
    assert set(ANTENNA_RANKS) == set(TaxonRank.values)


def test_lookups_are_set_wise(django_assert_max_num_queries):
    entries = ANTENNA_TAXA[:400]
    load_antenna_taxonomy(entries)
    archive = [archived_from(e) for e in entries[:300]]  # mapped by key
    archive += [archived_from(e, gbif_taxon_key=None, uuid=f"n-{e['species']}") for e in entries[300:400]]  # by name
    archive += [ArchivedTaxon(f"x-{n}", f"Fictus {n}", "SPECIES", parents=LEPIDOPTERA) for n in ("alpha", "beta")]
    target = DjangoTargetTaxonomy()
    with django_assert_max_num_queries(12):
        result = Reconciler(target, Policy.MATCH).reconcile(archive)
    assert target.unprefetched_lookups == 0
    methods = [d.method for d in result.decisions]
    # A name the target keeps as a synonym lands on its accepted taxon (method synonym).
    synonyms = {e["species"] for e in entries if e.get("synonym_of") in {x["species"] for x in entries}}
    keyed = [d for d in result.decisions[:300] if d.archived.gbif_taxon_key]
    assert {d.method for d in keyed if d.archived.name not in synonyms} == {Method.KEY}
    assert {d.method for d in keyed if d.archived.name in synonyms} == {Method.SYNONYM}
    assert len(keyed) == 300 - sum(1 for e in entries[:300] if not e.get("gbif_taxon_key"))
    assert methods.count(Method.CREATED) == 2
    assert all(m in (Method.KEY, Method.NAME, Method.SYNONYM, Method.CREATED) for m in methods)


def test_target_names_with_authorship_are_found_by_canonical_name():
    entry = next(e for e in ANTENNA_TAXA if e["species"] == "Mythimna obsoleta Hb.")
    load_antenna_taxonomy([entry])
    result = Reconciler(DjangoTargetTaxonomy(), Policy.STRICT).reconcile(
        [ArchivedTaxon("u1", "Mythimna obsoleta", "SPECIES", author="(Hübner, 1803)", parents=LEPIDOPTERA)]
    )
    assert (result.decisions[0].method, result.decisions[0].target.name) == (Method.NAME, "Mythimna obsoleta Hb.")


def test_synonyms_of_the_target_lead_to_their_accepted_taxon():
    entries = [e for e in ANTENNA_TAXA if e["species"] in ("Acleris effractana", "Acleris emargana")]
    load_antenna_taxonomy(entries)
    synonym, accepted = sorted(entries, key=lambda e: e["species"] != "Acleris effractana")
    # Both carry the accepted key in Antenna's list. An archive that does not know the synonym
    # lands on the accepted taxon; one that calls it a synonym itself keeps its rows on it.
    unaware = Reconciler(DjangoTargetTaxonomy(), Policy.STRICT).reconcile([archived_from(e) for e in entries])
    assert [(d.method, d.target.name) for d in unaware.decisions] == [
        (Method.SYNONYM, "Acleris emargana") if e is synonym else (Method.KEY, "Acleris emargana") for e in entries
    ]
    assert "a synonym of Acleris emargana in the target" in unaware.decisions[entries.index(synonym)].note
    aware = Reconciler(DjangoTargetTaxonomy(), Policy.STRICT).reconcile(
        [archived_from(synonym, synonym_of="Acleris emargana"), archived_from(accepted)]
    )
    assert [(d.method, d.target.name) for d in aware.decisions] == [
        (Method.KEY, "Acleris effractana"),
        (Method.KEY, "Acleris emargana"),
    ]


def test_missing_taxa_are_created_in_bulk_with_their_chains(django_assert_max_num_queries):
    load_antenna_taxonomy(ANTENNA_TAXA[:5])
    nolidae = LEPIDOPTERA + (("FAMILY", "Nolidae"),)
    archive = [
        ArchivedTaxon(
            f"b{n}",
            name,
            "SPECIES",
            author=author,
            parents=nolidae + (("GENUS", name.split()[0]),),
            gbif_key=key,
            gbif_checklist_key=BACKBONE,
        )
        for n, (name, author, key) in enumerate(
            [
                ("Baileya ophthalmica", "(Guenée, 1852)", "5114431"),
                ("Baileya dormitans", "(Guenée, 1852)", None),
                ("Meganola minuscula", "(Zeller, 1872)", None),
            ]
        )
    ]
    archive.append(ArchivedTaxon("lep", "Lepidoptera", "ORDER", parents=LEPIDOPTERA[:3]))
    result = Reconciler(DjangoTargetTaxonomy(), Policy.MATCH).reconcile(archive)
    before = Taxon.objects.count()
    with django_assert_max_num_queries(12):
        taxa = create_missing_taxa(result)
    # Nolidae, two genera, three species; Animalia..Insecta above the target's root are not invented
    assert Taxon.objects.count() == before + 6
    ophthalmica = Taxon.objects.get(name="Baileya ophthalmica")
    assert taxa["Baileya ophthalmica"].pk == ophthalmica.pk and taxa["Lepidoptera"].name == "Lepidoptera"
    assert (ophthalmica.author, ophthalmica.gbif_key, ophthalmica.gbif_checklist_key, ophthalmica.gbif_taxon_key) == (
        "(Guenée, 1852)",
        "5114431",
        BACKBONE,
        5114431,
    )
    assert ophthalmica.parent.name == "Baileya" and ophthalmica.parent.parent.name == "Nolidae"
    assert ophthalmica.parent.parent.parent.name == "Lepidoptera"
    assert [p["name"] for p in ophthalmica.parents_json][-3:] == ["Lepidoptera", "Nolidae", "Baileya"]
    assert Taxon.objects.get(name="Baileya").display_name == "Baileya sp."


def test_creation_refuses_a_target_that_changed_meanwhile():
    result = Reconciler(DjangoTargetTaxonomy(), Policy.MATCH).reconcile(
        [ArchivedTaxon("u", "Baileya ophthalmica", "SPECIES")]
    )
    Taxon.objects.create(name="Baileya ophthalmica")
    with pytest.raises(StaleReconciliation, match="Baileya ophthalmica"):
        create_missing_taxa(result)


def test_gbif_policy_end_to_end(api_matcher):
    load_antenna_taxonomy([e for e in ANTENNA_TAXA if e["family"] == "Nolidae"][:3])
    archive = [
        ArchivedTaxon("m", "Cenopis mesospila", "SPECIES", parents=LEPIDOPTERA + (("FAMILY", "Tortricidae"),)),
        ArchivedTaxon("c", "Calopteryx splendens", "SPECIES"),
    ]
    target = DjangoTargetTaxonomy()
    result = Reconciler(target, Policy.GBIF, api_matcher("v2", COL_XR)).reconcile(archive[1:])
    assert target.unprefetched_lookups == 0  # GBIF's names were loaded in one more round, not one by one
    with transaction.atomic():
        taxa = create_missing_taxa(result)
    col = taxa["Calopteryx splendens"]
    assert (col.gbif_key, col.gbif_checklist_key, col.gbif_taxon_key) == ("Q2M4", COL_XR, None)
    assert col.parent.name == "Calopteryx" and col.parent.gbif_key == "9WLSS"
    chain = [p["name"] for p in col.parents_json]
    # COL's ranks Antenna has no rank for (DOMAIN, SUBPHYLUM, SUBORDER) are left out; SUPERFAMILY it has
    assert chain == ["Animalia", "Arthropoda", "Insecta", "Odonata", "Calopterygoidea", "Calopterygidae", "Calopteryx"]

    result = Reconciler(DjangoTargetTaxonomy(), Policy.GBIF, api_matcher("v1")).reconcile(archive[:1])
    taxa = create_missing_taxa(result, key="uuid")
    accepted = taxa["m"]
    assert (accepted.name, accepted.gbif_taxon_key, accepted.parent.name) == (
        "Sparganothis reticulatana",
        1739680,
        "Sparganothis",
    )


def test_gbif_failure_rolls_the_import_back(api_matcher, replay):
    """What the importer does: one transaction; MatcherUnavailable leaves the database as it was."""
    load_antenna_taxonomy(ANTENNA_TAXA[:3])
    before = set(Taxon.objects.values_list("name", flat=True))
    replay.fail("503", after=1)
    archive = [
        ArchivedTaxon("a", "Baileya ophthalmica", "SPECIES", parents=LEPIDOPTERA),
        ArchivedTaxon("b", "Catocala ultronia", "SPECIES", parents=LEPIDOPTERA),
    ]
    with pytest.raises(MatcherUnavailable):
        with transaction.atomic():
            Taxon.objects.create(name="Imported first")  # e.g. rows the importer wrote before reconciling
            result = Reconciler(DjangoTargetTaxonomy(), Policy.GBIF, api_matcher("v1", retries=1)).reconcile(archive)
            create_missing_taxa(result)
    assert set(Taxon.objects.values_list("name", flat=True)) == before
