"""The Darwin Core Archive: a zip of tab-separated tables, meta.xml and eml.xml.

Writing: rows stream from the tables' builders (or, on PostgreSQL, from COPY) straight into zip
members, deflated by ISA-L in a second thread; every member has a fixed timestamp, so two
archives of unchanged data differ only in the EML's dates and package id.
Reading: `ArchiveSource` gives the importer each declared table's rows, read through the safe
zip reader (dwca_port/archive.py) with the settings the archive's own meta.xml declares.
"""

from __future__ import annotations

import contextlib
import queue
import shutil
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

from isal import isal_zlib

from dwca_port.archive import MAX_XML_BYTES, Archive, ArchiveError, open_archive
from dwca_port.dataset import dataset_metadata
from dwca_port.eml import write_eml
from dwca_port.findings import Finding
from dwca_port.formats.base import Row, SourceError, TableSummary
from dwca_port.meta import MetaXmlError, read_meta_xml, write_meta_xml
from dwca_port.postgres.copy import BLOCK, copy_rows, fetch_rows
from dwca_port.postgres.parallel import Copied, ParallelCopies
from dwca_port.progress import SILENT, Progress
from dwca_port.tables import Table
from dwca_port.tables.context import ExportContext
from dwca_port.tabular import TableReader, TableWriter, TabularError, dialect_for_profile

PROGRESS_EVERY = 10_000  # rows between two advances of the progress


def write_archive(
    path: Path,
    context: ExportContext,
    tables: tuple[Table, ...],
    in_sql: bool,
    progress: Progress,
    helpers: int = 0,
) -> tuple[list[TableSummary], int]:
    """Write the tables as an archive at `path`; `in_sql` lets PostgreSQL format the rows of the
    tables that have an SQL form, and `helpers` more connections copy such tables ahead in the
    same snapshot (dwca_port/postgres/parallel.py). `progress` advances by one per table written.
    Returns a summary per table and how many connections read them."""
    dialect = dialect_for_profile(context.profile)
    # The full dialect is PostgreSQL's CSV with a TAB delimiter: there the server writes the file.
    statements = {table.file: table.sql(context) for table in tables if in_sql and table.sql}
    copied = {name: found for name, found in statements.items() if found is not None and dialect.enclosure}
    helpers = helpers if copied else 0
    summaries = []
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        ParallelCopies(helpers, path.parent, lambda: progress.advance(0))
        if helpers
        else contextlib.nullcontext() as ahead,
    ):
        if ahead is not None:
            ahead.submit(list(copied.items()))
        progress.stage("meta.xml and eml.xml", 2, "files")  # the dataset's description reads the whole project
        archive.writestr(_member("meta.xml"), write_meta_xml(tables, dialect))
        progress.advance(1)
        archive.writestr(_member("eml.xml"), write_eml(dataset_metadata(context)))
        progress.advance(1)
        for table in tables:
            # (counting costs a query per table: only for someone listening)
            total = table.count(context) if table.count and progress is not SILENT else None
            progress.stage(table.file, total)
            with archive.open(_member(table.file), "w", force_zip64=True) as member, _blocks(member) as stream:
                writer = TableWriter(stream, dialect)
                writer.write_header([column.name for column in table.columns])
                ahead_of_us = ahead.take(table.file) if ahead is not None else None
                if ahead_of_us is not None:
                    rows = _move(ahead_of_us, stream, progress)
                elif table.file in copied:
                    rows = _copy(copied[table.file], stream, progress)
                else:
                    rows = _write_rows(table, context, statements.get(table.file), writer, progress)
            summaries.append(TableSummary(table.file, rows, archive.getinfo(table.file).file_size))
    return summaries, 1 + (len(ahead.delivered) if ahead is not None else 0)


def _copy(statements, stream, progress: Progress) -> int:
    """The server writes the member's rows (COPY), on the export's own connection."""
    copied = 0
    for statement in statements:
        rows = copy_rows(statement, stream, lambda rows: progress.advance(PROGRESS_EVERY), every=PROGRESS_EVERY)
        progress.advance(rows % PROGRESS_EVERY)
        copied += rows
    return copied


def _move(copied: Copied, stream, progress: Progress) -> int:
    """A table a helper connection copied ahead: its bytes into the member."""
    with copied.data:
        shutil.copyfileobj(copied.data, stream, BLOCK)
    progress.advance(copied.rows)
    return copied.rows


def _write_rows(table: Table, context: ExportContext, statements, writer: TableWriter, progress: Progress) -> int:
    """Rows formatted in Python: from the table's builder, or fetched by its SQL form (the GBIF dialect)."""
    rows = (
        table.rows(context)
        if statements is None
        else (row for statement in statements for row in fetch_rows(statement))
    )
    for row in rows:
        writer.write_row(["" if cell is None else cell for cell in row])
        if writer.rows_written % PROGRESS_EVERY == 0:
            progress.advance(PROGRESS_EVERY)
    progress.advance(writer.rows_written % PROGRESS_EVERY)
    return writer.rows_written


def _member(name: str) -> zipfile.ZipInfo:
    # A fixed timestamp: two exports of the same data give the same member headers.
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


class _BlockWriter:
    """Writes to a zip member in blocks of about BLOCK bytes (zipfile compresses and checksums
    every write), from a second thread: deflate works there while the database formats the
    next rows. A few blocks wait at most, so memory stays bounded."""

    def __init__(self, member):
        self._member = member
        self._block = bytearray()
        self._queue: queue.Queue = queue.Queue(maxsize=4)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def write(self, data) -> int:
        self._block += data
        if len(self._block) >= BLOCK:
            self._send()
        return len(data)

    def _send(self) -> None:
        if self._error:
            raise self._error
        self._queue.put(bytes(self._block))
        self._block.clear()

    def _drain(self) -> None:
        while (block := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._member.write(block)
                except BaseException as error:  # re-raised in the writing thread
                    self._error = error

    def close(self) -> None:
        self._send()
        self._queue.put(None)
        self._thread.join()
        if self._error:
            raise self._error


def _fast_deflate(member) -> None:
    """zlib at level 1 was a third of a PostgreSQL export's time; ISA-L's deflate writes the same
    format several times faster. zipfile takes no compressor, so the member's own is replaced
    before the first byte (its interface is the same: compress, flush)."""
    if getattr(member, "_compressor", None) is not None and getattr(member, "_file_size", None) == 0:
        member._compressor = isal_zlib.compressobj(1, isal_zlib.DEFLATED, -15)  # raw deflate, as zipfile's


@contextlib.contextmanager
def _blocks(member):
    _fast_deflate(member)
    writer = _BlockWriter(member)
    try:
        yield writer
    finally:
        writer.close()


class ArchiveSource:
    """Tables of a zip archive, read with the settings its meta.xml declares."""

    def __init__(self, path: str | Path):
        self.label = str(path)
        try:
            self._archive: Archive = open_archive(path)
            self._descriptor = read_meta_xml(self._archive.read("meta.xml", MAX_XML_BYTES))
        except (ArchiveError, MetaXmlError) as error:
            raise SourceError(error.finding) from None
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

        try:
            with self._archive.open(descriptor.file) as stream:
                reader = TableReader(
                    stream, descriptor.dialect, member=descriptor.file, width=descriptor.width, on_finding=refuse
                )
                for line, values in reader:
                    yield line, [values[i] if i is not None else None for i in positions]
        except (ArchiveError, TabularError) as error:
            raise SourceError(error.finding) from None

    def close(self) -> None:
        self._archive.close()
