"""A Taxon-core Darwin Core Archive (the GBIF Backbone export's Taxon.tsv, or a ChecklistBank
DwC-A export) indexed once into an SQLite file, so names can be matched offline.

The index holds one row per name usage with lookup keys (folded canonical name, genus, epithet
stems for spelling variants) and the parent/accepted links. Classifications are walked from
the parent links when needed, so indexing the 7.6 million Backbone rows needs no memory for the
tree.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..checklists import BACKBONE, COL_XR, resolve_checklist
from ..errors import ChecklistIndexError
from ..names import name_key, normalize_spaces, parse_name
from ..ranks import UNKNOWN, is_species_or_below, normalize_rank
from .fuzzy import epithets_stem

INDEX_FORMAT = "antenna-checklist-index/1"
DWC = "http://rs.tdwg.org/dwc/terms/"
GBIF_TERMS = "http://rs.gbif.org/terms/1.0/"
TAXON_ROW_TYPE = DWC + "Taxon"
_HIGHER_COLUMNS = (
    ("KINGDOM", "kingdom"),
    ("PHYLUM", "phylum"),
    ("CLASS", "class"),
    ("ORDER", "order"),
    ("FAMILY", "family"),
    ("GENUS", "genus"),
)
_SYNONYM_STATUSES = {"SYNONYM", "HETEROTYPIC_SYNONYM", "HOMOTYPIC_SYNONYM", "PROPARTE_SYNONYM", "MISAPPLIED"}
_SQLITE_MAGIC = b"SQLite format 3\x00"

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE usage (
    id TEXT PRIMARY KEY,
    parent_id TEXT,
    accepted_id TEXT,
    scientific_name TEXT NOT NULL,
    authorship TEXT NOT NULL,
    canonical TEXT NOT NULL,
    rank TEXT NOT NULL,
    status TEXT NOT NULL,
    name_key TEXT NOT NULL,
    genus_key TEXT,
    stem TEXT,
    higher TEXT
);
"""
_INDEXES = """
CREATE INDEX usage_name ON usage (name_key);
CREATE INDEX usage_genus_stem ON usage (genus_key, stem);
CREATE INDEX usage_stem ON usage (stem);
"""
_COLUMNS = "id, parent_id, accepted_id, scientific_name, authorship, canonical, rank, status, higher"


@dataclass(frozen=True)
class Usage:
    id: str
    parent_id: str | None
    accepted_id: str | None
    scientific_name: str
    authorship: str
    canonical: str
    rank: str
    status: str
    higher_json: str | None  # the denormalised kingdom..genus columns, when the archive has them

    @property
    def is_synonym(self) -> bool:
        return self.status in _SYNONYM_STATUSES or bool(self.accepted_id and self.accepted_id != self.id)

    @property
    def higher(self) -> tuple[tuple[str, str], ...]:
        return tuple(tuple(pair) for pair in json.loads(self.higher_json)) if self.higher_json else ()

    @classmethod
    def from_row(cls, row) -> Usage:
        return cls(*row)


def is_index_file(path: str | os.PathLike) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(16) == _SQLITE_MAGIC
    except OSError:
        return False


def default_index_path(source: str | os.PathLike) -> Path:
    source = Path(source)
    return source.with_name(source.name + ".index.sqlite")


def _source_signature(source: Path) -> str:
    if source.is_dir():
        stats = [(p.name, p.stat().st_size, int(p.stat().st_mtime)) for p in sorted(source.iterdir()) if p.is_file()]
        return json.dumps(stats)
    stat = source.stat()
    return json.dumps([source.name, stat.st_size, int(stat.st_mtime)])


