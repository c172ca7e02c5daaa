"""Reconciliation scenarios of issue 7 against an in-memory target, with real names and keys
(moth fixture, recorded GBIF answers) and real matchers (local checklist, replayed GBIF API)."""

import pytest

from dwca_port.taxonomy.checklists import BACKBONE, COL_XR
from dwca_port.taxonomy.decisions import Role
from dwca_port.taxonomy.errors import MatcherUnavailable, PolicyError, TaxaRefused
from dwca_port.taxonomy.reconcile import ArchivedTaxon, Method, Policy, Reconciler
from dwca_port.taxonomy.target import InMemoryTargetTaxonomy

from .conftest import LEPIDOPTERA

NOCTUIDAE = LEPIDOPTERA + (("FAMILY", "Noctuidae"),)
EREBIDAE = LEPIDOPTERA + (("FAMILY", "Erebidae"),)
TORTRICIDAE = LEPIDOPTERA + (("FAMILY", "Tortricidae"),)


def archived(name, rank="SPECIES", parents=(), uuid=None, **fields) -> ArchivedTaxon:
    return ArchivedTaxon(uuid=uuid or f"uuid-{name}", name=name, rank=rank, parents=tuple(parents), **fields)


def species(name, family_chain, **fields) -> ArchivedTaxon:
    return archived(name, "SPECIES", family_chain + (("GENUS", name.split(" ")[0]),), **fields)


@pytest.fixture
def target():
    target = InMemoryTargetTaxonomy()
    target.add_chain(LEPIDOPTERA)
    return target


def landing(decision) -> tuple:
    return decision.method, decision.outcome, decision.target.name


def reconcile(target, archived_taxa, policy=Policy.MATCH, matcher=None, **options):
    return Reconciler(target, policy, matcher, **options).reconcile(archived_taxa)


# --- key and name --------------------------------------------------------------------------


def test_same_key_in_the_same_checklist(target):
    target.add_chain(EREBIDAE + (("GENUS", "Catocala"),))
    mapped = target.add("Catocala ultronia Hübner", "SPECIES", parent="Catocala", gbif_taxon_key=1797445)
    result = reconcile(
        target, [species("Catocala ultronia", NOCTUIDAE, gbif_key="1797445", gbif_checklist_key=BACKBONE)]
    )
    decision = result.decisions[0]
    assert (decision.method, decision.target.id) == (Method.KEY, mapped.id)
    assert "same key 1797445" in decision.note


def test_a_key_shared_by_a_genus_and_its_species_does_not_map_one_onto_the_other(target):
    """Antenna's import_taxa gives a new genus the key of the species row that created it."""
    target.add_chain(EREBIDAE)
    genus = target.add("Catocala", "GENUS", parent="Erebidae", gbif_taxon_key=1797445)
    target.add("Catocala ultronia", "SPECIES", parent="Catocala", gbif_taxon_key=1797445)
    result = reconcile(target, [archived("Catocala", "UNKNOWN", EREBIDAE, gbif_taxon_key=1797445)])
    assert result.decisions[0].target.id == genus.id


def test_same_name_authorship_aside(target):
    target.add_chain(NOCTUIDAE + (("GENUS", "Mythimna"),))
    mapped = target.add("Mythimna obsoleta Hb.", "SPECIES", parent="Mythimna")  # as Antenna's 2023 list names it
    result = reconcile(target, [species("Mythimna obsoleta", NOCTUIDAE, author="(Hübner, 1803)")])
    assert (result.decisions[0].method, result.decisions[0].target.id) == (Method.NAME, mapped.id)
    assert not result.decisions[0].divergences  # Hb. abbreviates Hübner
    other = reconcile(target, [species("Mythimna obsoleta", NOCTUIDAE, author="Smith, 1900")]).decisions[0]
    assert other.target.id == mapped.id
    assert [str(d) for d in other.divergences] == ["authorship: Smith, 1900 in the archive, Hb. in the target"]


def test_same_species_under_another_family_is_mapped_and_reported(target):
    """Catocala moved from Noctuidae to Erebidae: the archive is older than the target."""
    target.add_chain(EREBIDAE + (("GENUS", "Catocala"), ("SPECIES", "Catocala ultronia")))
    result = reconcile(target, [species("Catocala ultronia", NOCTUIDAE)])
    decision = result.decisions[0]
    assert decision.method is Method.NAME
    assert [str(d) for d in decision.divergences] == ["parent: family Noctuidae in the archive, Erebidae in the target"]


