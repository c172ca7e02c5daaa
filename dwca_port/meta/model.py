"""What meta.xml says about an archive: its tables, their text format and their fields."""

from __future__ import annotations

from dataclasses import dataclass, field

from dwca_port.tabular import Dialect

DWC_TEXT_NS = "http://rs.tdwg.org/dwc/text/"

# The format attributes of core/extension; absent ones take the Darwin Core text guide's defaults.
FORMAT_ATTRIBUTES = ("encoding", "fieldsTerminatedBy", "linesTerminatedBy", "fieldsEnclosedBy", "ignoreHeaderLines")
SPEC_DEFAULTS = {
    "encoding": "UTF-8",
    "fieldsTerminatedBy": ",",
    "linesTerminatedBy": "\n",
    "fieldsEnclosedBy": '"',
    "ignoreHeaderLines": "0",
}


@dataclass
class FieldDescriptor:
    term: str
    index: int | None = None
    default: str | None = None
    vocabulary: str | None = None
    delimited_by: str | None = None
    line: int | None = None  # line of the <field> element in meta.xml


@dataclass
class TableDescriptor:
    """One core or extension element of meta.xml."""

    row_type: str
    core: bool
    locations: list[str] = field(default_factory=list)
    id_index: int | None = None  # index of <id> (core) or <coreid> (extension)
    has_id_element: bool = False
    fields: list[FieldDescriptor] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)  # format attributes as written, unescaped
    line: int | None = None

    @property
    def file(self) -> str:
        """The data file (the first location; exactly one is expected)."""
        return self.locations[0] if self.locations else ""

    def setting(self, name: str) -> str:
        return self.attributes.get(name, SPEC_DEFAULTS[name])

    @property
    def dialect(self) -> Dialect:
        try:
            header_lines = int(self.setting("ignoreHeaderLines"))
        except ValueError:
            header_lines = 0
        return Dialect(
            name="declared",
            delimiter=self.setting("fieldsTerminatedBy"),
            enclosure=self.setting("fieldsEnclosedBy"),
            line_terminator=self.setting("linesTerminatedBy"),
            encoding=self.setting("encoding"),
            header_lines=header_lines,
        )

    @property
    def width(self) -> int:
        """Declared column count: the largest index + 1."""
        indexes = [f.index for f in self.fields if f.index is not None]
        if self.id_index is not None:
            indexes.append(self.id_index)
        return max(indexes, default=-1) + 1

    def field(self, term: str) -> FieldDescriptor | None:
        for candidate in self.fields:
            if candidate.term == term:
                return candidate
        return None

    def index_of(self, term: str) -> int | None:
        found = self.field(term)
        return found.index if found else None

    @property
    def terms(self) -> list[str]:
        return [f.term for f in self.fields]


@dataclass
class ArchiveDescriptor:
    tables: list[TableDescriptor] = field(default_factory=list)  # in document order
    metadata: str | None = None  # the archive/@metadata attribute
    root_namespace: str | None = None

    @property
    def cores(self) -> list[TableDescriptor]:
        return [table for table in self.tables if table.core]

    @property
    def core(self) -> TableDescriptor | None:
        cores = self.cores
        return cores[0] if cores else None

    @property
    def extensions(self) -> list[TableDescriptor]:
        return [table for table in self.tables if not table.core]

    def by_row_type(self, row_type: str) -> list[TableDescriptor]:
        return [table for table in self.tables if table.row_type == row_type]

    @property
    def row_types(self) -> set[str]:
        return {table.row_type for table in self.tables}
