"""Name matchers behind one interface (`Matcher`): the GBIF species-match API (v1/v2) and a
local checklist index, optionally chained (`FallbackMatcher`). `build_matcher` turns the
command-line options (--checklist backbone|col-xr|PATH, --gbif-url URL) into one."""

from __future__ import annotations

import os
from pathlib import Path

from ..checklists import BACKBONE, resolve_checklist
from .base import Matcher
from .cache import MatchCache, default_cache_path
from .fallback import FallbackMatcher
from .gbif_api import GBIF_API, GbifApiMatcher
from .local import LocalChecklistMatcher
from .local_index import ChecklistIndex, build_index
from .result import MatchResult, MatchType, Query

__all__ = [
    "ChecklistIndex",
    "FallbackMatcher",
    "GBIF_API",
    "GbifApiMatcher",
    "LocalChecklistMatcher",
    "MatchCache",
    "MatchResult",
    "MatchType",
    "Matcher",
    "Query",
    "build_index",
    "build_matcher",
    "default_cache_path",
]


COL_RELEASE_SECONDS = 30 * 24 * 3600


def build_matcher(
    checklist: str | os.PathLike | None = "backbone",
    *,
    gbif_url: str | None = None,
    api_version: str | None = None,
    fallback: str | os.PathLike | None = None,
    cache_path: str | os.PathLike | None = None,
    progress=None,
    **api_options,
) -> Matcher:
    """--checklist backbone|col-xr|<dataset UUID> -> the GBIF API on that checklist (at --gbif-url,
    default api.gbif.org); --checklist PATH -> a local checklist (a Taxon-core DwC-A or a built
    index). `fallback` adds a local checklist used when the API is unavailable."""
    checklist = checklist or "backbone"
    checklist_key = resolve_checklist(str(checklist))
    if checklist_key is None:
        if not Path(checklist).exists():
            raise ValueError(
                f"--checklist must be backbone, col-xr, a checklist dataset key or a file; {checklist} does not exist"
            )
        matcher: Matcher = LocalChecklistMatcher(checklist, progress=progress)
    else:
        # The Backbone is frozen: its answers never age. COL XR has a release a month.
        max_age = None if checklist_key == BACKBONE else COL_RELEASE_SECONDS
        cache = MatchCache(cache_path or default_cache_path(), max_age_seconds=max_age)
        matcher = GbifApiMatcher(
            gbif_url or GBIF_API, api_version, checklist_key or BACKBONE, cache=cache, **api_options
        )
    if fallback:
        matcher = FallbackMatcher(matcher, LocalChecklistMatcher(fallback, progress=progress))
    return matcher