def test_same_species_under_another_genus_is_mapped_and_reported(target):
    """GBIF holds Cenopis pettitana as DOUBTFUL under Sparganothis (moth fixture)."""
    target.add_chain(TORTRICIDAE + (("GENUS", "Sparganothis"), ("SPECIES", "Cenopis pettitana")))
    result = reconcile(target, [species("Cenopis pettitana", TORTRICIDAE)])
    assert result.decisions[0].method is Method.NAME
    assert "genus Cenopis in the archive, Sparganothis in the target" in str(result.decisions[0].divergences[0])


def test_rank_divergence_is_reported(target):
    target.add_chain(TORTRICIDAE + (("TRIBE", "Eucosmini"),))
    result = reconcile(target, [archived("Eucosmini", "GENUS", TORTRICIDAE)])
    assert result.decisions[0].method is Method.NAME
    assert str(result.decisions[0].divergences[0]) == "rank: genus in the archive, tribe in the target"


def test_identification_qualifier_and_sp(target):
    target.add_chain(EREBIDAE + (("GENUS", "Catocala"), ("SPECIES", "Catocala ultronia")))
    target.add_chain(NOCTUIDAE + (("GENUS", "Acronicta"),))
    result = reconcile(
        target, [species("Catocala cf. ultronia", EREBIDAE), archived("Acronicta sp.", "SPECIES", NOCTUIDAE)]
    )
    cf, sp = result.decisions
    assert (cf.method, cf.target.name, cf.qualifier) == (Method.NAME, "Catocala ultronia", "cf.")
    assert (sp.method, sp.target.name, sp.target.rank) == (Method.NAME, "Acronicta", "GENUS")


# --- synonyms and spelling variants ----------------------------------------------------------


def test_synonym_in_the_archive_accepted_name_in_the_target(target, local_matcher, api_matcher):
    target.add_chain(NOCTUIDAE + (("GENUS", "Achatia"),))
    accepted = target.add("Achatia evicta", "SPECIES", parent="Achatia", gbif_taxon_key=1797587)
    taxa = [species("Morrisonia evicta", NOCTUIDAE)]  # GBIF: synonym of Achatia evicta
    for matcher in (local_matcher, api_matcher("v1")):
        decision = reconcile(target, taxa, matcher=matcher).decisions[0]
        assert (decision.method, decision.target.id) == (Method.SYNONYM, accepted.id)
        assert decision.match.resolved_key == "1797587" and decision.confidence == 99
        assert not decision.divergences  # the genus changes with the name: that is the synonymy itself


def test_synonym_given_by_the_archive_itself(target):
    target.add_chain(TORTRICIDAE + (("GENUS", "Acleris"), ("SPECIES", "Acleris emargana")))
    taxon = species("Acleris effractana", TORTRICIDAE, synonym_of="Acleris emargana")  # Antenna 2023 list
    decision = reconcile(target, [taxon], Policy.CREATE).decisions[0]
    assert (decision.method, decision.target.name) == (Method.SYNONYM, "Acleris emargana")


def test_spelling_variant(target, local_matcher, api_matcher):
    target.add_chain(TORTRICIDAE + (("GENUS", "Olethreutes"), ("SPECIES", "Olethreutes lacunana")))
    taxa = [species("Olethreutes lacunanum", TORTRICIDAE)]
    for matcher in (local_matcher, api_matcher("v1")):
        decision = reconcile(target, taxa, matcher=matcher).decisions[0]
        assert (decision.method, decision.target.name) == (Method.FUZZY, "Olethreutes lacunana")
        assert decision.confidence >= 95
    cautious = reconcile(target, taxa, matcher=local_matcher, min_fuzzy_confidence=99).decisions[0]
    assert cautious.method is Method.CREATED and cautious.target.name == "Olethreutes lacunanum"


# --- missing taxa, homonyms, no match ------------------------------------------------------------