class ChecklistIndex:
    """Read access to a built index."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not is_index_file(self.path):
            raise ChecklistIndexError(
                f"{self.path} is not a checklist index (build one with: manage.py build_checklist_index)"
            )
        self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        try:
            self.meta = dict(self._db.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError as error:
            raise ChecklistIndexError(f"{self.path} is not a checklist index: {error}") from None
        if self.meta.get("format") != INDEX_FORMAT:
            raise ChecklistIndexError(
                f"{self.path} has index format {self.meta.get('format')!r}, expected {INDEX_FORMAT!r}: rebuild it"
            )
        self.checklist_key = self.meta.get("checklist_key", "")
        self.title = self.meta.get("title", "") or self.path.name
        self._classification = functools.lru_cache(maxsize=100_000)(self._walk)
        self._usage = functools.lru_cache(maxsize=100_000)(self._fetch)
        self.names_in_genus = functools.lru_cache(maxsize=4096)(self._names_in_genus)
        self.names_with_stem = functools.lru_cache(maxsize=4096)(self._names_with_stem)

    # --- opening ----------------------------------------------------------------------------

    @classmethod
    def for_source(
        cls,
        source: str | os.PathLike,
        index_path: str | os.PathLike | None = None,
        checklist_key: str | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> ChecklistIndex:
        """Open `source` if it is an index; else the index built from that archive, (re)building
        it when missing or older than the archive."""
        source = Path(source)
        if not source.exists():
            raise ChecklistIndexError(f"checklist {source} does not exist")
        if is_index_file(source):
            return cls(source)
        index_path = Path(index_path) if index_path else default_index_path(source)
        if index_path.exists() and is_index_file(index_path):
            try:
                index = cls(index_path)
            except ChecklistIndexError:
                index = None
            if (
                index
                and index.meta.get("source_signature") == _source_signature(source)
                and (not checklist_key or index.checklist_key == checklist_key)
            ):
                return index
            if index:
                index.close()
        build_index(source, index_path, checklist_key=checklist_key, progress=progress)
        return cls(index_path)

    def close(self) -> None:
        self._db.close()

    # --- lookups ----------------------------------------------------------------------------

    def usage(self, usage_id: str | None) -> Usage | None:
        return self._usage(usage_id) if usage_id else None

    def _fetch(self, usage_id: str) -> Usage | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM usage WHERE id = ?", (usage_id,)).fetchone()
        return Usage.from_row(row) if row else None

    def by_name(self, key: str) -> list[Usage]:
        return self._select("name_key = ?", (key,))

    def by_genus_stem(self, genus_key: str, stem: str) -> list[Usage]:
        return self._select("genus_key = ? AND stem = ?", (genus_key, stem))

    def _names_in_genus(self, genus_key: str) -> tuple[tuple[str, str], ...]:
        """(id, canonical) of the species-level names in a genus: the candidates of an edit-distance
        search, read without the rest of the row."""
        return tuple(
            self._db.execute("SELECT id, canonical FROM usage WHERE genus_key = ? AND stem IS NOT NULL", (genus_key,))
        )

    def _names_with_stem(self, stem: str) -> tuple[tuple[str, str], ...]:
        return tuple(self._db.execute("SELECT id, canonical FROM usage WHERE stem = ?", (stem,)))

    def _select(self, where: str, args: tuple) -> list[Usage]:
        return [Usage.from_row(row) for row in self._db.execute(f"SELECT {_COLUMNS} FROM usage WHERE {where}", args)]

    def accepted(self, usage: Usage) -> Usage:
        """Follow synonym links to the accepted usage (cycle-safe)."""
        seen = {usage.id}
        while usage.is_synonym and usage.accepted_id and usage.accepted_id not in seen:
            target = self.usage(usage.accepted_id)
            if target is None:
                break
            seen.add(target.id)
            usage = target
        return usage

    def classification(self, usage: Usage) -> tuple[tuple[str, str, str | None], ...]:
        """(rank, name, id) from the top down to and including the usage."""
        return self._classification(usage.id)

    def _walk(self, usage_id: str) -> tuple[tuple[str, str, str | None], ...]:
        usage = self.usage(usage_id)
        if usage is None:
            return ()
        chain = [(usage.rank, usage.canonical, usage.id)]
        seen = {usage.id}
        parent_id = usage.parent_id
        while parent_id and parent_id not in seen and len(chain) < 100:
            seen.add(parent_id)
            parent = self.usage(parent_id)
            if parent is None:
                break
            chain.append((parent.rank, parent.canonical, parent.id))
            parent_id = parent.parent_id
        if len(chain) == 1 and usage.higher:  # no parent links: use the denormalised columns
            chain += [(rank, name, None) for rank, name in reversed(usage.higher) if name != usage.canonical]
        return tuple(reversed(chain))

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM usage").fetchone()[0]


# --- building --------------------------------------------------------------------------------


def build_index(
    source: str | os.PathLike,
    out: str | os.PathLike,
    checklist_key: str | None = None,
    progress: Callable[[str], None] | None = None,
    batch_size: int = 20_000,
) -> dict:
    """Index a Taxon-core DwC-A (zip or folder) into `out`. Returns a summary dict."""
    from dwca.read import DwCAReader  # imported here: only index building needs it

    source, out = Path(source), Path(out)
    say = progress or (lambda message: None)
    try:
        reader = DwCAReader(str(source), extensions_to_ignore=None, skip_metadata=False)
    except Exception as error:  # python-dwca-reader raises several types for a bad archive
        raise ChecklistIndexError(f"cannot read {source} as a Darwin Core Archive: {error}") from None
    try:
        core_type = reader.descriptor.core.type if reader.descriptor else ""
        if core_type and core_type != TAXON_ROW_TYPE:
            raise ChecklistIndexError(f"{source} has a {core_type.rsplit('/', 1)[-1]} core, not a Taxon core")
        if not reader.core_contains_term(DWC + "scientificName"):
            raise ChecklistIndexError(f"{source}: the Taxon core has no scientificName column")
        key, title = _checklist_identity(reader, checklist_key)
        temporary = out.with_name(out.name + ".building")
        temporary.unlink(missing_ok=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(temporary)
        db.executescript(_SCHEMA)
        counts = {"rows": 0, "accepted": 0, "synonyms": 0, "skipped": 0, "duplicates": 0}
        batch: list[tuple] = []
        for row in _rows(reader):
            if row is None:
                counts["skipped"] += 1
                continue
            batch.append(row)
            counts["synonyms" if row[7] in _SYNONYM_STATUSES or (row[2] and row[2] != row[0]) else "accepted"] += 1
            if len(batch) >= batch_size:
                counts["duplicates"] += _insert(db, batch)
                counts["rows"] += len(batch)
                batch = []
                if counts["rows"] % 100_000 < batch_size:
                    say(f"indexed {counts['rows']:,} name usages")
        counts["duplicates"] += _insert(db, batch)
        counts["rows"] += len(batch)
        counts["rows"] -= counts["duplicates"]
        say("building lookup indexes")
        db.executescript(_INDEXES)
        meta = {
            "format": INDEX_FORMAT,
            "checklist_key": key,
            "title": title,
            "source": str(source.resolve()),
            "source_signature": _source_signature(source),
            "built_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "rows": str(counts["rows"]),
        }
        db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        db.commit()
        db.close()
        os.replace(temporary, out)
    finally:
        reader.close()
    return {**counts, "checklist_key": key, "title": title, "out": str(out)}


def _insert(db: sqlite3.Connection, batch: list[tuple]) -> int:
    before = db.total_changes
    db.executemany("INSERT OR IGNORE INTO usage VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
    return len(batch) - (db.total_changes - before)


def _checklist_identity(reader, explicit: str | None) -> tuple[str, str]:
    """The checklist (dataset) key the archive's taxon keys belong to, and its title: an explicit
    key wins; else a known key in the EML; else a local pseudo-key that only matches itself."""
    title, candidates = "", []
    metadata = getattr(reader, "metadata", None)
    if metadata is not None:
        title = normalize_spaces(next((el.text or "" for el in metadata.iter() if el.tag.endswith("title")), ""))
        candidates += [metadata.get("packageId") or ""]
        candidates += [el.text or "" for el in metadata.iter() if el.tag.endswith("alternateIdentifier")]
    if explicit:
        key = resolve_checklist(explicit) or explicit
        return key, title
    resolved = [resolve_checklist(c) for c in candidates if c and resolve_checklist(c)]
    for known in (BACKBONE, COL_XR):
        if known in resolved:
            return known, title
    if resolved:
        return resolved[0], title
    return f"local:{Path(reader.archive_path).name}", title


def _rows(reader) -> Iterator[tuple | None]:
    wanted = {
        "id": "id",
        "taxonID": DWC + "taxonID",
        "parent": DWC + "parentNameUsageID",
        "accepted": DWC + "acceptedNameUsageID",
        "scientificName": DWC + "scientificName",
        "authorship": DWC + "scientificNameAuthorship",
        "canonical": GBIF_TERMS + "canonicalName",
        "genericName": DWC + "genericName",
        "specificEpithet": DWC + "specificEpithet",
        "infraspecificEpithet": DWC + "infraspecificEpithet",
        "rank": DWC + "taxonRank",
        "status": DWC + "taxonomicStatus",
        **{column: DWC + column for _, column in _HIGHER_COLUMNS},
    }
    present = {name: term for name, term in wanted.items() if term == "id" or reader.core_contains_term(term)}
    names = list(present)
    for values in reader.iter_terms([present[name] for name in names]):
        yield _row(dict(zip(names, values)))


def _row(value: dict) -> tuple | None:
    usage_id = (value.get("taxonID") or value.get("id") or "").strip()
    scientific = normalize_spaces(value.get("scientificName") or "")
    if not usage_id or not scientific:
        return None
    authorship = normalize_spaces(value.get("authorship") or "")
    rank = normalize_rank(value.get("rank"))
    canonical = normalize_spaces(value.get("canonical") or "")
    if not canonical:
        canonical = _canonical(scientific, authorship, value)
    status = _status(value.get("status") or "")
    accepted_id = (value.get("accepted") or "").strip() or None
    if accepted_id == usage_id:
        accepted_id = None
    words = canonical.split(" ")
    genus_key = stem = None
    if len(words) >= 2 and (is_species_or_below(rank) or rank == UNKNOWN) and words[0][:1].isupper():
        genus_key = name_key(words[0])
        stem = epithets_stem(words[1:])
    higher = [(rank_name, normalize_spaces(value.get(column) or "")) for rank_name, column in _HIGHER_COLUMNS]
    higher = [pair for pair in higher if pair[1]]
    return (
        usage_id,
        (value.get("parent") or "").strip() or None,
        accepted_id,
        scientific,
        authorship,
        canonical,
        rank,
        status,
        name_key(canonical),
        genus_key,
        stem,
        json.dumps(higher) if higher else None,
    )


def _canonical(scientific: str, authorship: str, value: dict) -> str:
    generic = (value.get("genericName") or "").strip()
    epithet = (value.get("specificEpithet") or "").strip()
    if generic and epithet:
        return normalize_spaces(" ".join([generic, epithet, value.get("infraspecificEpithet") or ""]))
    if authorship and scientific.endswith(authorship):
        return normalize_spaces(scientific[: -len(authorship)])
    parsed = parse_name(scientific)
    return parsed.match_name or parsed.taxon_name


def _status(raw: str) -> str:
    text = re.sub(r"[\s-]+", "_", raw.strip().upper())
    if not text:
        return "ACCEPTED"
    if "SYNONYM" in text or text == "MISAPPLIED":
        return text if text in _SYNONYM_STATUSES else "SYNONYM"
    if text in ("DOUBTFUL", "PROVISIONALLY_ACCEPTED"):
        return "DOUBTFUL"
    return text
