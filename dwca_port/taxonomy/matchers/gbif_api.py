"""The GBIF species-match HTTP API (v1 and v2), at api.gbif.org or a self-hosted gbif/matching-ws.

Every distinct query is asked once; answers are kept in a persistent cache, so a second run
over the same names makes no request at all.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from urllib.parse import urlencode

from ..checklists import BACKBONE, COL_XR, describe
from ..errors import MatcherUnavailable
from ..ranks import HINT_RANKS, is_known
from .base import Matcher, Progress
from .cache import MatchCache, default_cache_path
from .gbif_responses import decode_v1, decode_v2
from .polite_http import DEFAULT_ATTEMPTS, DEFAULT_TIMEOUT, PoliteSession
from .result import MatchResult, Query

GBIF_API = "https://api.gbif.org"
VERSIONS = ("v1", "v2")
_USE_DEFAULT_CACHE = object()


def split_base_url(url: str) -> tuple[str, str | None]:
    """'https://api.gbif.org/v1/species/match' -> ('https://api.gbif.org', 'v1');
    'http://localhost:8080' -> ('http://localhost:8080', None)."""
    base = url.strip().rstrip("/")
    for suffix in ("/species/match", "/species"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    for version in VERSIONS:
        if base.endswith("/" + version):
            return base[: -len(version) - 1], version
    return base, None


class GbifApiMatcher(Matcher):
    def __init__(
        self,
        base_url: str = GBIF_API,
        version: str | None = None,
        checklist_key: str = BACKBONE,
        *,
        cache: MatchCache | str | os.PathLike | None = _USE_DEFAULT_CACHE,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_ATTEMPTS - 1,
        backoff: float = 1.0,
        max_requests_per_second: float = 10.0,
        strict: bool = False,
        send_hints: bool = True,
    ):
        base, version_in_url = split_base_url(base_url)
        self.version = version or version_in_url or "v2"
        if self.version not in VERSIONS:
            raise ValueError(f"GBIF species-match API version must be v1 or v2, not {self.version!r}")
        if self.version == "v1" and checklist_key == COL_XR:
            # v1 answers carry integer keys; COL XR keys are alphanumeric (GBIF: "Unable to support
            # API v1 for this checklist. Please use v2 instead.").
            raise ValueError("the Catalogue of Life XR checklist needs the v2 species-match API, not v1")
        self.base_url = base
        self.checklist_key = checklist_key
        self.endpoint = f"{base}/{self.version}/species/match"
        self.strict = strict
        self.send_hints = send_hints
        self.description = f"GBIF species match {self.version} at {base} ({describe(checklist_key)})"
        self.http = PoliteSession(
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            max_requests_per_second=max_requests_per_second,
            source=self.description,
        )
        if cache is _USE_DEFAULT_CACHE:
            cache = default_cache_path()
        self.cache = cache if isinstance(cache, MatchCache) or cache is None else MatchCache(cache)
        self.cache_hits = 0

    @property
    def requests_sent(self) -> int:
        return self.http.requests_sent

    def params(self, query: Query) -> dict[str, str]:
        """The query string for one name (v1 and v2 name their parameters differently)."""
        v2 = self.version == "v2"
        params = {"scientificName" if v2 else "name": query.name}
        if query.authorship:
            params["scientificNameAuthorship" if v2 else "authorship"] = query.authorship
        if is_known(query.rank):
            params["taxonRank" if v2 else "rank"] = query.rank
        if self.send_hints:
            for rank, name in query.hints:
                if rank in HINT_RANKS and name:
                    params[rank.lower()] = name
        if self.strict:
            params["strict"] = "true"
        if v2:
            params["checklistKey"] = self.checklist_key
            if query.identifier and query.identifier[0] == BACKBONE and query.identifier[1]:
                # GBIF crosswalks a Backbone key to the chosen checklist (e.g. COL XR) itself.
                params["scientificNameID"] = f"gbif:{query.identifier[1]}"
        elif self.checklist_key != BACKBONE:
            params["checklistKey"] = self.checklist_key  # a self-hosted v1 service on another index
        return params

    def iter_matches(
        self, queries: Iterable[Query], progress: Progress | None = None
    ) -> Iterator[tuple[Query, MatchResult]]:
        unique = list(dict.fromkeys(queries))
        answered = 0
        for query in unique:
            try:
                yield query, self.match_one(query)
            except MatcherUnavailable as error:
                error.answered = answered
                raise
            answered += 1
            if progress and answered % 100 == 0:
                progress(
                    f"{self.description}: {answered}/{len(unique)} names ({self.requests_sent} requests, "
                    f"{self.cache_hits} from cache)"
                )

    def match_one(self, query: Query) -> MatchResult:
        params = self.params(query)
        cache_query = urlencode(sorted((k, v) for k, v in params.items() if k != "checklistKey"))
        body = (
            self.cache.get(self.base_url, self.version, self.checklist_key, cache_query)
            if self.cache is not None
            else None
        )
        if body is not None:
            self.cache_hits += 1
        else:
            body = self.http.get_json(self.endpoint, params)
            if not isinstance(body, dict):
                raise MatcherUnavailable(
                    f"{self.description}: unexpected answer from {self.endpoint}",
                    source=self.description,
                    url=self.endpoint,
                )
            if self.cache is not None:
                self.cache.put(self.base_url, self.version, self.checklist_key, cache_query, body)
        decode = decode_v2 if self.version == "v2" else decode_v1
        return decode(body, self.checklist_key, source=self.description)

    def close(self) -> None:
        self.http.close()
        if self.cache is not None:
            self.cache.close()