def test_missing_higher_taxa_are_created_with_the_parent_chain(target):
    taxa = [
        species(
            "Baileya ophthalmica",
            LEPIDOPTERA + (("FAMILY", "Nolidae"),),
            author="(Guenée, 1852)",
            gbif_key="5114431",
            gbif_checklist_key=BACKBONE,
        )
    ]
    result = reconcile(target, taxa)
    assert result.decisions[0].method is Method.CREATED
    created = [(t.name, t.rank, t.parent.name, t.parent.exists) for t in result.to_create]
    assert created == [
        ("Nolidae", "FAMILY", "Lepidoptera", True),
        ("Baileya", "GENUS", "Nolidae", False),
        ("Baileya ophthalmica", "SPECIES", "Baileya", False),
    ]
    species_spec = result.to_create[-1]
    assert (
        species_spec.author,
        species_spec.gbif_key,
        species_spec.gbif_checklist_key,
        species_spec.gbif_taxon_key,
    ) == ("(Guenée, 1852)", "5114431", BACKBONE, 5114431)


def test_strict_refuses_and_lists_what_is_missing(target):
    result = reconcile(
        target,
        [
            species("Baileya ophthalmica", LEPIDOPTERA + (("FAMILY", "Nolidae"),)),
            archived("Lepidoptera", "ORDER", LEPIDOPTERA[:3]),
        ],
        Policy.STRICT,
    )
    assert [d.method for d in result.decisions] == [Method.REFUSED, Method.NAME]
    assert result.to_create == []
    with pytest.raises(TaxaRefused, match="1 archived taxa cannot be mapped") as refused:
        result.raise_if_refused()
    assert "Baileya ophthalmica: not in the target taxonomy, and --taxa=strict creates nothing" in str(refused.value)


def test_homonym_in_another_kingdom(target):
    """Amorpha is a sphinx-moth genus and a legume genus; Antenna names are unique."""
    target.add_chain(
        (
            ("KINGDOM", "Plantae"),
            ("PHYLUM", "Tracheophyta"),
            ("CLASS", "Magnoliopsida"),
            ("ORDER", "Fabales"),
            ("FAMILY", "Fabaceae"),
            ("GENUS", "Amorpha"),
        )
    )
    sphingidae = LEPIDOPTERA + (("FAMILY", "Sphingidae"),)
    result = reconcile(target, [archived("Amorpha", "GENUS", sphingidae), species("Amorpha juglandis", sphingidae)])
    genus, juglandis = result.decisions
    assert genus.method is Method.REFUSED  # never mapped onto the plant
    assert "taken in the target by a different taxon (kingdom Plantae)" in genus.note
    assert juglandis.method is Method.CREATED
    spec = next(t for t in result.to_create if t.name == "Amorpha juglandis")
    assert spec.parent.name == "Sphingidae"  # placed under the nearest ancestor that is not the plant
    assert "genus Amorpha left out of the parent chain" in str(juglandis.divergences[0])


def test_no_match(target, api_matcher):
    taxa = [species("Ypsolopha dentiferella", LEPIDOPTERA + (("FAMILY", "Ypsolophidae"),))]  # GBIF: NONE
    matcher = api_matcher("v1")
    assert reconcile(target, taxa, Policy.MATCH, matcher).decisions[0].method is Method.CREATED
    refused = reconcile(target, taxa, Policy.GBIF, matcher).decisions[0]
    assert refused.method is Method.REFUSED and "GBIF does not know Ypsolopha dentiferella" in refused.note


# --- names the matcher knows and the target lacks (issue 14) ------------------------------------


def test_an_exact_match_the_target_lacks_is_created_with_the_matchers_key(target, local_matcher, api_matcher):
    taxa = [species("Acentria ephemerella", LEPIDOPTERA + (("FAMILY", "Crambidae"),))]  # GBIF: EXACT 4531687
    for matcher in (local_matcher, api_matcher("v1")):
        result = reconcile(target, taxa, Policy.MATCH, matcher)
        decision = result.decisions[0]
        assert landing(decision) == (Method.CREATED, "created", "Acentria ephemerella")
        assert "exact match (4531687), its key kept on it" in decision.note
        spec = result.to_create[-1]
        assert (spec.gbif_key, spec.gbif_checklist_key, spec.gbif_taxon_key) == ("4531687", BACKBONE, 4531687)
        assert (spec.role, spec.archived_uuid, spec.parent.name) == (
            Role.ARCHIVED,
            "uuid-Acentria ephemerella",
            "Acentria",
        )


