"""Map every archived taxon onto the target instance's taxonomy, or say why it cannot be.

For each archived taxon, in order:
1. key: the same key of the same checklist on a target taxon of a compatible rank;
2. name: the same canonical name (authorship aside) with a consistent rank and higher taxa
   (a different kingdom..order means a homonym, never a match); failing that, the accepted
   name the archive itself gives (`synonym_of`);
3. matcher (policies match, gbif, strict, when one is configured): the name's accepted taxon
   in the checklist (synonyms followed, spelling variants allowed above a confidence), mapped
   onto the target by key or by name;
4. per policy: create it with its parent chain (match, create), create GBIF's accepted taxon
   with GBIF's classification or map to the higher taxon GBIF knows (gbif), or refuse (strict,
   and whatever no policy can place, such as a homonym holding the name).

The engine only decides: it returns a Reconciliation (decisions plus the taxa to create,
parents first) and writes nothing. `create.create_missing_taxa` applies it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .checklists import describe
from .creation_plan import CreationPlanner, target_ref
from .decisions import ArchivedTaxon, Decision, Divergence, Method, NewTaxon, Policy, Reconciliation, TaxonRef
from .errors import PolicyError
from .matchers.base import Matcher
from .matchers.fallback import FallbackMatcher
from .matchers.result import MatchResult, MatchType, Query
from .names import NameKind, ParsedName, authorship_agrees, name_key, normalize_spaces, parse_name, parse_names
from .ranks import HINT_RANKS, MAJOR_RANKS, is_known, ranks_agree
from .target import TargetTaxon, TargetTaxonomy

# The decision types live in `decisions`; they are part of this module's API too.
__all__ = [
    "ArchivedTaxon",
    "Decision",
    "Divergence",
    "Method",
    "NewTaxon",
    "Policy",
    "Reconciler",
    "Reconciliation",
    "TaxonRef",
]


class Reconciler:
    def __init__(
        self,
        target: TargetTaxonomy,
        policy: Policy | str = Policy.MATCH,
        matcher: Matcher | None = None,
        *,
        fallback: Matcher | None = None,
        min_fuzzy_confidence: int = 90,
        progress: Callable[[str], None] | None = None,
    ):
        self.target = target
        self.policy = Policy(policy)
        if self.policy is Policy.GBIF and matcher is None:
            raise PolicyError("--taxa=gbif needs a matcher: give --checklist backbone|col-xr|PATH or --gbif-url URL")
        if fallback is not None and matcher is not None:
            matcher = FallbackMatcher(matcher, fallback)
        self.matcher = matcher if self.policy is not Policy.CREATE else None
        self.min_fuzzy_confidence = min_fuzzy_confidence
        self.say = progress or (lambda message: None)

    # --- the run ----------------------------------------------------------------------------

    def reconcile(self, archived: Iterable[ArchivedTaxon]) -> Reconciliation:
        taxa = list(archived)
        names = list(dict.fromkeys([t.name for t in taxa] + [t.synonym_of for t in taxa if t.synonym_of]))
        parsed = dict(zip(names, parse_names(names)))
        self._parsed = parsed
        self.say(
            f"reconciling {len(taxa)} archived taxa ({len(parsed)} distinct names) with policy {self.policy.value}"
        )
        self.target.prefetch(self._archive_names(taxa), {key for t in taxa for key in t.keys()})

        decisions: dict[int, Decision] = {}
        blockers: dict[int, TargetTaxon] = {}
        for position, taxon in enumerate(taxa):
            decision, blocker = self._from_target(taxon, parsed[taxon.name])
            if decision:
                decisions[position] = decision
            if blocker:
                blockers[position] = blocker

        results: dict[int, MatchResult] = {}
        pending = [p for p in range(len(taxa)) if p not in decisions]
        if self.matcher is not None and pending:
            results = self._ask_matcher({p: taxa[p] for p in pending})
            names, keys = self._result_lookups(results.values())
            parse_names(names)  # one batch call warms the cache for the lookups below
            self.target.prefetch(names, keys)
            for position, result in results.items():
                decision = self._from_match(taxa[position], parsed[taxa[position].name], result)
                if decision:
                    decisions[position] = decision

        planner = CreationPlanner(self, decisions, taxa)
        # Parents first; at each depth, the names the matcher sends elsewhere (synonyms, variants)
        # last, so an accepted name the archive holds too is created from the archive.
        undecided = sorted(
            (p for p in range(len(taxa)) if p not in decisions),
            key=lambda p: (len(taxa[p].parents), self.lands_elsewhere(parsed[taxa[p].name], results.get(p))),
        )
        for position in undecided:
            decisions[position] = planner.decide(
                taxa[position], parsed[taxa[position].name], results.get(position), blockers.get(position)
            )
        for position, decision in decisions.items():
            if position in results and decision.match is None:
                decision.match = results[position]
        planner.link_synonyms()
        events = list(getattr(self.matcher, "events", []))
        return Reconciliation(
            self.policy,
            [decisions[p] for p in range(len(taxa))],
            planner.to_create,
            matcher=getattr(self.matcher, "description", ""),
            events=events,
        )

    # --- steps 1 and 2: the target's own taxa ---------------------------------------------------

    def _from_target(self, taxon: ArchivedTaxon, parsed: ParsedName) -> tuple[Decision | None, TargetTaxon | None]:
        rank = self.rank_of(taxon, parsed)
        for checklist, key in taxon.keys():
            candidates = [c for c in self.target.by_key(checklist, key) if self._same_kind(rank, parsed, c)]
            candidates.sort(
                key=lambda c: (
                    name_key(c.name) != name_key(taxon.name),
                    parse_name(c.name).key != parsed.key,
                    c.synonym_of_id is not None,
                )
            )
            for candidate in candidates:
                compatible, divergences = self.compare(taxon, parsed, candidate)
                if compatible:
                    note = f"same key {key} ({describe(checklist)})"
                    if parse_name(candidate.name).key != parsed.key:
                        divergences.append(
                            Divergence(
                                "name", f"the key names {candidate.name} in the target, {taxon.name} in the archive"
                            )
                        )
                    return self._on_target(taxon, parsed, Method.KEY, candidate, divergences, note), None

        blocker = None
        for candidate in self._by_name_preferring_exact(taxon.name, parsed):
            compatible, divergences = self.compare(taxon, parsed, candidate)
            if compatible:
                divergences += self._key_divergences(taxon, candidate)
                return self._on_target(taxon, parsed, Method.NAME, candidate, divergences, "same canonical name"), None
            blocker = blocker or candidate

        if taxon.synonym_of:
            accepted = parse_name(taxon.synonym_of)
            for candidate in self._by_name_preferring_exact(taxon.synonym_of, accepted):
                compatible, divergences = self.compare(taxon, accepted, candidate, check_rank=False)
                if compatible:
                    return Decision(
                        taxon,
                        parsed,
                        Method.SYNONYM,
                        target_ref(candidate),
                        divergences=divergences,
                        note=f"the archive lists it as a synonym of {taxon.synonym_of}",
                    ), blocker
        return None, blocker

    def _on_target(
        self,
        taxon: ArchivedTaxon,
        parsed: ParsedName,
        method: Method,
        candidate: TargetTaxon,
        divergences: list[Divergence],
        note: str,
    ) -> Decision:
        """The decision for a target taxon found by key or name. A name the target keeps as a
        synonym lands on its accepted taxon, unless the archive calls it a synonym itself: then
        its rows stay on the synonym, as the source instance had them."""
        accepted = self.accepted_here(candidate)
        if accepted is not candidate and not taxon.synonym_of:
            method, note = Method.SYNONYM, f"{note}; a synonym of {accepted.name} in the target"
        else:
            accepted = candidate
        return Decision(taxon, parsed, method, target_ref(accepted), divergences=divergences, note=note)

    def accepted_here(self, candidate: TargetTaxon) -> TargetTaxon:
        """The target's accepted taxon for `candidate` (its synonym_of links followed)."""
        seen = {candidate.id}
        while candidate.synonym_of_id is not None and candidate.synonym_of_id not in seen:
            accepted = self.target.get(candidate.synonym_of_id)
            if accepted is None:
                break
            seen.add(accepted.id)
            candidate = accepted
        return candidate

    def _by_name_preferring_exact(self, name: str, parsed: ParsedName) -> list[TargetTaxon]:
        if not parsed.taxon_name:
            return []
        found = self.target.by_name(parsed.taxon_name)
        return sorted(found, key=lambda c: normalize_spaces(c.name) != normalize_spaces(name))

    # --- step 3: the matcher -------------------------------------------------------------------

    def query_for(self, taxon: ArchivedTaxon, parsed: ParsedName) -> Query | None:
        if not parsed.match_name:
            return None
        placement_only = parsed.match_is_placement_only or parsed.kind is NameKind.HIGHER
        rank = parsed.match_rank if placement_only else self.rank_of(taxon, parsed)
        hints = tuple((r, n) for r, n in taxon.parents if r in HINT_RANKS)
        identifier = None if placement_only else next(iter(taxon.keys()), None)
        authorship = "" if placement_only else (taxon.author or parsed.authorship)
        return Query(parsed.match_name, authorship, rank, hints, identifier)

    def _ask_matcher(self, taxa: dict[int, ArchivedTaxon]) -> dict[int, MatchResult]:
        queries = {p: self.query_for(t, self._parsed[t.name]) for p, t in taxa.items()}
        distinct = list(dict.fromkeys(q for q in queries.values() if q is not None))
        self.say(f"asking {self.matcher.description} about {len(distinct)} distinct names")
        answers = self.matcher.match_many(distinct, progress=self.say)  # MatcherUnavailable propagates: nothing written
        return {p: answers[q] for p, q in queries.items() if q is not None}

    def names_this_taxon(self, parsed: ParsedName, result: MatchResult | None) -> bool:
        """Whether the matcher's answer says which taxon the archived name means (exact, a
        synonym with its accepted name, a variant above the confidence threshold), rather than
        only where to place it or nothing."""
        if (
            result is None
            or not result.matched
            or result.match_type is MatchType.HIGHERRANK
            or parsed.match_is_placement_only
            or parsed.kind is NameKind.HIGHER
            and name_key(result.canonical_name) != parsed.key
        ):
            return False
        if result.match_type is MatchType.FUZZY and result.confidence < self.min_fuzzy_confidence:
            return False
        return not (result.synonym and not result.accepted_key and not result.accepted_name)

    def lands_elsewhere(self, parsed: ParsedName, result: MatchResult | None) -> bool:
        """The answer sends the archived name to another accepted name (a synonym, a variant)."""
        return (
            self.names_this_taxon(parsed, result)
            and (result.synonym or result.match_type is MatchType.FUZZY)
            and name_key(result.resolved_name) != parsed.key
        )

    def _from_match(self, taxon: ArchivedTaxon, parsed: ParsedName, result: MatchResult) -> Decision | None:
        if not self.names_this_taxon(parsed, result):
            return None
        found = self.target_for_result(taxon, result)
        if not found:
            return None
        candidate, how, divergences = found
        method = Method.SYNONYM if result.synonym else Method.FUZZY if result.match_type is MatchType.FUZZY else how
        note = f"{result.match_type.value.lower()} match by {result.source}"
        if result.synonym:
            note += f": synonym of {result.resolved_name}"
        return Decision(taxon, parsed, method, target_ref(candidate), match=result, divergences=divergences, note=note)

    def target_for_result(
        self, taxon: ArchivedTaxon, result: MatchResult
    ) -> tuple[TargetTaxon, Method, list[Divergence]] | None:
        """The target's taxon for the matcher's accepted taxon: by its key, else by its name."""
        accepted = parse_name(result.resolved_name)
        for key in dict.fromkeys(k for k in (result.resolved_key, result.key) if k):
            # Antenna's list gives a synonym its accepted taxon's key: the accepted one first.
            for candidate in sorted(
                self.target.by_key(result.checklist_key, key), key=lambda c: c.synonym_of_id is not None
            ):
                if ranks_agree(result.rank, candidate.rank):
                    compatible, divergences = self.compare(taxon, accepted, candidate, check_rank=False)
                    if compatible:
                        return self.accepted_here(candidate), Method.KEY, divergences
        for candidate in self.target.by_name(result.resolved_name):
            compatible, divergences = self.compare(taxon, accepted, candidate, check_rank=False)
            if compatible and ranks_agree(result.rank, candidate.rank):
                return self.accepted_here(candidate), Method.NAME, divergences
        return None

    def _result_lookups(self, results: Iterable[MatchResult]) -> tuple[set[str], set[tuple[str, str]]]:
        names, keys = set(), set()
        for result in results:
            if not result.matched:
                continue
            names.update(n for n in (result.resolved_name, result.canonical_name) if n)
            keys.update((result.checklist_key, k) for k in (result.key, result.resolved_key) if k)
            for _, name, key in result.classification:
                names.add(name)
                if key:
                    keys.add((result.checklist_key, key))
        return names, keys

    # --- comparisons ---------------------------------------------------------------------------

    def rank_of(self, taxon: ArchivedTaxon, parsed: ParsedName) -> str:
        if parsed.kind is NameKind.HIGHER:
            return taxon.rank if is_known(taxon.rank) and taxon.rank != "SPECIES" else parsed.rank
        return taxon.rank if is_known(taxon.rank) else parsed.rank

    @staticmethod
    def _same_kind(rank: str, parsed: ParsedName, candidate: TargetTaxon) -> bool:
        """A key shared by a species and its genus (Antenna's import gave new higher taxa the
        key of the species row that created them) must not map one onto the other."""
        if not ranks_agree(rank, candidate.rank):
            return False
        if parsed.kind in (NameKind.UNPARSED, NameKind.HYBRID, NameKind.CONCEPT):
            return True
        ours = len(parsed.taxon_name.split(" "))
        theirs = len(parse_name(candidate.name).taxon_name.split(" "))
        return (ours == 1) == (theirs == 1)

    def compare(
        self, taxon: ArchivedTaxon, parsed: ParsedName, candidate: TargetTaxon, check_rank: bool = True
    ) -> tuple[bool, list[Divergence]]:
        """(compatible, divergences) of an archived taxon and a target taxon of the same name."""
        divergences = []
        rank = self.rank_of(taxon, parsed)
        if check_rank and is_known(rank) and is_known(candidate.rank) and rank != candidate.rank:
            divergences.append(
                Divergence("rank", f"{rank.lower()} in the archive, {candidate.rank.lower()} in the target")
            )
        ours = dict(taxon.parents)
        theirs_chain = self.target.parent_chain(candidate)
        theirs = dict(theirs_chain)
        for major in MAJOR_RANKS:
            if ours.get(major) and theirs.get(major) and name_key(ours[major]) != name_key(theirs[major]):
                return False, [
                    Divergence(
                        "homonym",
                        f"{candidate.name} is in {major.lower()} {theirs[major]} in the target, "
                        f"{ours[major]} in the archive",
                    )
                ]
        differing = [
            r
            for r in ours
            if r not in MAJOR_RANKS
            and r in theirs
            and name_key(ours[r]) != name_key(theirs[r])
            and not (r == "GENUS" and self._genus_follows_name(taxon, parsed, ours[r], candidate, theirs[r]))
        ]
        if differing:
            detail = ", ".join(f"{r.lower()} {ours[r]} in the archive, {theirs[r]} in the target" for r in differing)
            divergences.append(Divergence("parent", detail))
        elif (
            taxon.parents
            and theirs_chain
            and name_key(taxon.parents[-1][1]) != name_key(theirs_chain[-1][1])
            and taxon.parents[-1][0] != theirs_chain[-1][0]
        ):
            divergences.append(
                Divergence(
                    "parent", f"under {taxon.parents[-1][1]} in the archive, under {theirs_chain[-1][1]} in the target"
                )
            )
        author = taxon.author or parsed.authorship
        their_author = candidate.author or parse_name(candidate.name).authorship
        if author and their_author and authorship_agrees(author, their_author) is False:
            divergences.append(Divergence("authorship", f"{author} in the archive, {their_author} in the target"))
        return True, divergences

    @staticmethod
    def _genus_follows_name(
        taxon: ArchivedTaxon, parsed: ParsedName, our_genus: str, candidate: TargetTaxon, their_genus: str
    ) -> bool:
        """A synonym or variant mapped onto another binomial changes genus with the name: that
        is the mapping itself, not a divergence worth reporting."""
        archived_genus = parse_name(taxon.name).genus
        return (
            bool(archived_genus)
            and name_key(archived_genus) == name_key(our_genus)
            and name_key(parse_name(candidate.name).genus) == name_key(their_genus)
        )

    def _key_divergences(self, taxon: ArchivedTaxon, candidate: TargetTaxon) -> list[Divergence]:
        theirs = dict(candidate.keys())
        found = []
        for checklist, key in taxon.keys():
            if checklist in theirs and theirs[checklist] != key:
                found.append(
                    Divergence(
                        "key", f"{describe(checklist)} key {key} in the archive, {theirs[checklist]} in the target"
                    )
                )
        ours = {checklist for checklist, _ in taxon.keys()}
        if ours and theirs and not ours & set(theirs):
            found.append(
                Divergence(
                    "key",
                    "the archive's keys and the target's are from different checklists "
                    f"({', '.join(describe(c) for c in sorted(ours))} vs "
                    f"{', '.join(describe(c) for c in sorted(theirs))}): matched by name",
                )
            )
        return found

    def _archive_names(self, taxa: list[ArchivedTaxon]) -> set[str]:
        names = set()
        for taxon in taxa:
            names.add(taxon.name)
            names.add(self._parsed[taxon.name].taxon_name)
            if taxon.synonym_of:
                names.add(taxon.synonym_of)
            names.update(name for _, name in taxon.parents)
        return {n for n in names if n}
