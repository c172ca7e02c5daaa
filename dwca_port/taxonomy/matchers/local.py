"""Offline matching against a local checklist index.

In order: the archive's own key when it belongs to this checklist; the exact canonical name
(homonyms told apart by the classification hints and the authorship); spelling variants within
the genus (gender endings, doubled letters, one or two edits) and a misspelt genus with the same
epithet; then, unless strict, the genus or a higher taxon from the hints. Synonyms are followed
to the accepted name.
"""

from __future__ import annotations

import os

from ..checklists import describe
from ..names import authorship_agrees, fold, name_key
from ..ranks import MAJOR_RANKS, ranks_agree
from .base import Matcher
from .fuzzy import allowed_distance, edit_distance, epithets_stem
from .local_index import ChecklistIndex, Usage
from .result import MatchResult, MatchType, Query

_HIGHER_FALLBACK = (("FAMILY", 90), ("ORDER", 80), ("CLASS", 75), ("PHYLUM", 70), ("KINGDOM", 60))


class LocalChecklistMatcher(Matcher):
    def __init__(
        self,
        checklist: ChecklistIndex | str | os.PathLike,
        *,
        strict: bool = False,
        fuzzy: bool = True,
        checklist_key: str | None = None,
        progress=None,
    ):
        self.index = (
            checklist
            if isinstance(checklist, ChecklistIndex)
            else ChecklistIndex.for_source(checklist, checklist_key=checklist_key, progress=progress)
        )
        self.checklist_key = self.index.checklist_key
        self.strict = strict
        self.fuzzy = fuzzy
        self.description = f"local checklist {self.index.title} ({describe(self.checklist_key)})"
        self._ranks: dict[str, dict[str, str]] = {}  # usage id -> {rank: name} of its accepted classification

    def close(self) -> None:
        self.index.close()

    # --- the steps --------------------------------------------------------------------------

    def match_one(self, query: Query) -> MatchResult:
        if not query.name:
            return MatchResult.none(self.checklist_key, note="no name to match", source=self.description)
        by_identifier = self._by_identifier(query)
        candidates = [
            u
            for u in self.index.by_name(name_key(query.name))
            if ranks_agree(query.rank, u.rank) and not self._conflicts(query, u)
        ]
        if candidates:
            return self._exact(query, candidates, by_identifier)
        if by_identifier and self._same_epithet(query, by_identifier):
            return self._result(
                query,
                by_identifier,
                MatchType.EXACT,
                90,
                f"matched by the archive's key {by_identifier.id}; the checklist spells it {by_identifier.canonical}",
            )
        if self.fuzzy:
            variant = self._variant(query)
            if variant:
                return variant
        if not self.strict:
            higher = self._higher_rank(query)
            if higher:
                return higher
        return MatchResult.none(self.checklist_key, note="no match", source=self.description)

    def _exact(self, query: Query, candidates: list[Usage], by_identifier: Usage | None) -> MatchResult:
        if by_identifier and any(u.id == by_identifier.id for u in candidates):
            return self._result(query, by_identifier, MatchType.EXACT, 99, "matched by name and the archive's key")
        ranked = sorted(candidates, key=lambda u: self._score(query, u), reverse=True)
        best = ranked[0]
        rivals = [
            u
            for u in ranked[1:]
            if self._score(query, u) == self._score(query, best)
            and self.index.accepted(u).id != self.index.accepted(best).id
        ]
        duplicates = ""
        if rivals and all(self._placement(u) == self._placement(best) for u in rivals):
            # The same name twice under the same parents: a duplicate in the checklist (the 2023
            # Backbone has some), not a homonym. Either usage names the same taxon; take the
            # oldest (lowest) key, as GBIF's own matcher does in the moth fixture.
            best = min([best, *rivals], key=lambda u: (not u.id.isdigit(), int(u.id) if u.id.isdigit() else 0, u.id))
            duplicates = f"{len(rivals) + 1} usages of this name under the same parents (duplicates); took {best.id}"
            rivals = []
        if rivals:
            kingdoms = sorted({self._rank_name(u, "KINGDOM") or "?" for u in [best, *rivals]})
            return MatchResult.none(
                self.checklist_key,
                source=self.description,
                note=f"Multiple equal matches for {query.name} ({', '.join(kingdoms)}): "
                "give the kingdom, family or authorship",
            )
        agrees = authorship_agrees(query.authorship, best.authorship)
        confidence = 99 if agrees is not False else 92
        if best.status == "DOUBTFUL":
            confidence -= 1
        if len({self.index.accepted(u).id for u in candidates}) > 1:
            confidence -= 3  # a homonym or a pro parte name, decided by the hints and the authorship
        note = "; ".join(filter(None, ["authorship differs" if agrees is False else "", duplicates]))
        if by_identifier:
            note = "; ".join(
                filter(
                    None, [note, f"the archive's key {by_identifier.id} is {by_identifier.canonical} in this checklist"]
                )
            )
        return self._result(query, best, MatchType.EXACT, confidence, note)

    def _variant(self, query: Query) -> MatchResult | None:
        words = query.name.split(" ")
        if len(words) < 2 or not words[0][:1].isupper():
            return None
        genus_key, epithets = name_key(words[0]), words[1:]
        stem = epithets_stem(epithets)
        wanted = fold(" ".join(epithets))

        # Gender endings, hyphens, doubled letters: same stem in the same genus.
        same_stem = self.index.by_genus_stem(genus_key, stem)
        found = self._closest(query, [(edit_distance(wanted, fold(_epithets(u.canonical)), 6), u) for u in same_stem])
        if found:
            return self._result(query, found, MatchType.FUZZY, 97, f"spelling variant of {found.canonical}")

        # One or two letters off within the genus.
        limit = allowed_distance(wanted)
        if limit:
            found = self._closest(
                query,
                self._within(
                    self.index.names_in_genus(genus_key),
                    limit,
                    len(words),
                    lambda canonical: fold(_epithets(canonical)),
                    wanted,
                ),
            )
            if found:
                distance = edit_distance(wanted, fold(_epithets(found.canonical)), limit)
                return self._result(
                    query,
                    found,
                    MatchType.FUZZY,
                    95 if distance == 1 else 90,
                    f"{distance} letter(s) from {found.canonical}",
                )

        # A misspelt genus with the same epithet.
        genus_limit = allowed_distance(words[0])
        if genus_limit:
            found = self._closest(
                query,
                self._within(
                    self.index.names_with_stem(stem),
                    genus_limit,
                    len(words),
                    lambda canonical: fold(canonical.split(" ")[0]),
                    fold(words[0]),
                ),
            )
            if found:
                return self._result(query, found, MatchType.FUZZY, 88, f"genus spelt {found.canonical.split(' ')[0]}")
        return None

    def _within(self, names, limit: int, word_count: int, part, wanted: str) -> list[tuple[int, Usage]]:
        """(distance, usage) of the (id, canonical) names whose `part` is within `limit` edits."""
        close = []
        for usage_id, canonical in names:
            if canonical.count(" ") + 1 != word_count:
                continue
            candidate = part(canonical)
            if abs(len(candidate) - len(wanted)) > limit:
                continue
            distance = edit_distance(wanted, candidate, limit)
            if distance <= limit:
                close.append((distance, self.index.usage(usage_id)))
        return close

    def _closest(self, query: Query, scored: list[tuple[int, Usage]]) -> Usage | None:
        """The usage at the smallest distance, if it is the only one there (by accepted taxon);
        usages whose classification contradicts the hints are out."""
        scored = [(d, u) for d, u in scored if u is not None and not self._conflicts(query, u)]
        if not scored:
            return None
        best_distance = min(d for d, _ in scored)
        best = [u for d, u in scored if d == best_distance]
        if len({self.index.accepted(u).id for u in best}) > 1:
            best.sort(key=lambda u: self._score(query, u), reverse=True)
            if self._score(query, best[0]) == self._score(query, best[1]):
                return None  # two different taxa equally close: do not guess
        return max(best, key=lambda u: self._score(query, u))

    def _higher_rank(self, query: Query) -> MatchResult | None:
        words = query.name.split(" ")
        steps = []
        if len(words) >= 2:
            steps.append(("GENUS", words[0], 94))
        steps += [(rank, query.hint(rank), confidence) for rank, confidence in _HIGHER_FALLBACK]
        for rank, name, confidence in steps:
            if not name:
                continue
            usages = [
                u
                for u in self.index.by_name(name_key(name))
                if ranks_agree(rank, u.rank) and not self._conflicts(query, u)
            ]
            if usages:
                best = max(usages, key=lambda u: self._score(query, u))
                return self._result(
                    query,
                    best,
                    MatchType.HIGHERRANK,
                    confidence,
                    f"{query.name} is not in the checklist; matched the {rank.lower()} {best.canonical}",
                )
        return None

    # --- helpers ----------------------------------------------------------------------------

    def _by_identifier(self, query: Query) -> Usage | None:
        if query.identifier and query.identifier[0] == self.checklist_key:
            usage = self.index.usage(query.identifier[1])
            if usage and ranks_agree(query.rank, usage.rank):
                return usage
        return None

    @staticmethod
    def _same_epithet(query: Query, usage: Usage) -> bool:
        """The same species moved to another genus keeps its epithet (stem)."""
        query_words, usage_words = query.name.split(" "), usage.canonical.split(" ")
        if len(query_words) != len(usage_words):
            return False
        if len(query_words) == 1:
            return name_key(query.name) == name_key(usage.canonical)
        return epithets_stem(query_words[1:]) == epithets_stem(usage_words[1:])

    def _placement(self, usage: Usage) -> tuple[str, ...]:
        """The names above the accepted usage."""
        return tuple(name_key(name) for _, name, _ in self.index.classification(self.index.accepted(usage))[:-1])

    def _rank_name(self, usage: Usage, rank: str) -> str:
        ranks = self._ranks.get(usage.id)
        if ranks is None:
            accepted = self.index.accepted(usage)
            ranks = self._ranks[usage.id] = {r: name for r, name, _ in self.index.classification(accepted)}
        return ranks.get(rank, "")

    def _conflicts(self, query: Query, usage: Usage) -> bool:
        """A hint at kingdom..order that the usage contradicts: a homonym, not this taxon."""
        for rank in MAJOR_RANKS:
            hint = query.hint(rank)
            if hint:
                found = self._rank_name(usage, rank)
                if found and name_key(found) != name_key(hint):
                    return True
        return False

    def _score(self, query: Query, usage: Usage) -> float:
        score = 0.0
        for rank, hint in query.hints:
            found = self._rank_name(usage, rank)
            if hint and found:
                score += (2 if rank in MAJOR_RANKS else 1) * (1 if name_key(found) == name_key(hint) else -1)
        agrees = authorship_agrees(query.authorship, usage.authorship)
        score += {True: 2, False: -2, None: 0}[agrees]
        score += {"ACCEPTED": 0.5, "DOUBTFUL": 0.25}.get(usage.status, 0)
        return score

    def _result(self, query: Query, usage: Usage, match_type: MatchType, confidence: int, note: str) -> MatchResult:
        accepted = self.index.accepted(usage) if usage.is_synonym else usage
        synonym = usage.is_synonym
        if synonym and accepted.id == usage.id:
            note = "; ".join(filter(None, [note, "synonym whose accepted name is not in the checklist"]))
        return MatchResult(
            match_type=match_type,
            checklist_key=self.checklist_key,
            key=usage.id,
            scientific_name=usage.scientific_name,
            canonical_name=usage.canonical,
            authorship=usage.authorship,
            rank=usage.rank,
            status=usage.status,
            synonym=synonym,
            accepted_key=accepted.id if synonym and accepted.id != usage.id else None,
            accepted_name=accepted.canonical if synonym and accepted.id != usage.id else "",
            accepted_authorship=accepted.authorship if synonym and accepted.id != usage.id else "",
            confidence=confidence,
            classification=self.index.classification(accepted),
            note=note,
            source=self.description,
        )


def _epithets(canonical: str) -> str:
    return canonical.split(" ", 1)[1] if " " in canonical else ""
