"""What every matcher is asked (Query) and what it answers (MatchResult), whatever its source."""

from __future__ import annotations

import enum
import functools
from dataclasses import asdict, dataclass, field

from ..ranks import UNKNOWN


class MatchType(str, enum.Enum):
    EXACT = "EXACT"  # the canonical name matched (authorship and spelling of it aside)
    FUZZY = "FUZZY"  # a spelling variant matched (gender ending, a letter or two)
    HIGHERRANK = "HIGHERRANK"  # only a higher taxon (genus, family) matched
    NONE = "NONE"


@dataclass(frozen=True)
class Query:
    """One name to match. Hashable: equal queries are asked once and cached together."""

    name: str  # canonical name without authorship
    authorship: str = ""
    rank: str = UNKNOWN
    hints: tuple[tuple[str, str], ...] = ()  # ((rank, name), ...) of higher taxa, top first
    identifier: tuple[str, str] | None = None  # (checklist key, taxon key) the archive gave

    def hint(self, rank: str) -> str:
        return self._hints_by_rank.get(rank, "")

    @functools.cached_property
    def _hints_by_rank(self) -> dict[str, str]:
        return dict(self.hints)


@dataclass(frozen=True)
class MatchResult:
    match_type: MatchType
    checklist_key: str
    key: str | None = None  # the usage matched (a synonym's own key when synonym)
    scientific_name: str = ""  # with authorship
    canonical_name: str = ""
    authorship: str = ""
    rank: str = UNKNOWN
    status: str = ""  # ACCEPTED, DOUBTFUL, SYNONYM, HETEROTYPIC_SYNONYM, ...
    synonym: bool = False
    accepted_key: str | None = None
    accepted_name: str = ""  # canonical
    accepted_authorship: str = ""
    confidence: int = 0  # 0-100
    classification: tuple[
        tuple[str, str, str | None], ...
    ] = ()  # (rank, name, key) top first, ends with the accepted taxon
    note: str = ""
    source: str = ""  # which matcher answered (for the report)
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def matched(self) -> bool:
        return self.match_type is not MatchType.NONE

    @property
    def resolved_key(self) -> str | None:
        """The accepted taxon's key: synonyms followed."""
        return self.accepted_key if self.synonym and self.accepted_key else self.key

    @property
    def resolved_name(self) -> str:
        return self.accepted_name if self.synonym and self.accepted_name else self.canonical_name

    @property
    def resolved_authorship(self) -> str:
        return self.accepted_authorship if self.synonym else self.authorship

    @property
    def higher_taxa(self) -> tuple[tuple[str, str, str | None], ...]:
        """The classification above the accepted taxon."""
        if self.classification and self.classification[-1][1] == self.resolved_name:
            return self.classification[:-1]
        return self.classification

    def as_dict(self) -> dict:
        data = asdict(self)
        data["match_type"] = self.match_type.value
        data["classification"] = [list(entry) for entry in self.classification]
        data.pop("extra", None)
        return data

    @classmethod
    def none(cls, checklist_key: str, note: str = "", source: str = "", confidence: int = 0) -> MatchResult:
        return cls(
            match_type=MatchType.NONE, checklist_key=checklist_key, note=note, source=source, confidence=confidence
        )
