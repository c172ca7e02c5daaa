"""What an import did: rows per model, conflicts, taxa decisions, users, caches."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class ModelCounts:
    created: int = 0
    skipped: int = 0
    updated: int = 0
    dropped: int = 0


@dataclass
class ImportReport:
    source: str
    dry_run: bool = False
    project: dict = field(default_factory=dict)
    models: dict[str, ModelCounts] = field(default_factory=lambda: defaultdict(ModelCounts))
    conflicts: dict[str, list[str]] = field(default_factory=dict)
    taxa: list[dict] = field(default_factory=list)
    taxa_summary: str = ""
    users_not_found: list[str] = field(default_factory=list)
    users_created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    storage_sources_needing_credentials: list[str] = field(default_factory=list)
    # rows whose stored secrets were dropped: the update changed their endpoint or bucket
    secrets_dropped: list[str] = field(default_factory=list)
    cache_differences: dict[str, int] = field(default_factory=dict)
    cache_difference_examples: list[str] = field(default_factory=list)
    seconds: float = 0.0
    format_version: int | None = None  # the archive's layout version, before any upgrade step
    provenance: dict = field(default_factory=dict)  # what the archive says of its source (layout 3)

    def count_cache_difference(self, key: str, add: int = 1) -> None:
        if add:
            self.cache_differences[key] = self.cache_differences.get(key, 0) + add

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "format_version": self.format_version,
            "provenance": self.provenance,
            "project": self.project,
            "models": {label: vars(counts) for label, counts in self.models.items()},
            "conflicts": self.conflicts,
            "taxa": self.taxa,
            "taxa_summary": self.taxa_summary,
            "users_not_found": self.users_not_found,
            "users_created": self.users_created,
            "dropped": self.dropped,
            "storage_sources_needing_credentials": self.storage_sources_needing_credentials,
            "secrets_dropped": self.secrets_dropped,
            "cache_differences": self.cache_differences,
            "cache_difference_examples": self.cache_difference_examples,
            "seconds": round(self.seconds, 3),
        }
