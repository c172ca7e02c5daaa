"""Taxonomic ranks: their order (GBIF and Catalogue of Life vocabulary) and how they map onto
Antenna's `TaxonRank` choices. Kept free of Django so matchers run without settings."""

from __future__ import annotations

import functools

# Top to bottom. COL XR uses many intermediate ranks (DOMAIN, SUBPHYLUM, MEGACLASS...), so code
# must never assume the seven Linnaean ones.
RANK_ORDER: tuple[str, ...] = (
    "DOMAIN",
    "SUPERKINGDOM",
    "KINGDOM",
    "SUBKINGDOM",
    "INFRAKINGDOM",
    "SUPERPHYLUM",
    "PHYLUM",
    "SUBPHYLUM",
    "INFRAPHYLUM",
    "PARVPHYLUM",
    "MEGACLASS",
    "GIGACLASS",
    "SUPERCLASS",
    "CLASS",
    "SUBCLASS",
    "INFRACLASS",
    "SUBTERCLASS",
    "SUPERORDER",
    "ORDER",
    "SUBORDER",
    "INFRAORDER",
    "PARVORDER",
    "SUPERFAMILY",
    "EPIFAMILY",
    "FAMILY",
    "SUBFAMILY",
    "INFRAFAMILY",
    "SUPERTRIBE",
    "TRIBE",
    "SUBTRIBE",
    "INFRATRIBE",
    "GENUS",
    "SUBGENUS",
    "INFRAGENUS",
    "SECTION",
    "SUBSECTION",
    "SERIES",
    "SUBSERIES",
    "SPECIES_AGGREGATE",
    "SPECIES",
    "SUBSPECIES",
    "INFRASPECIFIC_NAME",
    "VARIETY",
    "SUBVARIETY",
    "FORM",
    "SUBFORM",
)
_POSITION = {rank: index for index, rank in enumerate(RANK_ORDER)}

# Antenna's TaxonRank values (ami.main.models.TaxonRank); a test keeps the two in step.
ANTENNA_RANKS: tuple[str, ...] = (
    "KINGDOM",
    "PHYLUM",
    "CLASS",
    "ORDER",
    "SUPERFAMILY",
    "FAMILY",
    "SUBFAMILY",
    "TRIBE",
    "SUBTRIBE",
    "GENUS",
    "SPECIES",
    "UNKNOWN",
)
UNKNOWN = "UNKNOWN"

# A disagreement at these ranks means two different taxa that share a name (a homonym);
# below them it is the same taxon placed differently.
MAJOR_RANKS: tuple[str, ...] = ("KINGDOM", "PHYLUM", "CLASS", "ORDER")
# The classification hints sent to matchers (the genus is already in a binomial).
HINT_RANKS: tuple[str, ...] = ("KINGDOM", "PHYLUM", "CLASS", "ORDER", "FAMILY")

_ALIASES = {
    "SUBSP": "SUBSPECIES",
    "SSP": "SUBSPECIES",
    "VAR": "VARIETY",
    "F": "FORM",
    "FORMA": "FORM",
    "SP": "SPECIES",
    "GEN": "GENUS",
    "FAM": "FAMILY",
    "SUBFAM": "SUBFAMILY",
    "ORD": "ORDER",
    "AGGREGATE": "SPECIES_AGGREGATE",
    "INFRASPECIFIC": "INFRASPECIFIC_NAME",
}


@functools.lru_cache(maxsize=1024)
def normalize_rank(value: str | None) -> str:
    """'species', 'Species', 'subsp.' -> 'SPECIES', 'SUBSPECIES'; empty or unknown -> 'UNKNOWN'."""
    if not value:
        return UNKNOWN
    rank = str(value).strip().upper().rstrip(".").replace(" ", "_").replace("-", "_")
    rank = _ALIASES.get(rank, rank)
    return rank if rank in _POSITION else UNKNOWN


def rank_position(rank: str) -> int:
    """Sort position, top first; unknown ranks sort last."""
    return _POSITION.get(rank, len(RANK_ORDER))


def to_antenna_rank(rank: str) -> str:
    rank = normalize_rank(rank)
    return rank if rank in ANTENNA_RANKS else UNKNOWN


def is_known(rank: str) -> bool:
    return bool(rank) and rank != UNKNOWN


def ranks_agree(first: str, second: str) -> bool:
    """Equal, or one side does not say."""
    return not is_known(first) or not is_known(second) or first == second


def is_species_or_below(rank: str) -> bool:
    return is_known(rank) and rank_position(rank) >= _POSITION["SPECIES_AGGREGATE"]
