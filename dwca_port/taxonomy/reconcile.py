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

import dataclasses
import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .checklists import BACKBONE, describe, effective_checklist, legacy_key, resolve_checklist
from .errors import PolicyError, TaxaRefused
from .matchers.base import Matcher
from .matchers.fallback import FallbackMatcher
from .matchers.result import MatchResult, MatchType, Query
from .names import NameKind, ParsedName, authorship_agrees, name_key, normalize_spaces, parse_name, parse_names
from .ranks import (ANTENNA_RANKS, HINT_RANKS, MAJOR_RANKS, UNKNOWN, is_known, normalize_rank, ranks_agree,
                    to_antenna_rank)
from .target import TargetTaxon, TargetTaxonomy


class Policy(str, enum.Enum):
    MATCH = "match"  # key, name, matcher if configured, else create from the archive
    GBIF = "gbif"  # key, name, matcher (required); create only what GBIF knows, as GBIF has it
    CREATE = "create"  # key, name, else create from the archive (no matcher)
    STRICT = "strict"  # key, name, matcher if configured; never create


class Method(str, enum.Enum):
    KEY = "key"
    NAME = "name"
    SYNONYM = "synonym"
    FUZZY = "fuzzy"
    HIGHER_RANK = "higher_rank"
    CREATED = "created"
    REFUSED = "refused"


@dataclass(frozen=True)
class ArchivedTaxon:
    uuid: str
    name: str
    rank: str = UNKNOWN
    author: str = ""
    parents: tuple[tuple[str, str], ...] = ()  # [(rank, name)] from the top
    gbif_key: str | None = None
    gbif_checklist_key: str = ""
    gbif_taxon_key: int | None = None  # upstream's integer Backbone key
    synonym_of: str = ""  # the accepted name, when the archive says this is a synonym

    def __post_init__(self):
        object.__setattr__(self, "rank", normalize_rank(self.rank))
        object.__setattr__(self, "parents", tuple((normalize_rank(r), normalize_spaces(n)) for r, n in self.parents if n))
        object.__setattr__(self, "gbif_key", str(self.gbif_key).strip() if self.gbif_key not in (None, "") else None)
        if self.gbif_checklist_key:  # "backbone", "col-xr" or a dataset key
            object.__setattr__(self, "gbif_checklist_key", resolve_checklist(self.gbif_checklist_key) or self.gbif_checklist_key)

    def keys(self) -> list[tuple[str, str]]:
        found = []
        if self.gbif_key:
            checklist = effective_checklist(self.gbif_key, self.gbif_checklist_key)
            if checklist:
                found.append((checklist, self.gbif_key))
        if self.gbif_taxon_key and (BACKBONE, str(self.gbif_taxon_key)) not in found:
            found.append((BACKBONE, str(self.gbif_taxon_key)))
        return found


@dataclass(frozen=True)
class TaxonRef:
    """A taxon of the target after the import: an existing one (id set) or one to create."""

    name: str
    rank: str
    id: object = None

    @property
    def exists(self) -> bool:
        return self.id is not None


@dataclass(frozen=True)
class NewTaxon:
    name: str
    rank: str  # an Antenna TaxonRank value
    author: str = ""
    gbif_key: str | None = None
    gbif_checklist_key: str = ""
    gbif_taxon_key: int | None = None
    parent: TaxonRef | None = None
    synonym_of: TaxonRef | None = None
    source: str = ""  # "archive" or the matcher that vouched for it

    @property
    def ref(self) -> TaxonRef:
        return TaxonRef(self.name, self.rank)


@dataclass(frozen=True)
class Divergence:
    kind: str  # rank, parent, name, authorship, key, homonym
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


@dataclass
class Decision:
    archived: ArchivedTaxon
    parsed: ParsedName
    method: Method
    target: TaxonRef | None = None
    match: MatchResult | None = None  # the matcher's answer, whenever it was asked
    divergences: list[Divergence] = field(default_factory=list)
    note: str = ""

    @property
    def outcome(self) -> str:
        return {Method.CREATED: "created", Method.REFUSED: "refused"}.get(self.method, "mapped")

    @property
    def confidence(self) -> int | None:
        return self.match.confidence if self.match and self.match.matched else None

    @property
    def qualifier(self) -> str:
        """cf./aff. of the archived name: it belongs on the identification, not the taxon."""
        return self.parsed.qualifier


