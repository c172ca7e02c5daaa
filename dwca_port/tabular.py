"""Delimited data files of an archive: the one streaming reader and the one streaming writer.

The reader parses a file with the settings its meta.xml declares (delimiter, enclosure, line
terminator, header lines, encoding) and yields `(line_number, values)` for each well-formed record.
It reports what it finds on the way (BOM, CR, NUL, blank lines, undecodable bytes, rows of the
wrong width, bad quoting) through a callback, so the validator and the importer share it.
Problems that make the rest of the file unreadable (a field or a record over the size limit,
thousands of columns, an encoding we cannot split into lines) raise `TabularError`.

Memory stays flat: one physical line at a time, each read with a hard byte cap.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from dwca_port.archive import configured
from dwca_port.findings import Finding, Severity

# A single value larger than this is refused (a 10 MB field is a defect or an attack, not data).
MAX_FIELD_BYTES = 4 * 1024 * 1024
# A physical line is read with this cap; a record longer than this is refused.
MAX_RECORD_BYTES = 8 * 1024 * 1024
# More columns than this is refused before the row is split.
MAX_COLUMNS = 1000

UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Dialect:
    """How a data file is written: the meta.xml format attributes of one table."""

    name: str = "declared"
    delimiter: str = "\t"
    enclosure: str = ""  # "" means values are never quoted
    line_terminator: str = "\n"
    encoding: str = "UTF-8"
    header_lines: int = 1


# GBIF: tab separated, no quoting; TAB/CR/LF inside values become a space, as the IPT writes.
GBIF_DIALECT = Dialect(name="gbif", enclosure="")
# FULL: tab separated, RFC 4180 quoting of values that need it; lossless.
FULL_DIALECT = Dialect(name="full", enclosure='"')
DIALECTS = {GBIF_DIALECT.name: GBIF_DIALECT, FULL_DIALECT.name: FULL_DIALECT}


def dialect_for_profile(profile: str) -> Dialect:
    """The gbif profile is written in the GBIF dialect, the full profile in the lossless one."""
    return GBIF_DIALECT if profile == "gbif" else FULL_DIALECT


class TabularError(Exception):
    """A data file cannot be read further; `finding` says where and why."""

    def __init__(self, finding: Finding):
        super().__init__(str(finding))
        self.finding = finding


# --------------------------------------------------------------------------------------------
# Writing


_SCRUB = str.maketrans({"\t": " ", "\r": " ", "\n": " ", "\x00": None})


class TableWriter:
    """Writes one data file: a header row, then rows of already formatted string values.

    UTF-8 without BOM, `\\n` line ends. The GBIF dialect scrubs TAB/CR/LF to a space; the FULL
    dialect quotes any value holding the delimiter, the quote, CR or LF and doubles inner quotes.
    """

    def __init__(self, stream: BinaryIO, dialect: Dialect):
        if dialect.delimiter != "\t" or dialect.line_terminator != "\n" or dialect.encoding.upper() != "UTF-8":
            raise ValueError("TableWriter writes tab-separated UTF-8 with \\n line ends only")
        self._stream = stream
        self._quote = dialect.enclosure
        self._width: int | None = None
        self.rows_written = 0

    def write_header(self, names: Sequence[str]) -> None:
        if self._width is not None:
            raise ValueError("the header is already written")
        self._width = len(names)
        self._write(names)

    def write_row(self, values: Sequence[str]) -> None:
        if self._width is None:
            raise ValueError("write the header first")
        if len(values) != self._width:
            raise ValueError(f"row has {len(values)} values, the header has {self._width}")
        self._write(values)
        self.rows_written += 1

    def _write(self, values: Sequence[str]) -> None:
        if self._quote:
            cells = [self._quoted(value) for value in values]
        else:
            cells = [value.translate(_SCRUB) for value in values]
        self._stream.write(("\t".join(cells) + "\n").encode("utf-8"))

    def _quoted(self, value: str) -> str:
        if "\x00" in value:
            raise ValueError("a NUL character cannot be written to a data file")
        quote = self._quote
        if "\t" in value or "\n" in value or "\r" in value or quote in value:
            return quote + value.replace(quote, quote + quote) + quote
        return value


# --------------------------------------------------------------------------------------------
# Reading

FindingCallback = Callable[[Finding], None]


class _Incomplete(Exception):
    """The record text ends inside a quoted value: it continues on the next physical line."""


class _QuotingError(Exception):
    def __init__(self, column: int, message: str):
        super().__init__(message)
        self.column = column


def split_quoted(text: str, delimiter: str, quote: str) -> list[str]:
    """Split one record of an RFC 4180 style file (quoted values may hold delimiters and newlines)."""
    values: list[str] = []
    position, end = 0, len(text)
    while True:
        column = len(values) + 1
        if text.startswith(quote, position):
            search = position + 1
            while True:
                closing = text.find(quote, search)
                if closing < 0:
                    raise _Incomplete
                if text.startswith(quote, closing + 1):
                    search = closing + 2
                    continue
                break
            values.append(text[position + 1 : closing].replace(quote + quote, quote))
            position = closing + 1
            if position == end:
                return values
            if text[position] != delimiter:
                raise _QuotingError(column, f"characters after the closing {quote} of a quoted value")
            position += 1
        else:
            next_delimiter = text.find(delimiter, position)
            value = text[position:] if next_delimiter < 0 else text[position:next_delimiter]
            if quote in value:
                raise _QuotingError(column, f"{quote} inside an unquoted value (quote it and double the {quote})")
            values.append(value)
            if next_delimiter < 0:
                return values
            position = next_delimiter + 1
        if position == end:  # the record ends with a delimiter: one more, empty value
            values.append("")
            return values


def split_complete(text: str, delimiter: str, quote: str) -> list[str] | None:
    """split_quoted, or None while a quoted value is still open at the end of `text` (it goes on
    on the next line); a quoting error raises ValueError."""
    try:
        return split_quoted(text, delimiter, quote)
    except _Incomplete:
        return None
    except _QuotingError as error:
        raise ValueError(str(error)) from None


class TableReader:
    """Streams the records of one data file, checking the text format as it goes.

    `width` is the declared column count (max index + 1 in meta.xml); rows of another width
    are reported and not yielded, so every yielded row has exactly `width` values.
    """

    def __init__(
        self,
        stream: BinaryIO,
        dialect: Dialect,
        *,
        member: str,
        width: int | None = None,
        on_finding: FindingCallback | None = None,
    ):
        self._stream = (
            stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(_RawAdapter(stream), 1 << 20)
        )
        self.dialect = dialect
        self.member = member
        self.width = width
        self._report = on_finding or (lambda finding: None)
        self.max_field = configured("MAX_FIELD_BYTES", MAX_FIELD_BYTES)
        self.max_record = configured("MAX_RECORD_BYTES", MAX_RECORD_BYTES)
        self.max_columns = configured("MAX_COLUMNS", MAX_COLUMNS)
        self.header: list[str] | None = None
        self.records = 0  # data records yielded
        self._line = 0  # physical lines consumed
        self._records_left: Iterator[tuple[int, list[str] | None]] | None = None
        self._check_dialect()
        self._delimiter_byte = dialect.delimiter.encode(self._codec.name)
        self._crlf_declared = dialect.line_terminator == "\r\n"

    # -- settings -----------------------------------------------------------------------------

    def _finding(self, item: int, code: str, severity: Severity, message: str, line=None, column=None) -> Finding:
        return Finding(item, code, severity, message, file=self.member, line=line, column=column)

    def _check_dialect(self) -> None:
        dialect = self.dialect
        try:
            self._codec = codecs.lookup(dialect.encoding)
        except LookupError:
            raise TabularError(
                self._finding(
                    17,
                    "ENCODING_UNKNOWN",
                    Severity.LOCAL,
                    f"unknown encoding {dialect.encoding!r} declared in meta.xml",
                )
            ) from None
        # Lines are split on the byte b"\n": only encodings that write ASCII as ASCII can be split so.
        if "\n\t,;|".encode(self._codec.name, errors="replace") != b"\n\t,;|":
            raise TabularError(
                self._finding(
                    17,
                    "ENCODING_UNSUPPORTED",
                    Severity.LOCAL,
                    f"encoding {dialect.encoding!r} is not ASCII-compatible; use UTF-8",
                )
            )
        if len(dialect.delimiter) != 1:
            raise TabularError(
                self._finding(
                    13,
                    "DELIMITER_UNSUPPORTED",
                    Severity.LOCAL,
                    f"fieldsTerminatedBy must be one character, not {dialect.delimiter!r}",
                )
            )
        if len(dialect.enclosure) > 1:
            raise TabularError(
                self._finding(
                    13,
                    "ENCLOSURE_TOO_LONG",
                    Severity.LOCAL,
                    f"fieldsEnclosedBy must be at most one character, not {dialect.enclosure!r}",
                )
            )
        if dialect.line_terminator not in ("\n", "\r\n"):
            raise TabularError(
                self._finding(
                    13,
                    "LINE_TERMINATOR_UNSUPPORTED",
                    Severity.LOCAL,
                    f"linesTerminatedBy {dialect.line_terminator!r} is not supported; use \\n",
                )
            )
        if dialect.header_lines < 0:
            raise TabularError(
                self._finding(13, "HEADER_LINES_INVALID", Severity.LOCAL, "ignoreHeaderLines is negative")
            )

    # -- physical lines -----------------------------------------------------------------------

    def _read_line(self) -> tuple[bytes, bytes] | None:
        """The next physical line as (content, terminator), or None at the end of the file."""
        raw = self._stream.readline(self.max_record + 1)
        if not raw:
            return None
        self._line += 1
        if len(raw) > self.max_record:
            self._refuse_oversize(raw)
        if self._line == 1 and raw.startswith(UTF8_BOM):
            self._report(
                self._finding(
                    17,
                    "BOM_PRESENT",
                    Severity.LOCAL,
                    "file starts with a UTF-8 byte order mark (the first header is misread)",
                    line=1,
                )
            )
            raw = raw[len(UTF8_BOM) :]
        terminator = b""
        if raw.endswith(b"\n"):
            terminator = b"\r\n" if raw.endswith(b"\r\n") else b"\n"
            raw = raw[: -len(terminator)]
        if b"\x00" in raw:
            column = raw[: raw.index(b"\x00")].count(self._delimiter_byte) + 1
            self._report(
                self._finding(22, "NUL_BYTE", Severity.LOCAL, "NUL byte in the data", line=self._line, column=column)
            )
        if len(raw) >= self.max_columns and raw.count(self._delimiter_byte) >= self.max_columns:
            raise TabularError(
                self._finding(
                    0,
                    "TOO_MANY_COLUMNS",
                    Severity.LOCAL,
                    f"more than {self.max_columns} columns in one row",
                    line=self._line,
                )
            )
        return raw, terminator

    def _check_terminator(self, terminator: bytes) -> None:
        if terminator == b"\r\n" and not self._crlf_declared:
            self._report(
                self._finding(
                    21, "CARRIAGE_RETURN", Severity.LOCAL, "line ends in CRLF; meta.xml declares \\n", line=self._line
                )
            )

    def _refuse_oversize(self, raw: bytes) -> None:
        """Name the column whose value passed the limit, from the part of the line already read."""
        last = raw.rfind(self._delimiter_byte)
        column = raw.count(self._delimiter_byte) + 1
        if len(raw) - last - 1 > self.max_field:
            raise TabularError(
                self._finding(
                    0,
                    "FIELD_TOO_LARGE",
                    Severity.LOCAL,
                    f"a value longer than {self.max_field} bytes",
                    line=self._line,
                    column=column,
                )
            )
        raise TabularError(
            self._finding(
                0, "RECORD_TOO_LARGE", Severity.LOCAL, f"a record longer than {self.max_record} bytes", line=self._line
            )
        )

    def _decode(self, raw: bytes, line: int) -> str | None:
        try:
            return raw.decode(self._codec.name)
        except UnicodeDecodeError as error:
            column = raw[: error.start].count(self._delimiter_byte) + 1
            bad = raw[error.start : min(error.end, error.start + 4)].hex(" ")
            self._report(
                self._finding(
                    17,
                    "ENCODING_INVALID",
                    Severity.LOCAL,
                    f"bytes {bad} are not valid {self.dialect.encoding} (the encoding meta.xml declares)",
                    line=line,
                    column=column,
                )
            )
            return None

    # -- records ------------------------------------------------------------------------------

    def _records(self) -> Iterator[tuple[int, list[str] | None]]:
        """(first physical line, values) per record; values None when the record was unreadable."""
        quote = self.dialect.enclosure
        delimiter = self.dialect.delimiter
        quote_byte = quote.encode(self._codec.name) if quote else b""
        while True:
            physical = self._read_line()
            if physical is None:
                return
            raw, terminator = physical
            start = self._line
            if not quote or quote_byte not in raw:
                self._check_terminator(terminator)
                if not raw:
                    self._report(self._finding(20, "BLANK_LINE", Severity.LOCAL, "blank line", line=start))
                    continue
                yield start, self._plain_record(raw, start, delimiter)
                continue
            yield start, self._quoted_record(raw, terminator, start, delimiter, quote)

    def _plain_record(self, raw: bytes, start: int, delimiter: str) -> list[str] | None:
        if b"\r" in raw:
            column = raw[: raw.index(b"\r")].count(self._delimiter_byte) + 1
            self._report(
                self._finding(
                    21,
                    "CARRIAGE_RETURN",
                    Severity.LOCAL,
                    "carriage return inside a line (CR line ends or a CR in a value)",
                    line=start,
                    column=column,
                )
            )
        if len(raw) > self.max_field:
            self._check_field_sizes(raw.split(self._delimiter_byte), start)
        text = self._decode(raw, start)
        if text is None:
            return None
        values = text.split(delimiter)
        if not self.dialect.enclosure and '"' in text:
            for column, value in enumerate(values, 1):
                if value.startswith('"'):
                    self._report(
                        self._finding(
                            23,
                            "LEADING_QUOTE",
                            Severity.WARNING,
                            'value starts with " in a file declared without quoting (readers that ignore '
                            "fieldsEnclosedBy misread it)",
                            line=start,
                            column=column,
                        )
                    )
        return values

    def _quoted_record(self, raw: bytes, terminator: bytes, start: int, delimiter: str, quote: str) -> list[str] | None:
        text = self._decode(raw, start)
        if text is None:
            return None
        size = len(raw)
        while True:
            try:
                values = split_quoted(text, delimiter, quote)
                break
            except _Incomplete:
                # The line break belongs to a quoted value, whatever it is made of.
                physical = self._read_line()
                if physical is None or not terminator:
                    self._report(
                        self._finding(
                            22,
                            "QUOTING_INVALID",
                            Severity.LOCAL,
                            f"quoted value opened and never closed (missing {quote})",
                            line=start,
                        )
                    )
                    return None
                more, next_terminator = physical
                size += len(more) + len(terminator)
                if size > self.max_record:
                    raise TabularError(
                        self._finding(
                            0,
                            "RECORD_TOO_LARGE",
                            Severity.LOCAL,
                            f"a quoted record longer than {self.max_record} bytes",
                            line=start,
                        )
                    ) from None
                decoded = self._decode(more, self._line)
                if decoded is None:
                    return None
                text += terminator.decode("ascii") + decoded
                terminator = next_terminator
            except _QuotingError as error:
                self._report(
                    self._finding(22, "QUOTING_INVALID", Severity.LOCAL, str(error), line=start, column=error.column)
                )
                return None
        self._check_terminator(terminator)
        if size > self.max_field:
            self._check_field_sizes([value.encode("utf-8") for value in values], start)
        return values

    def _check_field_sizes(self, cells: list[bytes], line: int) -> None:
        for column, cell in enumerate(cells, 1):
            if len(cell) > self.max_field:
                raise TabularError(
                    self._finding(
                        0,
                        "FIELD_TOO_LARGE",
                        Severity.LOCAL,
                        f"a value longer than {self.max_field} bytes",
                        line=line,
                        column=column,
                    )
                )

    def read_header(self) -> list[str] | None:
        """Consume the declared header lines (once); returns the last one, the column names."""
        if self._records_left is not None:
            return self.header
        self._records_left = self._records()
        for _ in range(self.dialect.header_lines):
            entry = next(self._records_left, None)
            if entry is None:
                break
            line, values = entry
            if values is not None:
                self.header = values
        # the last header line names the columns; earlier ones (a title) may have any width
        if self.header is not None and self.width is not None and len(self.header) != self.width:
            self._report(
                self._finding(
                    19,
                    "HEADER_COLUMN_MISMATCH",
                    Severity.LOCAL,
                    f"header has {len(self.header)} columns, meta.xml declares {self.width}",
                    line=line,
                )
            )
        return self.header

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        self.read_header()
        width = self.width
        for line, values in self._records_left:
            if values is None:
                continue
            if width is not None and len(values) != width:
                self._report(
                    self._finding(
                        18,
                        "COLUMN_MISMATCH",
                        Severity.BLOCKING,
                        f"row has {len(values)} columns, meta.xml declares {width}",
                        line=line,
                    )
                )
                continue
            self.records += 1
            yield line, values


class _RawAdapter(io.RawIOBase):
    """Lets any binary file object sit under an io.BufferedReader (fast C readline)."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
