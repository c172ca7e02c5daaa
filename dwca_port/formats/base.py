"""What every format shares: a table source for the importer, and the summary of a written table."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from dwca_port.findings import Finding
from dwca_port.tables import Table

Row = tuple[int, list]  # (line or position, cells in the declaration's column order)


class SourceError(Exception):
    """A source cannot be read (further); `finding` says where and why."""

    def __init__(self, finding: Finding):
        super().__init__(str(finding))
        self.finding = finding


class TableSource(Protocol):
    """Where an import reads its tables from: each declared table's rows as `(line, cells)`, the
    cells in the declaration's column order (a column the file lacks reads as None)."""

    label: str

    def has(self, table: Table) -> bool: ...

    def member(self, table: Table) -> str: ...

    def rows(self, table: Table) -> Iterator[Row]: ...

    def close(self) -> None: ...


@dataclass
class TableSummary:
    file: str
    rows: int
    bytes: int
