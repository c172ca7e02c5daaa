"""Step 4 of a reconciliation: what to create (each new taxon with its parent chain, reusing what
exists or is planned already) and what to refuse, per policy.

With a matcher (policies match and gbif), an archived name the matcher calls a synonym or a
spelling variant of an accepted taxon the target lacks lands on that accepted taxon, created with
the matcher's key and classification; the archived name is kept as its synonym (a Taxon with
synonym_of) or, for a misspelling, as one of its search names. An archived name the matcher knows
exactly is created under that name with the matcher's key. `strict` refuses and says what the
matcher answered; `create` asks no matcher and keeps the archived names."""

from __future__ import annotations

import dataclasses

from .checklists import effective_checklist, legacy_key
from .decisions import ArchivedTaxon, Decision, Divergence, Method, NewTaxon, Policy, Role, TaxonRef
from .matchers.result import MatchResult, MatchType
from .names import ParsedName, name_key, normalize_spaces, parse_name
from .ranks import ANTENNA_RANKS, MAJOR_RANKS, normalize_rank, ranks_agree, to_antenna_rank
from .target import TargetTaxon


class CreationPlanner:
    """Step 4: taxa to create (with their parent chains, reusing what exists or is planned
    already) and refusals."""

    def __init__(self, reconciler, decisions: dict[int, Decision], taxa: list[ArchivedTaxon]):
        self.r = reconciler
        self.target = reconciler.target
        self.policy = reconciler.policy
        self.new: dict[str, NewTaxon] = {}  # by name key, in creation order
        self.synonyms: dict[str, NewTaxon] = {}  # archived names kept as synonyms of new accepted taxa
        self.placed: dict[str, TaxonRef | None] = {}  # archived name key -> its target (None: refused)
        self.synonym_links: list[tuple[str, str]] = []  # (new taxon name key, accepted name)
        self._levels: dict[
            tuple, tuple[TargetTaxon, str] | None
        ] = {}  # target lookups of chain levels, shared by siblings
        for decision in decisions.values():
            self.placed.setdefault(decision.parsed.key, decision.target)

    @property
    def to_create(self) -> list[NewTaxon]:
        return list(self.new.values()) + list(self.synonyms.values())  # synonyms after their accepted taxa

    def decide(
        self, taxon: ArchivedTaxon, parsed: ParsedName, result: MatchResult | None, blocker: TargetTaxon | None
    ) -> Decision:
        decision = self._decide(taxon, parsed, result, blocker)
        decision.match = decision.match or result
        self.placed.setdefault(parsed.key, decision.target)
        return decision

    def _decide(self, taxon, parsed, result, blocker) -> Decision:
        refuse = lambda note, divergences=(): Decision(
            taxon,
            parsed,
            Method.REFUSED,
            match=result,
            note=note,
            divergences=list(divergences),
        )
        if not parsed.taxon_name:
            return refuse("the archived taxon has no name")
        if parsed.key in self.new:  # a duplicate, or an ancestor planned for an earlier taxon
            return Decision(
                taxon,
                parsed,
                Method.CREATED,
                self.new[parsed.key].ref,
                match=result,
                note="created once for several archived entries",
            )
        taken = self._homonym_note(blocker)
        if self.policy is Policy.STRICT:
            answer = ""
            if result is not None:
                elsewhere = self.r.lands_elsewhere(parsed, result)
                answer = f" ({result.source}: {describe_answer(result)}" + (
                    f"; {result.resolved_name} is not in the target either)" if elsewhere else ")"
                )
            return refuse(
                f"not in the target taxonomy{answer}, and --taxa=strict creates nothing"
                + (f"; {taken}" if taken else "")
            )
        if self.policy is Policy.GBIF:
            return self._decide_gbif(taxon, parsed, result, blocker)
        if self.r.lands_elsewhere(parsed, result):
            decision = self._land_on_accepted(taxon, parsed, result, blocker)
            if decision is not None:
                return decision
        if blocker:
            return refuse(taken, [Divergence("homonym", taken)])
        return self._create_from_archive(taxon, parsed, result)

    def _create_from_archive(self, taxon, parsed, result) -> Decision:
        """The archived taxon as the archive has it, under the archive's parent chain; the
        matcher's key goes on it when the archive has none and the matcher knows exactly this name."""
        parent, divergences = self.plan_chain([(r, n, None) for r, n in taxon.parents], checklist="", source="archive")
        checklist = effective_checklist(taxon.gbif_key, taxon.gbif_checklist_key) if taxon.gbif_key else ""
        key, legacy = taxon.gbif_key, taxon.gbif_taxon_key
        matched_key = (
            not key
            and not legacy
            and self.r.names_this_taxon(parsed, result)
            and not self.r.lands_elsewhere(parsed, result)
            and result.resolved_key
        )
        if matched_key:
            key, checklist = result.resolved_key, result.checklist_key  # the checklist vouches for exactly this name
        spec = NewTaxon(
            name=parsed.taxon_name,
            rank=to_antenna_rank(self.r.rank_of(taxon, parsed)),
            author=taxon.author or parsed.authorship,
            gbif_key=key,
            gbif_checklist_key=checklist if key else "",
            gbif_taxon_key=legacy if legacy else legacy_key(checklist, key),
            parent=parent,
            source="archive",
            archived_uuid=taxon.uuid,
        )
        self.new[parsed.key] = spec
        if taxon.synonym_of:
            self.synonym_links.append((parsed.key, taxon.synonym_of))
        note = "not in the target: created from the archive"
        if result and result.matched:
            note += f" ({result.source}: {describe_answer(result)}"
            note += ", its key kept on it)" if matched_key else ")"
        return Decision(taxon, parsed, Method.CREATED, spec.ref, match=result, divergences=divergences, note=note)

    def _land_on_accepted(self, taxon, parsed, result, blocker) -> Decision | None:
        """The matcher's accepted taxon for an archived synonym or spelling variant, planned with
        its key and classification since the target lacks it; the archived name kept as its
        synonym or search name. None when the accepted name cannot be created here (held by a
        homonym)."""
        ref, divergences = self.plan_from_result(taxon, result)
        if ref is None:
            return None
        accepted_key = parse_name(ref.name).key
        kept = ""
        if result.match_type is MatchType.FUZZY:
            spec = self.new.get(accepted_key)
            if spec is not None and normalize_spaces(taxon.name) not in spec.search_names:
                self.new[accepted_key] = dataclasses.replace(
                    spec,
                    search_names=spec.search_names + (normalize_spaces(taxon.name),),
                    archived_uuid=spec.archived_uuid or taxon.uuid,  # the same taxon, misspelt: its row's fields
                )
            kept = f"; the archived spelling kept as a search name of {ref.name}" if spec is not None else ""
        elif blocker is not None:
            kept = f"; not kept as a synonym: {self._homonym_note(blocker)}"
        else:
            if parsed.key not in self.synonyms:
                accepted = self.new.get(accepted_key)
                own_key = result.key if result.key != result.resolved_key else None
                self.synonyms[parsed.key] = NewTaxon(
                    name=parsed.taxon_name,
                    rank=to_antenna_rank(self.r.rank_of(taxon, parsed)),
                    author=taxon.author or parsed.authorship,
                    **self._keys(result.checklist_key, own_key),
                    parent=accepted.parent if accepted else None,
                    synonym_of=ref,
                    source="archive",
                    role=Role.SYNONYM,
                    archived_uuid=taxon.uuid,
                )
            kept = f"; the archived name recorded as a synonym of {ref.name}"
        planned = self.new.get(accepted_key)
        if planned is None:
            how = "is in the target"
        elif planned.role is Role.ACCEPTED:
            how = "created with the matcher's key and classification"
        else:
            how = "created from the archive"
        note = f"{result.source}: {describe_answer(result)}, which the target lacks: {ref.name} {how}{kept}"
        method = Method.FUZZY if result.match_type is MatchType.FUZZY else Method.SYNONYM
        return Decision(taxon, parsed, method, ref, match=result, divergences=divergences, note=note)

    def _decide_gbif(self, taxon, parsed, result, blocker) -> Decision:
        refuse = lambda note: Decision(taxon, parsed, Method.REFUSED, match=result, note=note)
        if result is None or not result.matched:
            why = (
                (result.note if result and result.note else "no match")
                if result
                else "not a name the matcher can look up"
            )
            return refuse(f"GBIF does not know {parsed.taxon_name} ({why}); --taxa=gbif creates only what GBIF knows")
        higher = result.match_type is MatchType.HIGHERRANK or parsed.match_is_placement_only
        if result.match_type is MatchType.FUZZY and result.confidence < self.r.min_fuzzy_confidence:
            return refuse(
                f"only a fuzzy match to {result.resolved_name} at confidence {result.confidence} "
                f"(below {self.r.min_fuzzy_confidence})"
            )
        if not higher and self.r.lands_elsewhere(parsed, result):
            decision = self._land_on_accepted(taxon, parsed, result, blocker)
            if decision is not None:
                return decision
        ref, divergences = self.plan_from_result(taxon, result)
        if ref is None:
            return refuse(f"GBIF's {result.resolved_name} cannot be placed: " + "; ".join(str(d) for d in divergences))
        if higher:
            return Decision(
                taxon,
                parsed,
                Method.HIGHER_RANK,
                ref,
                match=result,
                divergences=divergences,
                note=f"GBIF knows only the {result.rank.lower()} {result.resolved_name}: mapped there",
            )
        planned = self.new.get(parse_name(ref.name).key)
        if planned is not None and planned.role is Role.ACCEPTED:  # GBIF's own name for this archived taxon
            self.new[parse_name(ref.name).key] = dataclasses.replace(
                planned, role=Role.ARCHIVED, archived_uuid=planned.archived_uuid or taxon.uuid
            )
        return Decision(
            taxon,
            parsed,
            Method.CREATED if not ref.exists else Method.NAME,
            ref,
            match=result,
            divergences=divergences,
            note=f"created as GBIF has it ({result.source}: {describe_answer(result)})",
        )

    # --- planning ------------------------------------------------------------------------------

    def plan_from_result(self, taxon: ArchivedTaxon, result: MatchResult) -> tuple[TaxonRef | None, list[Divergence]]:
        """The matcher's accepted taxon in the target: existing (by key or name), planned, or
        planned now with the matcher's classification."""
        found = self.r.target_for_result(taxon, result)
        if found:
            return target_ref(found[0]), found[2]
        accepted = parse_name(result.resolved_name)
        planned = self.new.get(accepted.key)
        if planned is not None:
            if result.resolved_key and not (planned.gbif_key or planned.gbif_taxon_key):
                self.new[accepted.key] = dataclasses.replace(
                    planned, **self._keys(result.checklist_key, result.resolved_key)
                )
            return planned.ref, []
        for candidate in self.target.by_name(result.resolved_name):  # the name is held by another taxon
            return None, [Divergence("homonym", self._homonym_note(candidate))]
        chain = [(r, n, k) for r, n, k in result.higher_taxa if r in ANTENNA_RANKS]
        parent, divergences = self.plan_chain(chain, checklist=result.checklist_key, source=result.source)
        spec = NewTaxon(
            name=accepted.taxon_name or result.resolved_name,
            rank=to_antenna_rank(result.rank),
            author=result.resolved_authorship,
            **self._keys(result.checklist_key, result.resolved_key),
            parent=parent,
            source=result.source,
            role=Role.ACCEPTED,
        )
        self.new[accepted.key] = spec
        return spec.ref, divergences

    def plan_chain(
        self, chain: list[tuple[str, str, str | None]], checklist: str, source: str
    ) -> tuple[TaxonRef | None, list[Divergence]]:
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
                divergences.append(
                    Divergence("parent", f"{rank.lower()} {name} left out of the parent chain: {conflict}")
                )
                continue
            spec = NewTaxon(
                name=name,
                rank=to_antenna_rank(rank),
                **self._keys(checklist, key),
                parent=parent,
                source=source,
                role=Role.PARENT,
            )
            self.new[name_key(parse_name(name).taxon_name or name)] = spec
            parent = spec.ref
        return parent, divergences

    @staticmethod
    def _keys(checklist: str, key: str | None) -> dict:
        """A new taxon's key fields: the key with its checklist, and upstream's integer field
        when it is a Backbone key."""
        return dict(
            gbif_key=key, gbif_checklist_key=checklist if key else "", gbif_taxon_key=legacy_key(checklist, key)
        )

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
        return (None, conflict) if conflict else (target_ref(candidate), "")

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
            if all(
                not (ours.get(m) and theirs.get(m)) or name_key(ours[m]) == name_key(theirs[m]) for m in MAJOR_RANKS
            ):
                return candidate, ""
        return candidates[0], self._homonym_note(candidates[0])

    def _homonym_note(self, blocker: TargetTaxon | None) -> str:
        if blocker is None:
            return ""
        chain = dict(self.target.parent_chain(blocker))
        where = next((f"{m.lower()} {chain[m]}" for m in MAJOR_RANKS if chain.get(m)), "another classification")
        return (
            f"the name {blocker.name} is taken in the target by a different taxon ({where}); "
            "Antenna taxon names are unique"
        )

    def link_synonyms(self) -> None:
        """Point created synonyms at their accepted taxon, where that one exists or is created."""
        for key, accepted_name in self.synonym_links:
            accepted = parse_name(accepted_name)
            ref = self.new[accepted.key].ref if accepted.key in self.new else self.placed.get(accepted.key)
            if ref is None:
                found = self.target.by_name(accepted_name)
                ref = target_ref(found[0]) if found else None
            if ref is not None:
                self.new[key] = dataclasses.replace(self.new[key], synonym_of=ref)


def target_ref(taxon: TargetTaxon) -> TaxonRef:
    return TaxonRef(taxon.name, taxon.rank, taxon.id)


def describe_answer(result: MatchResult) -> str:
    """The matcher's answer in a few words, with the key: "synonym of Ancylis geminana (5771236)"."""
    key = f" ({result.resolved_key})" if result.resolved_key else ""
    if not result.matched:
        return "no match" + (f": {result.note}" if result.note else "")
    if result.match_type is MatchType.HIGHERRANK:
        return f"only the {result.rank.lower()} {result.resolved_name}{key}"
    if result.synonym:
        return f"synonym of {result.resolved_name}{key}"
    if result.match_type is MatchType.FUZZY:
        return f"spelling variant of {result.resolved_name}{key}, confidence {result.confidence}"
    return f"exact match{key}"
