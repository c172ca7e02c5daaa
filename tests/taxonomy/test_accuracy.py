"""Accuracy against the moth fixture: for every name GBIF matched EXACT, FUZZY or as a synonym,
the reconciled accepted key must be GBIF's answer, whether the reconciliation asks the GBIF API
(replayed) or the local checklist. The figures are printed in the terminal summary."""

import pytest

from dwca_port.taxonomy.matchers import MatchType, Query
from dwca_port.taxonomy.reconcile import ArchivedTaxon, Method, Policy, Reconciler
from dwca_port.taxonomy.target import InMemoryTargetTaxonomy

from .conftest import LEPIDOPTERA
from .gbif_replay import load_moth_rows

ROWS = load_moth_rows()
MATCHED = [r for r in ROWS if r["match_type"] in ("EXACT", "FUZZY") and r["accepted_taxon_key"] != "-1"]
UNMATCHED = [r for r in ROWS if r["match_type"] == "NONE"]


def archive_of(rows) -> list[ArchivedTaxon]:
    """The names as an archive would carry them: species under their family, no keys."""
    return [
        ArchivedTaxon(
            uuid=str(n), name=r["search_species"], rank="SPECIES", parents=LEPIDOPTERA + (("FAMILY", r["family"]),)
        )
        for n, r in enumerate(rows)
    ]


# The 2023 Backbone holds a few accepted names twice, under two keys (e.g. Coleophora duplicis
# 5120739 and 6212392). Antenna holds one taxon per name, so every archived name whose accepted
# name is one of these maps onto that one taxon and its first key: the key differs from GBIF's,
# the taxon does not.
KEYS_BY_NAME = {}
for _row in MATCHED:
    KEYS_BY_NAME.setdefault(_row["gbif_species"], set()).add(_row["accepted_taxon_key"])
DUPLICATE_NAMES = {name for name, keys in KEYS_BY_NAME.items() if len(keys) > 1}


def reconcile_moths(matcher, rows) -> list[tuple[str | None, str | None]]:
    """Reconcile onto an empty target with --taxa=gbif: each name becomes GBIF's accepted taxon,
    created with its key. Returns (key, name) of the taxon each archived name maps to."""
    target = InMemoryTargetTaxonomy()
    target.add_chain(LEPIDOPTERA)
    result = Reconciler(target, Policy.GBIF, matcher).reconcile(archive_of(rows))
    planned = {spec.name: spec.gbif_key for spec in result.to_create}
    return [
        (planned.get(d.target.name), d.target.name) if d.target and d.method is not Method.HIGHER_RANK else (None, None)
        for d in result.decisions
    ]


def measure(label, rows, outcomes, record_accuracy) -> list[str]:
    """Record the figures; return the misses no duplicate name explains."""
    same_key = sum(1 for r, (key, _) in zip(rows, outcomes) if key == r["accepted_taxon_key"])
    duplicates = [
        f"{r['search_species']} -> {name} ({key}; GBIF: {r['accepted_taxon_key']})"
        for r, (key, name) in zip(rows, outcomes)
        if key != r["accepted_taxon_key"] and name == r["gbif_species"] and name in DUPLICATE_NAMES
    ]
    unexplained = [
        f"{r['search_species']}: expected {r['accepted_taxon_key']} {r['gbif_species']}, got {key} {name}"
        for r, (key, name) in zip(rows, outcomes)
        if key != r["accepted_taxon_key"] and not (name == r["gbif_species"] and name in DUPLICATE_NAMES)
    ]
    same_taxon = same_key + len(duplicates)
    record_accuracy(
        f"{label}: accepted key = GBIF's for {same_key}/{len(rows)} names ({100 * same_key / len(rows):.2f}%); "
        f"same accepted taxon for {same_taxon}/{len(rows)} ({100 * same_taxon / len(rows):.2f}%)"
    )
    if duplicates:
        record_accuracy(f"  {len(duplicates)} differ only by a Backbone duplicate key: " + "; ".join(duplicates))
    if unexplained:
        record_accuracy(f"  {len(unexplained)} wrong: " + "; ".join(unexplained))
    return unexplained


def test_http_matcher_accuracy(api_matcher, record_accuracy):
    outcomes = reconcile_moths(api_matcher("v1"), MATCHED)
    assert measure("GBIF API v1 (replayed)", MATCHED, outcomes, record_accuracy) == []


def test_local_checklist_accuracy(local_matcher, record_accuracy):
    outcomes = reconcile_moths(local_matcher, MATCHED)
    assert measure("local checklist", MATCHED, outcomes, record_accuracy) == []
    # The checklist is built from this oracle, so exact names and synonyms are in it by
    # construction. The spelling variants are not: only GBIF's accepted spelling is.
    variants = [
        (r, outcome)
        for r, outcome in zip(MATCHED, outcomes)
        if r["match_type"] == "FUZZY" and local_matcher.match(Query(r["search_species"])).match_type is MatchType.FUZZY
    ]
    right = sum(1 for r, (key, _) in variants if key == r["accepted_taxon_key"])
    record_accuracy(
        f"  of which spelling variants absent from the checklist, resolved by its fuzzy matching: "
        f"{right}/{len(variants)}"
    )
    assert right == len(variants) >= 25


def test_local_checklist_does_not_invent_species_for_names_gbif_does_not_know(local_matcher, record_accuracy):
    target = InMemoryTargetTaxonomy()
    target.add_chain(LEPIDOPTERA)
    result = Reconciler(target, Policy.GBIF, local_matcher).reconcile(archive_of(UNMATCHED))
    species_level = [d for d in result.decisions if d.method not in (Method.REFUSED, Method.HIGHER_RANK)]
    record_accuracy(
        f"local checklist on the {len(UNMATCHED)} names GBIF did not match: "
        f"{sum(d.method is Method.HIGHER_RANK for d in result.decisions)} placed at a higher rank, "
        f"{sum(d.method is Method.REFUSED for d in result.decisions)} refused, "
        f"{len(species_level)} mapped to a species"
        + (
            " (" + "; ".join(f"{d.archived.name} -> {d.target.name}" for d in species_level) + ")"
            if species_level
            else ""
        )
    )
    assert len(species_level) <= 3


@pytest.mark.parametrize("kind", ["FUZZY", "SYNONYM"])
def test_the_hard_cases_are_in_the_population(kind):
    """The accuracy covers spelling variants and synonyms, not only exact names."""
    count = sum(1 for r in MATCHED if r["match_type"] == kind or r["status"] == kind)
    assert count > 20