@dataclass
class Reconciliation:
    policy: Policy
    decisions: list[Decision]
    to_create: list[NewTaxon]  # parents before children
    matcher: str = ""
    events: list[str] = field(default_factory=list)  # e.g. the fallback to a local checklist

    @property
    def refused(self) -> list[Decision]:
        return [d for d in self.decisions if d.method is Method.REFUSED]

    @property
    def ok(self) -> bool:
        return not self.refused

    def raise_if_refused(self) -> None:
        if self.refused:
            raise TaxaRefused(self.refused)

    def decision_for(self, uuid: str) -> Decision | None:
        return next((d for d in self.decisions if d.archived.uuid == uuid), None)

    def counts(self) -> dict[str, int]:
        counts = {method.value: 0 for method in Method}
        for decision in self.decisions:
            counts[decision.method.value] += 1
        counts["divergent"] = sum(1 for d in self.decisions if d.divergences)
        counts["taxa_to_create"] = len(self.to_create)
        return counts


class Reconciler:
    def __init__(self, target: TargetTaxonomy, policy: Policy | str = Policy.MATCH, matcher: Matcher | None = None, *,
                 fallback: Matcher | None = None, min_fuzzy_confidence: int = 90,
                 progress: Callable[[str], None] | None = None):
        self.target = target
        self.policy = Policy(policy)
        if self.policy is Policy.GBIF and matcher is None:
            raise PolicyError("--taxa=gbif needs a matcher: give --checklist backbone|col-xr|PATH")
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
        self.say(f"reconciling {len(taxa)} archived taxa ({len(parsed)} distinct names) with policy {self.policy.value}")
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

        planner = _Planner(self, decisions, taxa)
        for position in sorted((p for p in range(len(taxa)) if p not in decisions), key=lambda p: len(taxa[p].parents)):
            decisions[position] = planner.decide(taxa[position], parsed[taxa[position].name], results.get(position),
                                                 blockers.get(position))
        for position, decision in decisions.items():
            if position in results and decision.match is None:
                decision.match = results[position]
        planner.link_synonyms()
        events = list(getattr(self.matcher, "events", []))
        return Reconciliation(self.policy, [decisions[p] for p in range(len(taxa))], planner.to_create,
                              matcher=getattr(self.matcher, "description", ""), events=events)

    # --- steps 1 and 2: the target's own taxa ---------------------------------------------------

    def _from_target(self, taxon: ArchivedTaxon, parsed: ParsedName) -> tuple[Decision | None, TargetTaxon | None]:
        rank = self.rank_of(taxon, parsed)
        for checklist, key in taxon.keys():
            candidates = [c for c in self.target.by_key(checklist, key) if self._same_kind(rank, parsed, c)]
            candidates.sort(key=lambda c: (name_key(c.name) != name_key(taxon.name), parse_name(c.name).key != parsed.key,
                                           c.synonym_of_id is not None))
            for candidate in candidates:
                compatible, divergences = self.compare(taxon, parsed, candidate)
                if compatible:
                    note = f"same key {key} ({describe(checklist)})"
                    if parse_name(candidate.name).key != parsed.key:
                        divergences.append(Divergence("name", f"the key names {candidate.name} in the target, {taxon.name} in the archive"))
                    return Decision(taxon, parsed, Method.KEY, _ref(candidate), divergences=divergences, note=note), None

        blocker = None
        for candidate in self._by_name_preferring_exact(taxon.name, parsed):
            compatible, divergences = self.compare(taxon, parsed, candidate)
            if compatible:
                divergences += self._key_divergences(taxon, candidate)
                return Decision(taxon, parsed, Method.NAME, _ref(candidate), divergences=divergences,
                                note="same canonical name"), None
            blocker = blocker or candidate

        if taxon.synonym_of:
            accepted = parse_name(taxon.synonym_of)
            for candidate in self._by_name_preferring_exact(taxon.synonym_of, accepted):
                compatible, divergences = self.compare(taxon, accepted, candidate, check_rank=False)
                if compatible:
                    return Decision(taxon, parsed, Method.SYNONYM, _ref(candidate), divergences=divergences,
                                    note=f"the archive lists it as a synonym of {taxon.synonym_of}"), blocker
        return None, blocker

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

    def _from_match(self, taxon: ArchivedTaxon, parsed: ParsedName, result: MatchResult) -> Decision | None:
        if not result.matched or result.match_type is MatchType.HIGHERRANK or parsed.match_is_placement_only \
                or parsed.kind is NameKind.HIGHER and name_key(result.canonical_name) != parsed.key:
            return None
        if result.match_type is MatchType.FUZZY and result.confidence < self.min_fuzzy_confidence:
            return None
        if result.synonym and not result.accepted_key and not result.accepted_name:
            return None
        found = self.target_for_result(taxon, result)
        if not found:
            return None
        candidate, how, divergences = found
        method = Method.SYNONYM if result.synonym else Method.FUZZY if result.match_type is MatchType.FUZZY else how
        note = f"{result.match_type.value.lower()} match by {result.source}"
        if result.synonym:
            note += f": synonym of {result.resolved_name}"
        return Decision(taxon, parsed, method, _ref(candidate), match=result, divergences=divergences, note=note)

    def target_for_result(self, taxon: ArchivedTaxon, result: MatchResult) -> tuple[TargetTaxon, Method, list[Divergence]] | None:
        """The target's taxon for the matcher's accepted taxon: by its key, else by its name."""
        accepted = parse_name(result.resolved_name)
        for key in dict.fromkeys(k for k in (result.resolved_key, result.key) if k):
            for candidate in self.target.by_key(result.checklist_key, key):
                if ranks_agree(result.rank, candidate.rank):
                    compatible, divergences = self.compare(taxon, accepted, candidate, check_rank=False)
                    if compatible:
                        return candidate, Method.KEY, divergences
        for candidate in self.target.by_name(result.resolved_name):
            compatible, divergences = self.compare(taxon, accepted, candidate, check_rank=False)
            if compatible and ranks_agree(result.rank, candidate.rank):
                return candidate, Method.NAME, divergences
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

    def compare(self, taxon: ArchivedTaxon, parsed: ParsedName, candidate: TargetTaxon,
                check_rank: bool = True) -> tuple[bool, list[Divergence]]:
        """(compatible, divergences) of an archived taxon and a target taxon of the same name."""
        divergences = []
        rank = self.rank_of(taxon, parsed)
        if check_rank and is_known(rank) and is_known(candidate.rank) and rank != candidate.rank:
            divergences.append(Divergence("rank", f"{rank.lower()} in the archive, {candidate.rank.lower()} in the target"))
        ours = {r: n for r, n in taxon.parents}
        theirs_chain = self.target.parent_chain(candidate)
        theirs = {r: n for r, n in theirs_chain}
        for major in MAJOR_RANKS:
            if ours.get(major) and theirs.get(major) and name_key(ours[major]) != name_key(theirs[major]):
                return False, [Divergence("homonym", f"{candidate.name} is in {major.lower()} {theirs[major]} in the target, "
                                                     f"{ours[major]} in the archive")]
        differing = [r for r in ours if r not in MAJOR_RANKS and r in theirs and name_key(ours[r]) != name_key(theirs[r])
                     and not (r == "GENUS" and self._genus_follows_name(taxon, parsed, ours[r], candidate, theirs[r]))]
        if differing:
            detail = ", ".join(f"{r.lower()} {ours[r]} in the archive, {theirs[r]} in the target" for r in differing)
            divergences.append(Divergence("parent", detail))
        elif taxon.parents and theirs_chain and name_key(taxon.parents[-1][1]) != name_key(theirs_chain[-1][1]) \
                and taxon.parents[-1][0] != theirs_chain[-1][0]:
            divergences.append(Divergence("parent", f"under {taxon.parents[-1][1]} in the archive, "
                                                    f"under {theirs_chain[-1][1]} in the target"))
        author = taxon.author or parsed.authorship
        their_author = candidate.author or parse_name(candidate.name).authorship
        if author and their_author and authorship_agrees(author, their_author) is False:
            divergences.append(Divergence("authorship", f"{author} in the archive, {their_author} in the target"))
        return True, divergences

    @staticmethod
    def _genus_follows_name(taxon: ArchivedTaxon, parsed: ParsedName, our_genus: str, candidate: TargetTaxon,
                            their_genus: str) -> bool:
        """A synonym or variant mapped onto another binomial changes genus with the name: that
        is the mapping itself, not a divergence worth reporting."""
        archived_genus = parse_name(taxon.name).genus
        return bool(archived_genus) and name_key(archived_genus) == name_key(our_genus) \
            and name_key(parse_name(candidate.name).genus) == name_key(their_genus)

    def _key_divergences(self, taxon: ArchivedTaxon, candidate: TargetTaxon) -> list[Divergence]:
        theirs = dict(candidate.keys())
        found = []
        for checklist, key in taxon.keys():
            if checklist in theirs and theirs[checklist] != key:
                found.append(Divergence("key", f"{describe(checklist)} key {key} in the archive, "
                                               f"{theirs[checklist]} in the target"))
        ours = {checklist for checklist, _ in taxon.keys()}
        if ours and theirs and not ours & set(theirs):
            found.append(Divergence("key", "the archive's keys and the target's are from different checklists "
                                           f"({', '.join(describe(c) for c in sorted(ours))} vs "
                                           f"{', '.join(describe(c) for c in sorted(theirs))}): matched by name"))
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


