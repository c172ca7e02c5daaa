"""Names with a designation after the parsed name ("Taxon 0", "Acronicta sp. 1"): the parser
reads them as a higher taxon plus a marker, but each is a taxon of its own, keyed by its whole
name. Bare "X sp." / "X spp." still stand for X."""

import pytest

from ami.main.models import Taxon
from dwca_port.taxonomy.create import create_missing_taxa
from dwca_port.taxonomy.django_target import DjangoTargetTaxonomy
from dwca_port.taxonomy.names import NameKind, parse_name
from dwca_port.taxonomy.reconcile import ArchivedTaxon, Method, Policy, Reconciler
from dwca_port.taxonomy.target import InMemoryTargetTaxonomy

from .conftest import LEPIDOPTERA

NOCTUIDAE = LEPIDOPTERA + (("FAMILY", "Noctuidae"),)
ACRONICTA = NOCTUIDAE + (("GENUS", "Acronicta"),)


def archived(name, rank="UNKNOWN", parents=()) -> ArchivedTaxon:
    return ArchivedTaxon(uuid=f"uuid-{name}", name=name, rank=rank, parents=tuple(parents))


def reconcile(target, taxa, policy=Policy.MATCH, matcher=None):
    return Reconciler(target, policy, matcher).reconcile(taxa)


@pytest.fixture
def target():
    target = InMemoryTargetTaxonomy()
    target.add_chain(ACRONICTA)
    return target


# --- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "verbatim, anchor, marker",
    [
        ("Taxon 0", "Taxon", "0"),
        ("Acronicta sp. 1", "Acronicta", "sp. 1"),
        ("Acronicta  sp.2", "Acronicta", "sp.2"),
        ("Noctuidae sp. MV3", "Noctuidae", "sp. MV3"),
    ],
)
def test_a_designation_makes_a_taxon_of_its_own(verbatim, anchor, marker):
    parsed = parse_name(verbatim)
    assert parsed.kind is NameKind.CONCEPT and parsed.match_is_placement_only
    assert parsed.taxon_name == " ".join(verbatim.split())  # the whole name, spaces normalised
    assert (parsed.match_name, parsed.marker) == (anchor, marker)


def test_names_differing_only_in_marker_have_different_keys():
    assert parse_name("Taxon 0").key != parse_name("Taxon 1").key
    assert parse_name("Acronicta sp. 1").key != parse_name("Acronicta sp. 2").key
    assert parse_name("Acronicta sp. 1").key != parse_name("Acronicta").key
    assert parse_name("Acronicta sp.").key == parse_name("Acronicta spp.").key == parse_name("Acronicta").key


# --- the engine -----------------------------------------------------------------------------


@pytest.mark.parametrize("names", [("Taxon 0", "Taxon 1"), ("Acronicta sp. 1", "Acronicta sp. 2")])
def test_two_marker_names_stay_distinct_on_an_empty_target(names):
    result = reconcile(InMemoryTargetTaxonomy(), [archived(n) for n in names])
    assert [d.method for d in result.decisions] == [Method.CREATED, Method.CREATED]
    assert [d.target.name for d in result.decisions] == list(names)
    assert [spec.name for spec in result.to_create] == list(names)


def test_two_marker_names_stay_distinct_when_the_target_holds_one(target):
    existing = target.add("Taxon 0", "UNKNOWN")
    result = reconcile(target, [archived("Taxon 0"), archived("Taxon 1")])
    same, other = result.decisions
    assert (same.method, same.target.id) == (Method.NAME, existing.id)  # the same name maps onto it
    assert (other.method, other.target.name, other.target.exists) == (Method.CREATED, "Taxon 1", False)


def test_the_same_marker_name_on_both_sides_maps_onto_it(target):
    existing = target.add("Acronicta sp. 1", "SPECIES", parent="Acronicta")
    for policy in (Policy.MATCH, Policy.STRICT):
        decision = reconcile(target, [archived("Acronicta sp. 1", "SPECIES", ACRONICTA)], policy).decisions[0]
        assert (decision.method, decision.target.id) == (Method.NAME, existing.id)
        assert not decision.divergences


def test_a_marker_name_is_not_its_genus_but_is_placed_under_it(target):
    result = reconcile(
        target, [archived("Acronicta sp. 1", "SPECIES", ACRONICTA), archived("Acronicta sp.", "GENUS", NOCTUIDAE)]
    )
    numbered, bare = result.decisions
    assert (numbered.method, numbered.target.name) == (Method.CREATED, "Acronicta sp. 1")
    assert result.to_create[0].parent.name == "Acronicta" and result.to_create[0].parent.exists
    assert (bare.method, bare.target.name, bare.target.exists) == (Method.NAME, "Acronicta", True)  # "X sp." is X
    strict = reconcile(target, [archived("Acronicta sp. 1", "SPECIES", ACRONICTA)], Policy.STRICT).decisions[0]
    assert strict.method is Method.REFUSED  # never merged into the genus


def test_a_formal_name_is_not_mapped_onto_a_marker_name():
    target = InMemoryTargetTaxonomy()
    target.add_chain(NOCTUIDAE)
    target.add("Acronicta sp. 1", "SPECIES", parent="Noctuidae")
    decision = reconcile(target, [archived("Acronicta", "GENUS", NOCTUIDAE)]).decisions[0]
    assert (decision.method, decision.target.name, decision.target.exists) == (Method.CREATED, "Acronicta", False)


def test_a_marker_name_is_only_placed_by_the_matcher(target, local_matcher):
    taxon = archived("Acronicta sp. 1", "SPECIES", ACRONICTA)
    assert reconcile(target, [taxon], Policy.MATCH, local_matcher).decisions[0].method is Method.CREATED
    higher = reconcile(target, [taxon], Policy.GBIF, local_matcher).decisions[0]
    assert (higher.method, higher.target.name) == (Method.HIGHER_RANK, "Acronicta")


# --- against main.Taxon -----------------------------------------------------------------------


@pytest.mark.django_db
def test_marker_names_against_the_database():
    existing = Taxon.objects.create(name="Taxon 0", rank="UNKNOWN")
    target = DjangoTargetTaxonomy()
    result = Reconciler(target, Policy.MATCH).reconcile([archived("Taxon 0"), archived("Taxon 1"), archived("Taxon 2")])
    assert target.unprefetched_lookups == 0
    assert [(d.method, d.target.name) for d in result.decisions] == [
        (Method.NAME, "Taxon 0"),
        (Method.CREATED, "Taxon 1"),
        (Method.CREATED, "Taxon 2"),
    ]
    taxa = create_missing_taxa(result)
    assert taxa["Taxon 0"].pk == existing.pk
    assert {taxa["Taxon 1"].name, taxa["Taxon 2"].name} == {"Taxon 1", "Taxon 2"}
    assert Taxon.objects.filter(name__startswith="Taxon ").count() == 3
