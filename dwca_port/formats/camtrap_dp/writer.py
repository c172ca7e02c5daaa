"""A Camtrap DP package as bytes: datapackage.json and three CSV files (RFC 4180, comma, UTF-8,
"\\n" line ends), in a zip or in a folder.

Rows stream from the tables' builders or, on PostgreSQL, from COPY in CSV format, which quotes
exactly what `csv_line` quotes (a value holding a comma, a quote, CR or LF; inner quotes doubled),
so both paths give the same bytes (tests compare them).
"""

from __future__ import annotations

import contextlib
import json
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from dwca_port.formats.base import TableSummary
from dwca_port.postgres.copy import BLOCK, copy_rows
from dwca_port.tables import Table
from dwca_port.tables.context import ExportContext

DESCRIPTOR = "datapackage.json"
PROGRESS_EVERY = 100_000
_NEEDS_QUOTES = frozenset(',"\r\n')

Say = Callable[[str], None]


def csv_line(cells: Sequence[str | None]) -> str:
    """One CSV record as PostgreSQL's COPY (FORMAT csv) writes it; None and "" are an empty cell."""
    out = []
    for cell in cells:
        if not cell:
            out.append("")
        elif _NEEDS_QUOTES.isdisjoint(cell):
            out.append(cell)
        else:
            out.append('"' + cell.replace('"', '""') + '"')
    return ",".join(out) + "\n"


class PackageTarget:
    """Where the files go: members of a zip (a fixed timestamp, deflated), or files of a folder."""

    def __init__(self, path: Path, folder: bool):
        self.path = path
        self.folder = folder
        self._zip = None
        if folder:
            path.mkdir(parents=True)
        else:
            self._zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)

    @contextlib.contextmanager
    def open(self, name: str) -> Iterator[BinaryIO]:
        if self.folder:
            with (self.path / name).open("wb") as stream:
                yield stream
            return
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        with self._zip.open(info, "w", force_zip64=True) as stream:
            yield stream

    def size(self, name: str) -> int:
        return (self.path / name).stat().st_size if self.folder else self._zip.getinfo(name).file_size

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def write_tables(target: PackageTarget, context: ExportContext, tables: tuple[Table, ...], in_sql: bool, say: Say):
    return [_write_table(target, table, context, in_sql, say) for table in tables]


def write_descriptor(target: PackageTarget, descriptor: dict) -> None:
    with target.open(DESCRIPTOR) as stream:
        stream.write((json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n").encode())


def _write_table(target: PackageTarget, table: Table, context: ExportContext, in_sql: bool, say: Say) -> TableSummary:
    statements = table.sql(context) if in_sql and table.sql else None
    rows = 0
    with target.open(table.file) as stream:
        stream.write(csv_line([column.name for column in table.columns]).encode())
        if statements is not None:
            for statement in statements:
                done = rows
                rows += copy_rows(
                    statement,
                    stream,
                    lambda n, done=done: say(f"{table.file}: {done + n:,} rows"),
                    every=PROGRESS_EVERY,
                    delimiter=",",
                )
        else:
            block = bytearray()
            for row in table.rows(context):
                block += csv_line(row).encode()
                rows += 1
                if len(block) >= BLOCK:
                    stream.write(block)
                    block.clear()
                if rows % PROGRESS_EVERY == 0:
                    say(f"{table.file}: {rows:,} rows")
            stream.write(block)
    say(f"{table.file}: {rows:,} rows")
    return TableSummary(table.file, rows, target.size(table.file))
