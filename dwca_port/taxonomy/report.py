"""The reconciliation report: one row per archived taxon (what it became in the target, how that
was decided, the matcher's answer and confidence, the divergences found), as CSV or JSON, and a
short summary for people."""

from __future__ import annotations

import csv
import json
import os
from typing import IO

from .checklists import describe
from .decisions import Decision, Method, Reconciliation, Role

COLUMNS = (
    "archived_uuid",
    "archived_name",
    "archived_rank",
    "archived_gbif_key",
    "archived_checklist",
    "outcome",
    "method",
    "target_id",
    "target_name",
    "target_rank",
    "qualifier",
    "matcher",
    "match_type",
    "matched_name",
    "matched_key",
    "accepted_name",
    "accepted_key",
    "confidence",
    "divergences",
    "note",
)


def decision_row(decision: Decision) -> dict:
    archived, match, target = decision.archived, decision.match, decision.target
    keys = archived.keys()
    return {
        "archived_uuid": archived.uuid,
        "archived_name": archived.name,
        "archived_rank": archived.rank,
        "archived_gbif_key": keys[0][1] if keys else "",
        "archived_checklist": describe(keys[0][0]) if keys else "",
        "outcome": decision.outcome,
        "method": decision.method.value,
        "target_id": "" if target is None or target.id is None else str(target.id),
        "target_name": target.name if target else "",
        "target_rank": target.rank if target else "",
        "qualifier": decision.qualifier,
        "matcher": match.source if match else "",
        "match_type": match.match_type.value if match else "",
        "matched_name": match.canonical_name if match else "",
        "matched_key": (match.key or "") if match else "",
        "accepted_name": match.resolved_name if match and match.matched else "",
        "accepted_key": (match.resolved_key or "") if match and match.matched else "",
        "confidence": "" if decision.confidence is None else decision.confidence,
        "divergences": "; ".join(str(d) for d in decision.divergences),
        "note": decision.note,
    }


def write_csv(result: Reconciliation, destination: str | os.PathLike | IO[str]) -> None:
    if hasattr(destination, "write"):
        _write_csv(result, destination)
        return
    with open(destination, "w", newline="", encoding="utf-8") as handle:
        _write_csv(result, handle)


def _write_csv(result: Reconciliation, handle: IO[str]) -> None:
    writer = csv.DictWriter(handle, fieldnames=COLUMNS)
    writer.writeheader()
    for decision in result.decisions:
        writer.writerow(decision_row(decision))


def as_json(result: Reconciliation) -> dict:
    return {
        "policy": result.policy.value,
        "matcher": result.matcher,
        "events": result.events,
        "counts": result.counts(),
        "decisions": [
            {
                **decision_row(d),
                "divergences": [{"kind": v.kind, "detail": v.detail} for v in d.divergences],
                "match": d.match.as_dict() if d.match else None,
            }
            for d in result.decisions
        ],
        "to_create": [
            {
                "name": t.name,
                "rank": t.rank,
                "author": t.author,
                "gbif_key": t.gbif_key,
                "gbif_checklist_key": t.gbif_checklist_key,
                "gbif_taxon_key": t.gbif_taxon_key,
                "parent": t.parent.name if t.parent else None,
                "synonym_of": t.synonym_of.name if t.synonym_of else None,
                "search_names": list(t.search_names),
                "role": t.role.value,
                "source": t.source,
                "archived_uuid": t.archived_uuid or None,
            }
            for t in result.to_create
        ],
    }


def write_json(result: Reconciliation, destination: str | os.PathLike) -> None:
    with open(destination, "w", encoding="utf-8") as handle:
        json.dump(as_json(result), handle, ensure_ascii=False, indent=2)


_LABELS = (
    (Method.KEY, "by key"),
    (Method.NAME, "by name"),
    (Method.SYNONYM, "as synonyms"),
    (Method.FUZZY, "as spelling variants"),
    (Method.HIGHER_RANK, "to a higher taxon"),
    (Method.CREATED, "created"),
    (Method.REFUSED, "refused"),
)


_ROLES = (
    (Role.ARCHIVED, "archived taxa"),
    (Role.ACCEPTED, "accepted taxa from the matcher"),
    (Role.SYNONYM, "archived names kept as synonyms"),
    (Role.PARENT, "higher taxa of parent chains"),
)


def summary(result: Reconciliation) -> str:
    counts = result.counts()
    parts = [f"{counts[m.value]:,} {label}" for m, label in _LABELS if counts[m.value]]
    lines = [
        f"{len(result.decisions):,} archived taxa (--taxa={result.policy.value}): "
        + (", ".join(parts) or "nothing to do")
        + "."
    ]
    landed = [d for d in result.decisions if d.outcome == "created" and d.method is not Method.CREATED]
    if landed:
        lines.append(
            f"{len(landed):,} archived taxa land on accepted taxa created from the matcher's answer, with its "
            "key (synonyms, spelling variants, placements): see the report."
        )
    if counts["taxa_to_create"]:
        kinds = [
            f"{counts['to_create_' + role.value]:,} {label}"
            for role, label in _ROLES
            if counts["to_create_" + role.value]
        ]
        lines.append(f"{counts['taxa_to_create']:,} taxa to create: {', '.join(kinds)}.")
    if counts["divergent"]:
        lines.append(
            f"{counts['divergent']:,} taxa differ between the archive and the target (rank, parent, key or "
            "authorship): see the report."
        )
    if result.matcher:
        lines.append(f"Matcher: {result.matcher}.")
    lines += [f"Note: {event}" for event in result.events]
    for decision in result.refused[:10]:
        lines.append(f"  refused {decision.archived.name}: {decision.note}")
    if len(result.refused) > 10:
        lines.append(f"  ... {len(result.refused) - 10} more refused (see the report)")
    return "\n".join(lines)
