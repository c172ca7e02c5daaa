"""What a reconciliation decides: the archived taxa it is given, the policy, and for each
archived taxon a Decision (the target taxon, how it was found, the matcher's answer, the
divergences), plus the taxa to create. Plain data: no database, no network."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .checklists import BACKBONE, effective_checklist, resolve_checklist
from .errors import TaxaRefused
from .matchers.result import MatchResult
from .names import ParsedName, normalize_spaces
from .ranks import UNKNOWN, normalize_rank


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
        object.__setattr__(
            self, "parents", tuple((normalize_rank(r), normalize_spaces(n)) for r, n in self.parents if n)
        )
        object.__setattr__(self, "gbif_key", str(self.gbif_key).strip() if self.gbif_key not in (None, "") else None)
        if self.gbif_checklist_key:  # "backbone", "col-xr" or a dataset key
            object.__setattr__(
                self, "gbif_checklist_key", resolve_checklist(self.gbif_checklist_key) or self.gbif_checklist_key
            )

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


class Role(str, enum.Enum):
    """Why a taxon is created."""

    ARCHIVED = "archived"  # an archived taxon: from the archive, or as GBIF has it under the same name
    ACCEPTED = "accepted"  # the matcher's taxon for an archived synonym, spelling variant or bare placement
    SYNONYM = "synonym"  # an archived name the matcher calls a synonym, kept as one of its accepted taxon
    PARENT = "parent"  # a level of a parent chain


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
    role: Role = Role.ARCHIVED
    archived_uuid: str = ""  # the archived taxon whose row (fields, and UUID under the same name) it is made from
    search_names: tuple[str, ...] = ()  # archived spellings that name it (spelling variants)

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
        """refused; created (its taxon is created by this import, whatever the method that chose
        it: a synonym can land on an accepted taxon created from the matcher's answer); mapped."""
        if self.method is Method.REFUSED:
            return "refused"
        return "created" if self.target is not None and not self.target.exists else "mapped"

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

    def counts(self) -> dict[str, int]:
        counts = {method.value: 0 for method in Method}
        for decision in self.decisions:
            counts[decision.method.value] += 1
        counts["divergent"] = sum(1 for d in self.decisions if d.divergences)
        counts["taxa_to_create"] = len(self.to_create)
        for role in Role:
            counts[f"to_create_{role.value}"] = sum(1 for t in self.to_create if t.role is role)
        return counts