class _Planner:
    """Step 4: taxa to create (with their parent chains, reusing what exists or is planned
    already) and refusals."""

    def __init__(self, reconciler: Reconciler, decisions: dict[int, Decision], taxa: list[ArchivedTaxon]):
        self.r = reconciler
        self.target = reconciler.target
        self.policy = reconciler.policy
        self.new: dict[str, NewTaxon] = {}  # by name key, in creation order
        self.placed: dict[str, TaxonRef | None] = {}  # archived name key -> its target (None: refused)
        self.synonym_links: list[tuple[str, str]] = []  # (new taxon name key, accepted name)
        self._levels: dict[tuple, tuple[TargetTaxon, str] | None] = {}  # target lookups of chain levels, shared by siblings
        for decision in decisions.values():
            self.placed.setdefault(decision.parsed.key, decision.target)

    @property
    def to_create(self) -> list[NewTaxon]:
        return list(self.new.values())

    def decide(self, taxon: ArchivedTaxon, parsed: ParsedName, result: MatchResult | None,
               blocker: TargetTaxon | None) -> Decision:
        decision = self._decide(taxon, parsed, result, blocker)
        decision.match = decision.match or result
        self.placed.setdefault(parsed.key, decision.target)
        return decision

    def _decide(self, taxon, parsed, result, blocker) -> Decision:
        refuse = lambda note, divergences=(): Decision(taxon, parsed, Method.REFUSED, match=result, note=note,  # noqa: E731
                                                       divergences=list(divergences))
        if not parsed.taxon_name:
            return refuse("the archived taxon has no name")
        if parsed.key in self.new:  # a duplicate, or an ancestor planned for an earlier taxon
            return Decision(taxon, parsed, Method.CREATED, self.new[parsed.key].ref, match=result,
                            note="created once for several archived entries")
        taken = self._homonym_note(blocker)
        if self.policy is Policy.STRICT:
            return refuse("not in the target taxonomy, and --taxa=strict creates nothing" + (f"; {taken}" if taken else ""))
        if self.policy is Policy.GBIF:
            return self._decide_gbif(taxon, parsed, result)
        if blocker:
            return refuse(taken, [Divergence("homonym", taken)])
        parent, divergences = self.plan_chain([(r, n, None) for r, n in taxon.parents], checklist="", source="archive")
        checklist = effective_checklist(taxon.gbif_key, taxon.gbif_checklist_key) if taxon.gbif_key else ""
        key, legacy = taxon.gbif_key, taxon.gbif_taxon_key
        if not key and not legacy and result and result.match_type is MatchType.EXACT and not result.synonym \
                and name_key(result.canonical_name) == parsed.key:
            key, checklist = result.key, result.checklist_key  # the checklist vouches for exactly this name
        spec = NewTaxon(
            name=parsed.taxon_name, rank=to_antenna_rank(self.r.rank_of(taxon, parsed)),
            author=taxon.author or parsed.authorship, gbif_key=key, gbif_checklist_key=checklist if key else "",
            gbif_taxon_key=legacy if legacy else legacy_key(checklist, key), parent=parent, source="archive",
        )
        self.new[parsed.key] = spec
        if taxon.synonym_of:
            self.synonym_links.append((parsed.key, taxon.synonym_of))
        note = "not in the target: created from the archive"
        if result and result.matched and result.match_type is not MatchType.HIGHERRANK:
            note += f" ({result.source}: {result.match_type.value.lower()} match to {result.resolved_name}, not in the target)"
        return Decision(taxon, parsed, Method.CREATED, spec.ref, match=result, divergences=divergences, note=note)

    def _decide_gbif(self, taxon, parsed, result) -> Decision:
        refuse = lambda note: Decision(taxon, parsed, Method.REFUSED, match=result, note=note)  # noqa: E731
        if result is None or not result.matched:
            why = (result.note if result and result.note else "no match") if result else "not a name the matcher can look up"
            return refuse(f"GBIF does not know {parsed.taxon_name} ({why}); --taxa=gbif creates only what GBIF knows")
        higher = result.match_type is MatchType.HIGHERRANK or parsed.match_is_placement_only
        if result.match_type is MatchType.FUZZY and result.confidence < self.r.min_fuzzy_confidence:
            return refuse(f"only a fuzzy match to {result.resolved_name} at confidence {result.confidence} "
                          f"(below {self.r.min_fuzzy_confidence})")
        ref, divergences = self.plan_from_result(taxon, result)
        if ref is None:
            return refuse(f"GBIF's {result.resolved_name} cannot be placed: " + "; ".join(str(d) for d in divergences))
        if higher:
            return Decision(taxon, parsed, Method.HIGHER_RANK, ref, match=result, divergences=divergences,
                            note=f"GBIF knows only the {result.rank.lower()} {result.resolved_name}: mapped there")
        note = f"created as GBIF has it ({result.source})"
        if result.synonym:
            note += f": the archived name is a synonym of {result.resolved_name}"
        elif result.match_type is MatchType.FUZZY:
            note += f": spelling variant of {result.resolved_name}"
        return Decision(taxon, parsed, Method.CREATED if not ref.exists else Method.SYNONYM if result.synonym else Method.NAME,
                        ref, match=result, divergences=divergences, note=note)

    # --- planning ------------------------------------------------------------------------------

    def plan_from_result(self, taxon: ArchivedTaxon, result: MatchResult) -> tuple[TaxonRef | None, list[Divergence]]:
        """The matcher's accepted taxon in the target: existing (by key or name), planned, or
        planned now with the matcher's classification."""
        found = self.r.target_for_result(taxon, result)
        if found:
            return _ref(found[0]), found[2]
        accepted = parse_name(result.resolved_name)
        if accepted.key in self.new:
            return self.new[accepted.key].ref, []
        for candidate in self.target.by_name(result.resolved_name):  # the name is held by another taxon
            return None, [Divergence("homonym", self._homonym_note(candidate))]
        chain = [(r, n, k) for r, n, k in result.higher_taxa if r in ANTENNA_RANKS]
        parent, divergences = self.plan_chain(chain, checklist=result.checklist_key, source=result.source)
        spec = NewTaxon(
            name=accepted.taxon_name or result.resolved_name, rank=to_antenna_rank(result.rank),
            author=result.resolved_authorship, gbif_key=result.resolved_key,
            gbif_checklist_key=result.checklist_key if result.resolved_key else "",
            gbif_taxon_key=legacy_key(result.checklist_key, result.resolved_key), parent=parent, source=result.source,
        )
        self.new[accepted.key] = spec
        return spec.ref, divergences

    def plan_chain(self, chain: list[tuple[str, str, str | None]], checklist: str, source: str) -> tuple[TaxonRef | None, list[Divergence]]:
        """The parent for a new taxon under `chain` [(rank, name, key)] (top first). The deepest
        level that exists already (an archived taxon placed, a target taxon found by key or by a
        name with consistent higher taxa, a planned taxon) is the anchor; only the levels below
        it are planned. Levels above it are the target's business, never duplicated."""
        levels = [(normalize_rank(rank), name, key) for rank, name, key in chain]
        found = [self._find_level(levels[:position], *level, checklist) for position, level in enumerate(levels)]
        anchor = max((position for position, (ref, _) in enumerate(found) if ref is not None), default=-1)
        parent = found[anchor][0] if anchor >= 0 else None
        divergences: list[Divergence] = []
        for position in range(anchor + 1, len(levels)):
            rank, name, key = levels[position]
            conflict = found[position][1]
            if conflict:
                divergences.append(Divergence("parent", f"{rank.lower()} {name} left out of the parent chain: {conflict}"))
                continue
            spec = NewTaxon(name=name, rank=to_antenna_rank(rank), gbif_key=key, gbif_checklist_key=checklist if key else "",
                            gbif_taxon_key=legacy_key(checklist, key), parent=parent, source=source)
            self.new[name_key(parse_name(name).taxon_name or name)] = spec
            parent = spec.ref
        return parent, divergences

    def _find_level(self, above, rank, name, key, checklist) -> tuple[TaxonRef | None, str]:
        """(the taxon for this level if it exists or is planned, else None; a homonym note)."""
        level_key = name_key(parse_name(name).taxon_name or name)
        if level_key in self.new:
            return self.new[level_key].ref, ""
        if self.placed.get(level_key) is not None:
            return self.placed[level_key], ""
        majors = tuple((r, name_key(n)) for r, n, _ in above if r in MAJOR_RANKS)
        cache_key = (rank, level_key, key, checklist, majors)
        if cache_key not in self._levels:
            self._levels[cache_key] = self._existing_level(above, rank, name, key, checklist)
        existing = self._levels[cache_key]
        if existing is None:
            return None, ""
        candidate, conflict = existing
        return (None, conflict) if conflict else (_ref(candidate), "")

    def _existing_level(self, above, rank, name, key, checklist) -> tuple[TargetTaxon, str] | None:
        if key and checklist:
            for candidate in self.target.by_key(checklist, key):
                if ranks_agree(rank, candidate.rank):
                    return candidate, ""
        candidates = self.target.by_name(name)
        if not candidates:
            return None
        ours = {normalize_rank(r): n for r, n, _ in above}
        for candidate in candidates:
            theirs = dict(self.target.parent_chain(candidate))
            if all(not (ours.get(m) and theirs.get(m)) or name_key(ours[m]) == name_key(theirs[m]) for m in MAJOR_RANKS):
                return candidate, ""
        return candidates[0], self._homonym_note(candidates[0])

    def _homonym_note(self, blocker: TargetTaxon | None) -> str:
        if blocker is None:
            return ""
        chain = dict(self.target.parent_chain(blocker))
        where = next((f"{m.lower()} {chain[m]}" for m in MAJOR_RANKS if chain.get(m)), "another classification")
        return (f"the name {blocker.name} is taken in the target by a different taxon ({where}); "
                "Antenna taxon names are unique")

    def link_synonyms(self) -> None:
        """Point created synonyms at their accepted taxon, where that one exists or is created."""
        for key, accepted_name in self.synonym_links:
            accepted = parse_name(accepted_name)
            ref = self.new[accepted.key].ref if accepted.key in self.new else self.placed.get(accepted.key)
            if ref is None:
                found = self.target.by_name(accepted_name)
                ref = _ref(found[0]) if found else None
            if ref is not None:
                self.new[key] = dataclasses.replace(self.new[key], synonym_of=ref)


def _ref(taxon: TargetTaxon) -> TaxonRef:
    return TaxonRef(taxon.name, taxon.rank, taxon.id)

