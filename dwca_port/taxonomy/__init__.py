"""Taxonomy reconciliation: map archived taxa onto a target instance's taxonomy.

Layout:
- `names`: parse names (gbif-name-parser plus hybrids, cf./aff., sp., complexes, ...);
- `matchers/`: "which taxon is this name?" -- the GBIF species-match API or a local checklist index;
- `target`, `django_target`: the instance's own taxa, in memory or from main.Taxon;
- `decisions`: the data a reconciliation produces; `reconcile`: steps 1-3 (key, name, matcher);
  `creation_plan`: step 4 (create with parent chains, or refuse, per policy);
- `create`: write the missing taxa; `report`: CSV, JSON and a summary of the decisions.

The importer's path (docs/taxonomy.md):

    matcher = build_matcher("backbone", gbif_url=None, fallback=None)      # or None
    result = Reconciler(DjangoTargetTaxonomy(), Policy.MATCH, matcher).reconcile(archived_taxa)
    result.raise_if_refused()                                             # TaxaRefused lists them
    taxa_by_name = create_missing_taxa(result)                           # inside the import's transaction
"""

from .checklists import BACKBONE, COL_XR
from .decisions import ArchivedTaxon, Decision, Divergence, Method, NewTaxon, Policy, Reconciliation, Role, TaxonRef
from .errors import (
    ChecklistIndexError,
    MatcherUnavailable,
    NameParserUnavailable,
    PolicyError,
    StaleReconciliation,
    TaxaRefused,
    TaxonomyError,
)
from .matchers import (
    FallbackMatcher,
    GbifApiMatcher,
    LocalChecklistMatcher,
    MatchResult,
    MatchType,
    Query,
    build_matcher,
)
from .names import ParsedName, parse_name
from .reconcile import Reconciler
from .target import InMemoryTargetTaxonomy, TargetTaxon, TargetTaxonomy

__all__ = [
    "ArchivedTaxon",
    "BACKBONE",
    "COL_XR",
    "ChecklistIndexError",
    "Decision",
    "Divergence",
    "FallbackMatcher",
    "GbifApiMatcher",
    "InMemoryTargetTaxonomy",
    "LocalChecklistMatcher",
    "MatchResult",
    "MatchType",
    "MatcherUnavailable",
    "Method",
    "NameParserUnavailable",
    "NewTaxon",
    "ParsedName",
    "Policy",
    "PolicyError",
    "Query",
    "Reconciler",
    "Reconciliation",
    "Role",
    "StaleReconciliation",
    "TargetTaxon",
    "TargetTaxonomy",
    "TaxaRefused",
    "TaxonRef",
    "TaxonomyError",
    "build_matcher",
    "create_missing_taxa",
    "DjangoTargetTaxonomy",
    "parse_name",
]


def __getattr__(name):
    # The Django-bound parts load lazily, so matchers and the engine run without settings.
    if name == "create_missing_taxa":
        from .create import create_missing_taxa

        return create_missing_taxa
    if name == "DjangoTargetTaxonomy":
        from .django_target import DjangoTargetTaxonomy

        return DjangoTargetTaxonomy
    raise AttributeError(name)
