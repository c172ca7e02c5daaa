"""Errors of the taxonomy package. Callers catch TaxonomyError for anything user-facing and
MatcherUnavailable specifically to roll an import back when GBIF cannot be reached."""

from __future__ import annotations


class TaxonomyError(Exception):
    """Base class: a message fit for a user, no traceback needed."""


class NameParserUnavailable(TaxonomyError):
    """gbif-name-parser is missing, or the `nameparser` module is another package."""


class MatcherUnavailable(TaxonomyError):
    """A matcher could not answer: network failure, timeout, HTTP 429/5xx after retries, or a
    service that is not a species-match endpoint. Nothing was decided for the remaining names."""

    def __init__(
        self,
        message: str,
        *,
        source: str = "",
        url: str = "",
        status: int | None = None,
        attempts: int = 0,
        answered: int = 0,
    ):
        super().__init__(message)
        self.source = source
        self.url = url
        self.status = status
        self.attempts = attempts
        self.answered = answered  # names answered before the failure


class ChecklistIndexError(TaxonomyError):
    """A local checklist archive or index that cannot be read or built."""


class PolicyError(TaxonomyError):
    """A reconciliation policy used without what it needs (e.g. 'gbif' without a matcher)."""


class TaxaRefused(TaxonomyError):
    """Archived taxa that could not be mapped and may not be created under the policy."""

    def __init__(self, decisions: list):
        self.decisions = list(decisions)
        lines = [f"  {d.archived.name}: {d.note}" for d in self.decisions[:50]]
        more = len(self.decisions) - len(lines)
        if more > 0:
            lines.append(f"  ... and {more} more (see the reconciliation report)")
        super().__init__(
            f"{len(self.decisions)} archived taxa cannot be mapped onto this instance's taxonomy:\n" + "\n".join(lines)
        )


class StaleReconciliation(TaxonomyError):
    """The target taxonomy changed between reconciliation and creation."""