def test_the_archives_own_key_is_kept_over_the_matchers(target, api_matcher):
    taxa = [species("Acentria ephemerella", LEPIDOPTERA, gbif_key="Q123", gbif_checklist_key=COL_XR)]
    spec = reconcile(target, taxa, Policy.MATCH, api_matcher("v1")).to_create[-1]
    assert (spec.gbif_key, spec.gbif_checklist_key, spec.gbif_taxon_key) == ("Q123", COL_XR, None)


@pytest.mark.parametrize("policy", [Policy.MATCH, Policy.GBIF])
def test_a_synonym_whose_accepted_name_the_target_lacks(target, local_matcher, api_matcher, policy):
    taxa = [species("Ancylis diminuatana", TORTRICIDAE)]  # GBIF: synonym of Ancylis geminana 5771236
    for matcher in (local_matcher, api_matcher("v1")):
        result = reconcile(target, taxa, policy, matcher)
        decision = result.decisions[0]
        assert landing(decision) == (Method.SYNONYM, "created", "Ancylis geminana")
        assert "synonym of Ancylis geminana (5771236), which the target lacks" in decision.note
        assert "the archived name recorded as a synonym of Ancylis geminana" in decision.note
        created = {t.name: t for t in result.to_create}
        accepted, synonym = created["Ancylis geminana"], created["Ancylis diminuatana"]
        assert (accepted.gbif_key, accepted.gbif_taxon_key, accepted.role, accepted.parent.name) == (
            "5771236",
            5771236,
            Role.ACCEPTED,
            "Ancylis",
        )
        assert (synonym.synonym_of, synonym.role, synonym.archived_uuid) == (
            accepted.ref,
            Role.SYNONYM,
            "uuid-Ancylis diminuatana",
        )
        assert result.to_create.index(synonym) > result.to_create.index(accepted)  # linked after


def test_a_spelling_variant_whose_accepted_name_the_target_lacks(target, api_matcher):
    result = reconcile(target, [species("Olethreutes lacunanum", TORTRICIDAE)], Policy.MATCH, api_matcher("v1"))
    decision = result.decisions[0]
    assert landing(decision) == (Method.FUZZY, "created", "Olethreutes lacunana")
    accepted = next(t for t in result.to_create if t.name == "Olethreutes lacunana")
    assert (accepted.gbif_key, accepted.search_names) == ("1742113", ("Olethreutes lacunanum",))
    assert not any(t.name == "Olethreutes lacunanum" for t in result.to_create)  # a misspelling is no taxon
    assert "the archived spelling kept as a search name of Olethreutes lacunana" in decision.note


def test_an_accepted_name_the_archive_holds_too_is_created_from_the_archive(target, api_matcher, replay):
    replay.unknown = "none"  # GBIF was never asked about Ancylis geminana itself: its NONE answer
    taxa = [species("Ancylis diminuatana", TORTRICIDAE), species("Ancylis geminana", TORTRICIDAE, author="(Walker)")]
    result = reconcile(target, taxa, Policy.MATCH, api_matcher("v1"))
    synonym, accepted = result.decisions
    assert (synonym.method, synonym.target.name, accepted.method) == (
        Method.SYNONYM,
        "Ancylis geminana",
        Method.CREATED,
    )
    created = {t.name: t for t in result.to_create}
    assert created["Ancylis geminana"].archived_uuid == "uuid-Ancylis geminana"
    # the archive's row, with the key GBIF gave for the synonym's accepted name
    assert (created["Ancylis geminana"].author, created["Ancylis geminana"].gbif_key) == ("(Walker)", "5771236")
    assert "created from the archive" in synonym.note


def test_strict_and_create_keep_out_of_it(target, api_matcher, replay):
    taxa = [species("Ancylis diminuatana", TORTRICIDAE)]
    refused = reconcile(target, taxa, Policy.STRICT, api_matcher("v1")).decisions[0]
    assert refused.method is Method.REFUSED
    assert "synonym of Ancylis geminana (5771236); Ancylis geminana is not in the target either" in refused.note
    replay.requests.clear()
    result = reconcile(target, taxa, Policy.CREATE, api_matcher("v1"))
    assert (result.decisions[0].method, result.decisions[0].target.name) == (Method.CREATED, "Ancylis diminuatana")
    assert result.to_create[-1].synonym_of is None and replay.match_requests == 0


