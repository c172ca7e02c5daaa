"""The declaration types: one `Table` per archive file, one `Column` per term.

Everything that reads or writes an archive (meta.xml, the writers, the importer, the validator,
the JSON form and docs/format.md) is derived from these declarations.
"""
from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

# Namespaces of the terms used by the declarations.
DWC = "http://rs.tdwg.org/dwc/terms/"
DCTERMS = "http://purl.org/dc/terms/"
DC = "http://purl.org/dc/elements/1.1/"
ECO = "http://rs.tdwg.org/eco/terms/"
AC = "http://rs.tdwg.org/ac/terms/"
GBIF = "http://rs.gbif.org/terms/1.0/"
OBIS = "http://rs.iobis.org/obis/terms/"
# The one namespace of Antenna's own rowTypes and terms.
ANTENNA = "https://antenna.insectai.org/terms/"

FULL = "full"
GBIF_PROFILE = "gbif"
PROFILES = (GBIF_PROFILE, FULL)


class Kind(str, enum.Enum):
    """The syntax of a column's values, as written in the archive."""

    UUID = "uuid"  # lowercase canonical UUID
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"  # a finite number; Python's shortest round-tripping repr
    BOOLEAN = "boolean"  # true / false
    DATETIME = "datetime"  # ISO 8601 date-time: local time without offset (Antenna tables) or with one (Darwin Core terms)
    DATE = "date"  # ISO 8601 calendar date
    EVENT_DATE = "event_date"  # ISO 8601 date, date-time or interval (start/end)
    JSON = "json"  # compact JSON with sorted keys
    URI = "uri"  # an absolute URI


@dataclass(frozen=True)
class Column:
    term: str  # full term URI
    kind: Kind = Kind.TEXT
    required: bool = False  # must be non-empty in every row
    unique: bool = False  # values unique in the file (case-insensitively, as the IPT compares)
    vocabulary: tuple[str, ...] = ()  # allowed values, when the term has a controlled vocabulary
    references: str | None = None  # rowType whose identifier term holds every non-empty value
    doc: str = ""  # one line for docs/format.md
    # Antenna tables: the model field the column carries (a relation carries the target's UUID).
    field: str = ""
    calculated: bool = False  # a cache: exported to be verified, recomputed on import

    @property
    def name(self) -> str:
        """The term's local name, used as the header cell."""
        return self.term.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


@dataclass(frozen=True)
class Table:
    """One data file of the archive. Column 0 is the id (core) or coreid (extension)."""

    file: str  # e.g. "event.txt", at the zip root
    row_type: str
    columns: tuple[Column, ...]
    core: bool = False
    registered: bool = True  # a rowType GBIF and the IPT know; unregistered tables are full-profile only
    profiles: frozenset[str] = frozenset(PROFILES)
    identifier_term: str | None = None  # the term holding this row's own identifier (None: rows have none)
    doc: str = ""
    node: str = ""  # Antenna tables: the graph node (model label) whose rows the table holds
    link: str = ""  # Antenna link tables: the many-to-many field of `node` they hold
    # Tables computed for Darwin Core (not a model's home): yields each row's cells, in column order.
    rows: Callable | None = field(default=None, compare=False, repr=False)
    # Optionally, the same rows on PostgreSQL as SELECT statements formatting every cell in SQL
    # (dwca_port/sql_format.py): (sql, params) pairs whose rows are appended in turn.
    sql: Callable | None = field(default=None, compare=False, repr=False)

    def column(self, term: str) -> Column:
        for column in self.columns:
            if column.term == term:
                return column
        raise KeyError(term)

    def index_of(self, term: str) -> int:
        for index, column in enumerate(self.columns):
            if column.term == term:
                return index
        raise KeyError(term)

    @property
    def terms(self) -> tuple[str, ...]:
        return tuple(column.term for column in self.columns)

# Version of the archive layout this toolkit writes (the Antenna project table carries it);
# an archive from a newer version is refused on import.
FORMAT_VERSION = 1
