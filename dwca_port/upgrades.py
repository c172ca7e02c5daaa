"""Archives of an older layout, read as today's: one explicit step per version, N -> N+1.

The importer reads every archive through `upgraded(source)`: the steps from the archive's layout
version up to FORMAT_VERSION rewrite its rows on the way (cells in today's declaration order; a
column the archive lacks reads as None), and the project row then says FORMAT_VERSION. An archive
outside the window (versions.OLDEST_FORMAT_VERSION to FORMAT_VERSION) is refused, naming both
versions. A layout change adds its step here, with a test that an archive of the old layout
(tests/fixtures/archives/) still imports losslessly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from dwca_port import graph
from dwca_port.formats import SourceError, TableSource
from dwca_port.formats.base import Row
from dwca_port.tables import ANTENNA, Table, all_tables
from dwca_port.values import Kind, format_value
from dwca_port.versions import FORMAT_VERSION, OLDEST_FORMAT_VERSION

VERSION_TERM = ANTENNA + "formatVersion"


def _unchanged(table: Table, cells: list) -> list:
    return cells


@dataclass(frozen=True)
class Upgrade:
    """Reads an archive of layout `version` as one of `version + 1`."""

    version: int
    doc: str
    rows: Callable[[Table, list], list] = _unchanged  # a row of `table`, cells in today's column order
    # The Darwin Core tables changed (views the import never reads): an archive from before is
    # validated against its Antenna tables only.
    darwin_core_rewritten: bool = False


UPGRADES: dict[int, Upgrade] = {
    step.version: step
    for step in (
        Upgrade(
            1,
            "issue 13 rewrote the Darwin Core tables; the Antenna tables, which the import reads, did not change",
            darwin_core_rewritten=True,
        ),
        Upgrade(
            2,
            "the project row gained antennaSchema, toolkitVersion and sourceInstance: unknown for an older "
            "archive, they stay empty",
        ),
    )
}


def steps_from(version: int) -> list[Upgrade]:
    """The steps that bring layout `version` to FORMAT_VERSION (none when it is current)."""
    return [UPGRADES[v] for v in range(max(version, OLDEST_FORMAT_VERSION), FORMAT_VERSION)]


def _is_root(table: Table) -> bool:
    return table.node == graph.ROOT.label and not table.link


def root_table() -> Table:
    return next(table for table in all_tables() if _is_root(table))


def archived_version(source: TableSource) -> int | None:
    """The layout version the archive's project row states (None when it has no readable one)."""
    table = root_table()
    if not source.has(table):
        return None
    index = table.index_of(VERSION_TERM)
    cell = next((cells[index] for _, cells in source.rows(table)), None)
    return int(cell) if isinstance(cell, str) and cell.isdigit() else None


class UpgradedSource:
    """A TableSource of an older layout, read through its upgrade steps."""

    def __init__(self, source: TableSource, version: int):
        self._source = source
        self.label = source.label
        self.archived_version = version
        self.steps = steps_from(version)

    def has(self, table: Table) -> bool:
        return self._source.has(table)

    def member(self, table: Table) -> str:
        return self._source.member(table)

    def rows(self, table: Table) -> Iterator[Row]:
        version = table.index_of(VERSION_TERM) if _is_root(table) else None
        for line, cells in self._source.rows(table):
            for step in self.steps:
                cells = step.rows(table, cells)
            if version is not None:
                cells[version] = format_value(Kind.INTEGER, FORMAT_VERSION)
            yield line, cells

    def close(self) -> None:
        self._source.close()


def upgraded(source: TableSource) -> TableSource:
    """`source` as today's layout: through its upgrade steps when older (a source with no readable
    version is left to the importer's own checks, which refuse it)."""
    try:
        version = archived_version(source)
    except SourceError:
        return source
    if version is None or version >= FORMAT_VERSION or version < OLDEST_FORMAT_VERSION:
        return source
    return UpgradedSource(source, version)
