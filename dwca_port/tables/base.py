"""The declaration types: one `Table` per archive file, one `Column` per term.

Everything that reads or writes an archive (meta.xml, the format writers and readers, the
importer, the validator and docs/format.md) is derived from these declarations.

A table's rows come from `rows(context)`: lists of cells in column order, each the archive text
of its value (None for an empty cell). On PostgreSQL, `sql(context)` may give the same rows as
SELECT statements that format every cell in the database (dwca_port/postgres/cells.py); tests
export both ways and compare the bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from dwca_port.values import Kind, Unstorable, parse_value

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

Statement = tuple[str, list]  # SQL and its parameters


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
    # Computed tables with an SQL form: the SQL giving this column's cell from the table's query.
    sql: str = ""
    # False for an extension's key column whose term its GBIF definition does not define (e.g.
    # dwc:eventID in Humboldt, eMoF, Simple Multimedia): meta.xml maps it as the coreid only.
    mapped: bool = True
    # Antenna tables: the target column's limits, from its model field, so that every database
    # takes only what PostgreSQL takes (SQLite would store a longer text or a bigger integer).
    max_length: int | None = None  # characters of a varchar
    bounds: tuple[int, int] | None = None  # smallest and largest integer

    @property
    def name(self) -> str:
        """The term's local name, used as the header cell."""
        return local_name(self.term)

    def limit_error(self, value) -> str | None:
        """Why a parsed value does not fit the column's declared limits, or None."""
        if self.max_length is not None and isinstance(value, str) and len(value) > self.max_length:
            return f"{len(value)} characters, longer than the {self.max_length} the column holds"
        if self.bounds is not None and isinstance(value, int) and not self.bounds[0] <= value <= self.bounds[1]:
            low, high = self.bounds
            return f"{value} is out of the column's range {low} to {high}"
        return None

    def parse(self, text: str | None):
        """The value of a cell of this column (parse_value, then the limits). Raises CellError."""
        value = parse_value(self.kind, text)
        problem = self.limit_error(value)
        if problem:
            raise Unstorable(problem)
        return value


def local_name(term: str) -> str:
    return term.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


Rows = Callable[..., Iterator[list]]


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
    notes: str = ""  # markdown after the columns in docs/format.md (e.g. a table's own vocabulary)
    node: str = ""  # Antenna tables: the graph node (model label) whose rows the table holds
    link: str = ""  # Antenna link tables: the many-to-many field of `node` they hold
    # The rows, as cells in column order (see the module's docstring).
    rows: Rows | None = field(default=None, compare=False, repr=False)
    # Optionally, the same rows on PostgreSQL: (sql, params) statements whose rows follow each other.
    sql: Callable[..., list[Statement] | None] | None = field(default=None, compare=False, repr=False)
    # How many rows `rows` gives, when one query can say (the total a progress bar shows).
    count: Callable[..., int] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Model field name -> term: looked up for every cell of an import, so built once.
        object.__setattr__(self, "_field_terms", {c.field: c.term for c in self.columns if c.field})

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

    def term_of(self, field_name: str) -> str:
        """The term of the column carrying a model field (Antenna tables)."""
        try:
            return self._field_terms[field_name]
        except KeyError:
            raise KeyError(f"{self.file} has no column for {field_name}") from None


def by_name(columns: tuple[Column, ...], build: Callable[..., Iterator[Mapping[str, str | None]]]) -> Rows:
    """Rows from a builder that yields each row as {column name: cell}: a column the builder does
    not name is empty. So a new column is one declaration plus its value, by name."""
    names = [column.name for column in columns]

    def rows(*args) -> Iterator[list]:
        for row in build(*args):
            yield [row.get(name) for name in names]

    rows.__doc__ = build.__doc__
    return rows
