"""Decode GBIF species-match responses into MatchResult.

v1 (`/v1/species/match`) is a flat object: usageKey, acceptedUsageKey (synonyms only),
scientificName, canonicalName, rank, status, confidence, matchType, synonym, note, and the
classification as kingdom..species with their ...Key fields. Unknown fields are absent, not null.
v2 (`/v2/species/match`) nests: usage, acceptedUsage (synonyms only), classification
[{key, name, rank}], diagnostics {matchType, confidence, note, matchedID}. Keys are strings.
"""

from __future__ import annotations

from ..ranks import UNKNOWN, normalize_rank
from .result import MatchResult, MatchType

# ChecklistBank's vocabulary (v2) on top of v1's; VARIANT is what v1 calls FUZZY.
_MATCH_TYPES = {
    "EXACT": MatchType.EXACT,
    "FUZZY": MatchType.FUZZY,
    "VARIANT": MatchType.FUZZY,
    "CANONICAL": MatchType.EXACT,
    "HIGHERRANK": MatchType.HIGHERRANK,
    "PARTIAL": MatchType.HIGHERRANK,
    "NONE": MatchType.NONE,
    "AMBIGUOUS": MatchType.NONE,
}
_V1_CLASSIFICATION = (
    ("KINGDOM", "kingdom", "kingdomKey"),
    ("PHYLUM", "phylum", "phylumKey"),
    ("CLASS", "class", "classKey"),
    ("ORDER", "order", "orderKey"),
    ("FAMILY", "family", "familyKey"),
    ("GENUS", "genus", "genusKey"),
    ("SUBGENUS", "subgenus", "subgenusKey"),
    ("SPECIES", "species", "speciesKey"),
)


def _key(value) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _authorship(scientific_name: str, canonical_name: str) -> str:
    if canonical_name and scientific_name.startswith(canonical_name):
        return scientific_name[len(canonical_name) :].strip()
    return ""


def _match_type(raw: str | None) -> MatchType:
    return _MATCH_TYPES.get((raw or "NONE").upper(), MatchType.NONE)


def decode_v1(body: dict, checklist_key: str, source: str = "") -> MatchResult:
    match_type = _match_type(body.get("matchType"))
    confidence = int(body.get("confidence") or 0)
    note = body.get("note") or ""
    if match_type is MatchType.NONE:
        return MatchResult.none(checklist_key, note=note, source=source, confidence=confidence)

    rank = normalize_rank(body.get("rank"))
    synonym = bool(body.get("synonym"))
    canonical = body.get("canonicalName") or ""
    scientific = body.get("scientificName") or canonical
    classification = []
    for entry_rank, name_field, key_field in _V1_CLASSIFICATION:
        if body.get(name_field):
            classification.append((entry_rank, body[name_field], _key(body.get(key_field))))
    accepted_key = _key(body.get("acceptedUsageKey")) if synonym else None
    accepted_name = ""
    if synonym:
        # v1 gives no accepted name: the classification is the accepted taxon's, so its entry at
        # the synonym's rank is the accepted name.
        at_rank = next((entry for entry in classification if entry[0] == rank), None)
        if at_rank:
            accepted_name = at_rank[1]
            accepted_key = accepted_key or at_rank[2]
    elif canonical and (not classification or classification[-1][1] != canonical):
        classification.append((rank, canonical, _key(body.get("usageKey"))))
    return MatchResult(
        match_type=match_type,
        checklist_key=checklist_key,
        key=_key(body.get("usageKey")),
        scientific_name=scientific,
        canonical_name=canonical,
        authorship=_authorship(scientific, canonical),
        rank=rank,
        status=(body.get("status") or "").upper(),
        synonym=synonym,
        accepted_key=accepted_key,
        accepted_name=accepted_name,
        confidence=confidence,
        classification=tuple(classification),
        note=note,
        source=source,
    )


def decode_v2(body: dict, checklist_key: str, source: str = "") -> MatchResult:
    diagnostics = body.get("diagnostics") or {}
    match_type = _match_type(diagnostics.get("matchType"))
    confidence = int(diagnostics.get("confidence") or 0)
    notes = [diagnostics.get("note") or ""]
    matched_id = diagnostics.get("matchedID") or {}
    if matched_id.get("id"):
        dataset = matched_id.get("datasetTitle") or matched_id.get("datasetKey") or ""
        notes.append(f"matched by identifier {matched_id.get('id')} ({dataset})".strip())
    note = "; ".join(n for n in notes if n)
    usage = body.get("usage") or {}
    if match_type is MatchType.NONE or not usage:
        return MatchResult.none(checklist_key, note=note, source=source, confidence=confidence)

    accepted = body.get("acceptedUsage") or {}
    synonym = bool(body.get("synonym")) or bool(accepted)
    canonical = usage.get("canonicalName") or usage.get("name") or ""
    classification = tuple(
        (normalize_rank(entry.get("rank")), entry.get("name") or "", _key(entry.get("key")))
        for entry in body.get("classification") or ()
    )
    return MatchResult(
        match_type=match_type,
        checklist_key=checklist_key,
        key=_key(usage.get("key")),
        scientific_name=usage.get("name") or canonical,
        canonical_name=canonical,
        authorship=usage.get("authorship") or _authorship(usage.get("name") or "", canonical),
        rank=normalize_rank(usage.get("rank")) if usage.get("rank") else UNKNOWN,
        status=(usage.get("status") or "").upper(),
        synonym=synonym,
        accepted_key=_key(accepted.get("key")) if synonym else None,
        accepted_name=(accepted.get("canonicalName") or accepted.get("name") or "") if synonym else "",
        accepted_authorship=(accepted.get("authorship") or "") if synonym else "",
        confidence=confidence,
        classification=classification,
        note=note,
        source=source,
    )