def test_a_name_the_target_keeps_as_a_synonym_lands_on_its_accepted_taxon(target, api_matcher):
    target.add_chain(TORTRICIDAE + (("GENUS", "Ancylis"), ("SPECIES", "Ancylis geminana")))
    target.add("Ancylis diminuatana", "SPECIES", parent="Ancylis", synonym_of="Ancylis geminana")
    decision = reconcile(target, [species("Ancylis diminuatana", TORTRICIDAE)]).decisions[0]
    assert (decision.method, decision.target.name) == (Method.SYNONYM, "Ancylis geminana")
    # An archive that calls it a synonym itself keeps its rows on the synonym, as its source had them.
    own = species("Ancylis diminuatana", TORTRICIDAE, synonym_of="Ancylis geminana")
    decision = reconcile(target, [own]).decisions[0]
    assert (decision.method, decision.target.name) == (Method.NAME, "Ancylis diminuatana")


# --- --taxa=gbif ------------------------------------------------------------------------------


def test_gbif_policy_needs_a_matcher(target):
    with pytest.raises(PolicyError, match="needs a matcher"):
        Reconciler(target, Policy.GBIF)


def test_gbif_policy_creates_the_accepted_taxon_with_gbifs_classification(target, api_matcher):
    result = reconcile(target, [species("Cenopis mesospila", TORTRICIDAE)], Policy.GBIF, api_matcher("v1"))
    decision = result.decisions[0]
    assert landing(decision) == (Method.SYNONYM, "created", "Sparganothis reticulatana")
    assert "synonym of Sparganothis reticulatana (1739680)" in decision.note
    created = {t.name: t for t in result.to_create}
    assert set(created) == {"Tortricidae", "Sparganothis", "Sparganothis reticulatana", "Cenopis mesospila"}
    accepted = created["Sparganothis reticulatana"]
    assert (accepted.gbif_key, accepted.gbif_checklist_key, accepted.parent.name, accepted.role) == (
        "1739680",
        BACKBONE,
        "Sparganothis",
        Role.ACCEPTED,
    )
    synonym = created["Cenopis mesospila"]  # the archived name, kept as GBIF's synonym
    assert (synonym.synonym_of.name, synonym.parent.name, synonym.role, synonym.archived_uuid) == (
        "Sparganothis reticulatana",
        "Sparganothis",
        Role.SYNONYM,
        "uuid-Cenopis mesospila",
    )
    assert created["Tortricidae"].parent.name == "Lepidoptera" and created["Tortricidae"].parent.exists


def test_gbif_policy_maps_to_the_higher_taxon_gbif_knows(target, api_matcher):
    target.add_chain(LEPIDOPTERA + (("FAMILY", "Geometridae"), ("GENUS", "Xanthorhoe")))
    geometridae = LEPIDOPTERA + (("FAMILY", "Geometridae"),)
    result = reconcile(target, [species("Xanthorhoe ferrugata", geometridae)], Policy.GBIF, api_matcher("v1"))
    decision = result.decisions[0]
    assert (decision.method, decision.target.name, decision.target.exists) == (Method.HIGHER_RANK, "Xanthorhoe", True)
    assert (
        reconcile(target, [species("Xanthorhoe ferrugata", geometridae)], Policy.MATCH, api_matcher("v1"))
        .decisions[0]
        .method
        is Method.CREATED
    )  # match keeps the species


def test_complexes_are_placed_by_genus(target, local_matcher):
    target.add_chain(TORTRICIDAE + (("GENUS", "Ancylis"),))
    taxon = archived("Ancylis subaequana complex", "SPECIES", TORTRICIDAE + (("GENUS", "Ancylis"),))
    created = reconcile(target, [taxon], Policy.MATCH, local_matcher)
    assert created.decisions[0].method is Method.CREATED and created.to_create[0].parent.name == "Ancylis"
    higher = reconcile(target, [taxon], Policy.GBIF, local_matcher).decisions[0]
    assert (higher.method, higher.target.name) == (Method.HIGHER_RANK, "Ancylis")


def test_create_policy_never_asks_the_matcher(target, api_matcher, replay):
    result = reconcile(target, [species("Morrisonia evicta", NOCTUIDAE)], Policy.CREATE, api_matcher("v1"))
    assert result.decisions[0].method is Method.CREATED and replay.match_requests == 0


