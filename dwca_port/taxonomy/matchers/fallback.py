"""A primary matcher (the GBIF API) with a local checklist behind it: when the primary becomes
unavailable, the names not answered yet go to the fallback, and the switch is recorded."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..errors import MatcherUnavailable
from .base import Matcher, Progress
from .result import MatchResult, Query


class FallbackMatcher(Matcher):
    def __init__(self, primary: Matcher, fallback: Matcher):
        self.primary = primary
        self.fallback = fallback
        self.checklist_key = primary.checklist_key
        self.description = f"{primary.description}, falling back to {fallback.description}"
        self.events: list[str] = []  # what happened, for the report
        self._primary_down = False

    def iter_matches(
        self, queries: Iterable[Query], progress: Progress | None = None
    ) -> Iterator[tuple[Query, MatchResult]]:
        remaining = list(dict.fromkeys(queries))
        if not self._primary_down:
            answered: set[Query] = set()
            try:
                for query, result in self.primary.iter_matches(remaining, progress):
                    answered.add(query)
                    yield query, result
                return
            except MatcherUnavailable as error:
                # Once down, stay on the fallback: hammering a failing service helps nobody.
                self._primary_down = True
                remaining = [q for q in remaining if q not in answered]
                self.events.append(
                    f"{error} -- {len(answered)} names answered before the failure; "
                    f"{len(remaining)} names matched with {self.fallback.description} instead"
                )
                if progress:
                    progress(self.events[-1])
        yield from self.fallback.iter_matches(remaining, progress)

    def match_one(self, query: Query) -> MatchResult:
        return dict(self.iter_matches([query]))[query]

    def close(self) -> None:
        self.primary.close()
        self.fallback.close()
