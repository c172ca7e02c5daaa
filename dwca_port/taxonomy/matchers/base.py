"""The interface every matcher implements."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Iterator

from .result import MatchResult, Query

Progress = Callable[[str], None]


class Matcher(abc.ABC):
    """Matches names against one checklist. `iter_matches` yields answers as they come, so a
    failure part-way (MatcherUnavailable) leaves the answers already given usable."""

    checklist_key: str = ""
    description: str = ""

    def match(self, query: Query) -> MatchResult:
        return self.match_many([query])[query]

    def match_many(self, queries: Iterable[Query], progress: Progress | None = None) -> dict[Query, MatchResult]:
        return dict(self.iter_matches(queries, progress))

    def iter_matches(
        self, queries: Iterable[Query], progress: Progress | None = None
    ) -> Iterator[tuple[Query, MatchResult]]:
        unique = list(dict.fromkeys(queries))  # each distinct query once, in first-seen order
        for done, query in enumerate(unique, start=1):
            yield query, self.match_one(query)
            if progress and done % 1000 == 0:
                progress(f"{self.description}: {done}/{len(unique)} names matched")

    @abc.abstractmethod
    def match_one(self, query: Query) -> MatchResult:
        """Answer one query (never NONE-by-exception: a name not found is a NONE result)."""

    def close(self) -> None:
        """Release files and connections."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
