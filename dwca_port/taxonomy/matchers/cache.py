"""A persistent cache of species-match answers in one SQLite file, keyed by (base URL, API
version, checklist, query). The Backbone is frozen, so its answers never go stale; COL XR
changes with each release, so a maximum age can be set."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS match_response (
    base_url TEXT NOT NULL,
    version TEXT NOT NULL,
    checklist_key TEXT NOT NULL,
    query TEXT NOT NULL,
    body TEXT NOT NULL,
    fetched_at REAL NOT NULL,
    PRIMARY KEY (base_url, version, checklist_key, query)
)
"""


def default_cache_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "antenna-dwca-port" / "gbif-species-match.sqlite"


class MatchCache:
    def __init__(self, path: str | os.PathLike, max_age_seconds: float | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.max_age_seconds = max_age_seconds
        self._db = sqlite3.connect(self.path, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self._db.commit()

    def get(self, base_url: str, version: str, checklist_key: str, query: str) -> dict | None:
        row = self._db.execute(
            "SELECT body, fetched_at FROM match_response WHERE base_url=? AND version=? AND checklist_key=? AND "
            "query=?",
            (base_url, version, checklist_key, query),
        ).fetchone()
        if row is None:
            return None
        if self.max_age_seconds is not None and time.time() - row[1] > self.max_age_seconds:
            return None
        return json.loads(row[0])

    def put(self, base_url: str, version: str, checklist_key: str, query: str, body: dict) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO match_response VALUES (?, ?, ?, ?, ?, ?)",
            (base_url, version, checklist_key, query, json.dumps(body, ensure_ascii=False), time.time()),
        )
        self._db.commit()

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM match_response").fetchone()[0]

    def close(self) -> None:
        self._db.close()
