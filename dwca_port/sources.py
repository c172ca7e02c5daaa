"""Where an import reads its tables from: a Darwin Core Archive, or the JSON form.

Both give each declared table's rows as `(line, cells)`, the cells in the declaration's column
order (a column the file lacks reads as None), so the importer has one path for both.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from dwca_port.archive import Archive, open_archive
from dwca_port.extensions.base import Table
from dwca_port.findings import Finding, Severity
from dwca_port.meta.read import read_meta_xml
from dwca_port.tabular import TableReader

Row = tuple[int, list]


class SourceError(Exception):
    def __init__(self, finding: Finding):
        super().__init__(str(finding))
        self.finding = finding


class TableSource(Protocol):
    label: str

    def has(self, table: Table) -> bool: ...

    def member(self, table: Table) -> str: ...

    def rows(self, table: Table) -> Iterator[Row]: ...

    def close(self) -> None: ...


class ArchiveSource:
    """Tables of a zip archive, read with the settings its meta.xml declares."""

    def __init__(self, path: str | Path):
        self.label = str(path)
        self._archive: Archive = open_archive(path)
        self._descriptor = read_meta_xml(self._archive.read("meta.xml", 16 * 1024 * 1024))
        self._by_row_type = {t.row_type: t for t in self._descriptor.tables}

    def has(self, table: Table) -> bool:
        return table.row_type in self._by_row_type

    def member(self, table: Table) -> str:
        return self._by_row_type[table.row_type].file

    def rows(self, table: Table) -> Iterator[Row]:
        descriptor = self._by_row_type[table.row_type]
        positions = [descriptor.index_of(column.term) for column in table.columns]
        if table.columns and positions[0] is None:
            positions[0] = descriptor.id_index

        def refuse(finding: Finding) -> None:
            if finding.blocks:
                raise SourceError(finding)

        with self._archive.open(descriptor.file) as stream:
            reader = TableReader(stream, descriptor.dialect, member=descriptor.file, width=descriptor.width,
                                 on_finding=refuse)
            for line, values in reader:
                yield line, [values[i] if i is not None else None for i in positions]

    def close(self) -> None:
        self._archive.close()


def looks_like_json(path: str | Path) -> bool:
    """A JSON document (object or array) rather than a zip: its first non-blank byte says so."""
    path = Path(path)
    if not path.is_file():
        return False
    with path.open("rb") as handle:
        return handle.read(64).lstrip()[:1] in (b"{", b"[")


def open_source(path: str | Path) -> TableSource:
    """An archive, or a JSON document when the file starts with "{"."""
    path = Path(path)
    if not path.exists():
        raise SourceError(Finding(1, "FILE_NOT_FOUND", Severity.BLOCKING, "no such file", file=str(path)))
    if path.is_dir():
        raise SourceError(Finding(1, "NOT_A_FILE", Severity.BLOCKING, "is a directory, not an archive", file=str(path)))
    if looks_like_json(path):
        from dwca_port.jsonform import JsonSource

        return JsonSource(path)
    try:
        return ArchiveSource(path)
    except Exception as error:  # the archive and meta.xml layers carry their own finding
        finding = getattr(error, "finding", None)
        if finding is None:
            raise
        raise SourceError(finding) from None
