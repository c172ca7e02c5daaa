"""HTTP for a shared public service: a minimum interval between requests, timeouts, and
retries with exponential backoff on 429/5xx, dropped connections and timeouts. When the
retries run out the failure surfaces as MatcherUnavailable, the one error importers catch."""

from __future__ import annotations

import threading
import time

import requests

from ..errors import MatcherUnavailable

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
# GBIF answers a species match in well under a second; a server that has not answered in 10 s is
# in trouble. Three attempts ride out a blip; a GBIF that stops answering fails in about
# 3 x 10 s plus the 1 s and 2 s waits between attempts.
DEFAULT_TIMEOUT = 10.0
DEFAULT_ATTEMPTS = 3
USER_AGENT = "antenna-dwca-port/0.1 (taxon reconciliation; +https://github.com/RolnickLab/antenna)"


class PoliteSession:
    def __init__(
        self,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_ATTEMPTS - 1,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        max_requests_per_second: float = 10.0,
        source: str = "",
        session: requests.Session | None = None,
    ):
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.min_interval = 1.0 / max_requests_per_second if max_requests_per_second else 0.0
        self.source = source
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", USER_AGENT)
        self.session.headers["Accept"] = "application/json"
        self.requests_sent = 0
        self._next_start = 0.0
        self._lock = threading.Lock()

    def get_json(self, url: str, params: dict) -> dict:
        failure, status, retry_after = "", None, None
        for attempt in range(1, self.retries + 2):
            self._wait_turn()
            self.requests_sent += 1
            try:
                response = self.session.get(url, params=params, timeout=self.timeout)
            except requests.Timeout:
                failure, status, retry_after = f"no answer within {self._timeout_text()}", None, None
            except requests.ConnectionError as error:
                failure, status, retry_after = f"connection failed ({_short(error)})", None, None
            else:
                if response.status_code == 200:
                    try:
                        return response.json()
                    except ValueError:
                        raise MatcherUnavailable(
                            f"{self.source}: {response.url} did not return JSON (is it a GBIF species-match service?)",
                            source=self.source,
                            url=response.url,
                            status=200,
                            attempts=attempt,
                        ) from None
                status = response.status_code
                if status not in RETRYABLE_STATUS:
                    raise MatcherUnavailable(
                        f"{self.source}: HTTP {status} from {response.url}: {_short(response.text)}",
                        source=self.source,
                        url=response.url,
                        status=status,
                        attempts=attempt,
                    )
                failure = "rate limited (HTTP 429)" if status == 429 else f"HTTP {status}"
                retry_after = _seconds(response.headers.get("Retry-After"))
            if attempt <= self.retries:
                delay = retry_after if retry_after is not None else self.backoff * 2 ** (attempt - 1)
                time.sleep(min(self.max_backoff, max(0.0, delay)))
        attempts = self.retries + 1
        raise MatcherUnavailable(
            f"{self.source}: {failure} after {attempts} attempt{'s' if attempts != 1 else ''} ({url})",
            source=self.source,
            url=url,
            status=status,
            attempts=self.retries + 1,
        )

    def close(self) -> None:
        self.session.close()

    def _wait_turn(self) -> None:
        with self._lock:
            now = time.monotonic()
            wait = self._next_start - now
            self._next_start = max(now, self._next_start) + self.min_interval
        if wait > 0:
            time.sleep(wait)

    def _timeout_text(self) -> str:
        return f"{self.timeout[1] if isinstance(self.timeout, tuple) else self.timeout:g} s"


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _short(value, limit: int = 200) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