def test_duplicates_are_created_once(target):
    taxa = [species("Baileya ophthalmica", LEPIDOPTERA + (("FAMILY", "Nolidae"),), uuid=str(n)) for n in range(3)]
    result = reconcile(target, taxa)
    assert [t.name for t in result.to_create].count("Baileya ophthalmica") == 1
    assert {d.target.name for d in result.decisions} == {"Baileya ophthalmica"}


# --- checklists -------------------------------------------------------------------------------


def test_backbone_keys_in_the_archive_col_xr_keys_in_the_target(target, api_matcher):
    odonata = (
        ("KINGDOM", "Animalia"),
        ("PHYLUM", "Arthropoda"),
        ("CLASS", "Insecta"),
        ("ORDER", "Odonata"),
        ("FAMILY", "Calopterygidae"),
        ("GENUS", "Calopteryx"),
    )
    target.add_chain(odonata[3:])
    calopteryx = target.add(
        "Calopteryx splendens", "SPECIES", parent="Calopteryx", gbif_key="Q2M4", gbif_checklist_key=COL_XR
    )
    sparrow = target.add("Passer domesticus", "SPECIES", gbif_key="4DXXM", gbif_checklist_key=COL_XR)
    taxa = [
        archived("Calopteryx splendens", "SPECIES", odonata, gbif_key="1427067", gbif_checklist_key=BACKBONE),
        # a misspelt name with a right Backbone key: GBIF crosswalks the key to COL XR
        archived("Passer domesticos", "SPECIES", gbif_key="5231190", gbif_checklist_key=BACKBONE),
    ]
    result = reconcile(target, taxa, Policy.STRICT, api_matcher("v2", COL_XR))
    by_name, by_crosswalk = result.decisions
    assert (by_name.method, by_name.target.id) == (Method.NAME, calopteryx.id)
    assert "different checklists" in str(by_name.divergences[0])  # 1427067 and Q2M4 are not comparable
    assert (by_crosswalk.method, by_crosswalk.target.id) == (Method.KEY, sparrow.id)
    assert by_crosswalk.match.key == "4DXXM" and by_crosswalk.match.checklist_key == COL_XR


def test_checklist_aliases_in_the_archive(target):
    target.add("Calopteryx splendens", "SPECIES", gbif_key="Q2M4", gbif_checklist_key=COL_XR)
    result = reconcile(target, [archived("Calopteryx splendens", gbif_key="Q2M4", gbif_checklist_key="col-xr")])
    assert result.decisions[0].method is Method.KEY


def test_keys_of_another_checklist_are_never_compared(target):
    target.add("Calopteryx splendens", "SPECIES", gbif_key="Q2M4", gbif_checklist_key=COL_XR)
    result = reconcile(target, [archived("Calopteryx virgo", gbif_key="Q2M4", gbif_checklist_key=BACKBONE)])
    assert result.decisions[0].method is Method.CREATED


# --- the network failing -------------------------------------------------------------------------

MOTHS = [
    "Catocala ultronia",
    "Baileya ophthalmica",
    "Palpita magniferalis",
    "Morrisonia evicta",
    "Olethreutes lacunanum",
]


def test_network_failure_mid_reconciliation_stops_cleanly(target, api_matcher, replay):
    replay.fail("503", after=2)
    with pytest.raises(MatcherUnavailable, match="HTTP 503 after 3 attempts") as caught:
        reconcile(target, [species(n, LEPIDOPTERA) for n in MOTHS], Policy.GBIF, api_matcher("v1"))
    assert caught.value.answered == 2
    assert len(target) == 4  # the engine never writes; the importer rolls back its transaction


def test_network_failure_falls_back_to_the_local_checklist(target, api_matcher, replay, local_matcher):
    replay.fail("drop", after=2)
    result = reconcile(
        target, [species(n, LEPIDOPTERA) for n in MOTHS], Policy.GBIF, api_matcher("v1"), fallback=local_matcher
    )
    sources = [d.match.source for d in result.decisions]
    assert sources[:2] == [sources[0]] * 2 and sources[0].startswith("GBIF species match v1")
    assert all(s.startswith("local checklist") for s in sources[2:])
    assert "connection failed" in result.events[0] and "3 names matched with local checklist" in result.events[0]
    assert [d.match.resolved_key for d in result.decisions] == ["1797445", "5114431", "1889838", "1797587", "1742113"]
