"""The columnar fast path of validation: proves with DuckDB that an archive's data files hold no
finding, or answers "not proven" so that the precise line-by-line reader runs.

It never reports anything itself, so its findings are the precise reader's by construction: when
it proves a file clean the precise reader would have found nothing there either, and when it
cannot, the precise reader runs and names file, line, column and rule as ever. The same RowChecks
drive both: each rule declares the columns it reads and, where it has one, the SQL condition under
which it passes (rows.py, RuleShape).

Per data file: its bytes are copied once out of the zip into a scratch file while the checks of the
line reader run on them (BOM, NUL, CR, blank lines, strict UTF-8, quotes); DuckDB loads one row per
line, split on the tab. Then, set-wise:
- row rules: the rows their SQL condition does not vouch for (all rows for rules without one) go
  through the Python rule itself, once per distinct combination of the columns it reads;
- uniqueness, references and media pairs: counts and anti-joins, comparing identifiers lowercase,
  which is their key (identifiers.py) once they are canonical UUIDs or printable ASCII that is no
  UUID in another case; anything else is "not proven".
DuckDB holds the rows in a database file on disk under a memory limit: memory stays flat with the
archive's size (the precise reader holds 16 bytes per identifier).
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Sequence

from dwca_port.archive import Archive, ArchiveError, configured
from dwca_port.checks.integrity import plan_references
from dwca_port.checks.rows import RowChecks
from dwca_port.checks.syntax import UUID_PATTERN
from dwca_port.fast_path import DUCKDB_ERRORS, NotProven, scratch_connection
from dwca_port.tables.base import Table
from dwca_port.tabular import MAX_FIELD_BYTES, MAX_RECORD_BYTES, UTF8_BOM, TableReader, TabularError, split_complete

CHUNK = 1 << 20
FETCH = 10_000
_UUID_SQL = UUID_PATTERN.pattern


def _refuse(*_args) -> None:
    raise NotProven


def _canonical(column: str) -> str:
    """SQL: the identifier's key is its lowercase text (a canonical UUID, or ASCII that is no UUID in any case)."""
    # CASE, not OR: DuckDB evaluates both sides of an OR on every row, and most keys are UUIDs
    return (
        f"(CASE WHEN regexp_full_match({column}, '{_UUID_SQL}') THEN true ELSE regexp_full_match({column}, '[ -~]*') "
        f"AND NOT regexp_full_match(lower({column}), '{_UUID_SQL}') END)"
    )


def prove_clean(archive: Archive, checks: Sequence[RowChecks], declarations: dict[str, Table]) -> bool:
    """True when the data files of `checks` hold no finding (row rules, keys, references); False: not proven."""
    reports = [(check, check.report) for check in checks]
    try:
        with scratch_connection("dwca-validate-") as (connection, scratch):
            for check in checks:
                check.report = _refuse  # any finding of a rule: not proven
                _load(connection, archive, check, scratch)
            for check in checks:
                _row_rules(connection, check)
            _keys(connection, checks, declarations)
    except (NotProven, ArchiveError, TabularError, UnicodeDecodeError, *DUCKDB_ERRORS):
        return False
    finally:
        for check, report in reports:
            check.report = report
    return True


def _load(connection, archive: Archive, check: RowChecks, scratch: str) -> None:
    table = check.table
    dialect = table.dialect
    if codecs.lookup(dialect.encoding).name != "utf-8" or dialect.delimiter != "\t" or dialect.line_terminator != "\n":
        raise NotProven
    with archive.open(table.file) as stream:  # the header, as the precise reader reads and checks it
        header = TableReader(stream, dialect, member=table.file, width=table.width, on_finding=_refuse).read_header()
    if header is not None:
        check.check_header(header)
    if dialect.enclosure not in ("", '"'):
        raise NotProven
    path = os.path.join(scratch, f"t{check.position}.txt")
    _copy_checked(archive, table.file, path, dialect.header_lines, dialect.enclosure)
    width = table.width
    names = [f"c{index}" for index in range(width)]
    quote = dialect.enclosure
    schema = ", ".join(f"'{name}': 'VARCHAR'" for name in names)
    empty = ", ".join(f"''::VARCHAR AS {name}" for name in names)
    lines = (
        f"read_csv('{path}', columns = {{{schema}}}, delim = '\t', "
        f"quote = '{quote}', escape = '{quote}', header = false, auto_detect = false, strict_mode = true, "
        "null_padding = false, new_line = '\\n')"
        if os.path.getsize(path)
        else f"(SELECT {empty} WHERE false)"  # a header and no rows
    )
    values = ", ".join(f"coalesce({name}, '') AS {name}" for name in names)  # DuckDB reads '' as NULL
    connection.execute(f"CREATE TABLE t{check.position} AS SELECT {values} FROM {lines}")
    # the raw line, for the rules that read it: computed where read, cheaper than stored
    connection.execute(
        f"CREATE VIEW v{check.position} AS SELECT *, concat_ws('\t', {', '.join(names)}) AS line FROM t{check.position}"
    )
    os.unlink(path)


def _copy_checked(archive: Archive, member: str, path: str, header_lines: int, enclosure: str) -> None:
    """Copy the data lines of `member` to `path` for DuckDB, refusing what the line reader would report.

    Lines without a quote are copied as they are; quoted records are split as the reader splits
    them (split_complete) and written again with every value quoted, which DuckDB reads alike."""
    decoder = codecs.getincrementaldecoder("utf-8")()  # strict, as the reader decodes each line
    refused = (b"\r", b"\x00", b"\n\n", b"\x01")
    limit = min(configured("MAX_FIELD_BYTES", MAX_FIELD_BYTES), configured("MAX_RECORD_BYTES", MAX_RECORD_BYTES) - 1)
    records = _Records(enclosure, limit)
    previous, rest = b"\n", b""  # a blank first line is a blank line too
    skip, first = header_lines, True
    with archive.open(member) as source, open(path, "wb") as target:
        while chunk := source.read(CHUNK):
            if first and chunk.startswith(UTF8_BOM):
                raise NotProven
            first = False
            if any(marker in chunk for marker in refused) or (previous == b"\n" and chunk.startswith(b"\n")):
                raise NotProven
            decoder.decode(chunk)
            previous = chunk[-1:]
            data = rest + chunk
            cut = data.rfind(b"\n") + 1
            data, rest = data[:cut], data[cut:]
            if len(rest) > limit:
                raise NotProven
            while skip and data:
                end = data.find(b"\n") + 1
                if enclosure and enclosure.encode() in data[:end]:  # a quoted header may span lines
                    raise NotProven
                data = data[end:]
                skip -= 1
            target.write(records.feed(data))
        decoder.decode(b"", final=True)
        if rest and not skip:
            target.write(records.feed(rest + b"\n"))
        records.finish()


class _Records:
    """Complete lines in, lines for DuckDB out: quoted records split and quoted again, checked for size."""

    def __init__(self, enclosure: str, limit: int):
        self.quote = enclosure.encode()
        self.enclosure = enclosure
        self.limit = limit
        self.open = ""  # the start of a quoted record that goes on on the next line

    def feed(self, data: bytes) -> bytes:
        if len(data) > self.limit and any(len(line) > self.limit for line in data.split(b"\n")):
            raise NotProven
        if not self.quote or (self.quote not in data and not self.open):
            return data
        lines = data.split(b"\n")[:-1]  # data ends with a line end
        out = []
        for line in lines:
            if not self.open and self.quote not in line:
                out.append(line)
                continue
            text = (self.open + "\n" + line.decode()) if self.open else line.decode()
            if len(text.encode()) > self.limit:
                raise NotProven
            try:
                values = split_complete(text, "\t", self.enclosure)
            except ValueError:  # a quoting error: for the precise reader to explain
                raise NotProven from None
            if values is None:
                self.open = text
                continue
            self.open = ""
            quote = self.enclosure
            out.append("\t".join(quote + value.replace(quote, quote * 2) + quote for value in values).encode())
        return b"".join(line + b"\n" for line in out)

    def finish(self) -> None:
        if self.open:  # a quoted value never closed
            raise NotProven


def _row_rules(connection, check: RowChecks) -> None:
    name, width = f"v{check.position}", check.table.width
    if not check.table.dialect.enclosure:  # LEADING_QUOTE of the reader
        checks = ["line LIKE '\"%' OR contains(line, '\t\"')"]
    else:
        checks = []
    shapes = [(rule, shape) for rule, shape in check.shapes if not shape.collects]
    conditions = checks + [f"NOT ({shape.passes})" for _, shape in shapes if shape.passes]
    counts = connection.execute(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE {condition})" for condition in conditions) + f" FROM {name}"
    ).fetchone()
    if checks and counts[0]:
        raise NotProven
    failing = iter(counts[len(checks) :])
    for rule, shape in shapes:
        if shape.passes is not None and not next(failing):
            continue
        reads = shape.reads if shape.reads is not None else tuple(range(width))
        if not reads:  # reads nothing from the row: one call tells
            rule(0, [""] * width)
            continue
        where = f" WHERE NOT ({shape.passes})" if shape.passes else ""
        result = connection.execute(f"SELECT DISTINCT {', '.join(f'c{i}' for i in reads)} FROM {name}{where}")
        while batch := result.fetchmany(FETCH):
            for row in batch:
                values = [""] * width
                for index, value in zip(reads, row):
                    values[index] = value
                rule(0, values)


def _keys(connection, checks: Sequence[RowChecks], declarations: dict[str, Table]) -> None:
    """Identifiers present, canonical and unique; media pairs unique; every reference found."""
    sources: dict[int, tuple[str, str]] = {}  # id(IdentifierSet) -> (table, column)
    for check in checks:
        name, counts = f"t{check.position}", []
        for identity in check.identities:
            column = f"c{identity.index}"
            sources[id(check.state.identifier_sets[(check.position, identity.index)])] = (name, column)
            if identity.empty:
                counts.append(f"count(*) FILTER (WHERE {column} = '')")
            counts.append(f"count(*) FILTER (WHERE {column} <> '' AND NOT {_canonical(column)})")
            if identity.unique:
                counts.append(
                    f"count(*) FILTER (WHERE {column} <> '') - count(DISTINCT lower({column})) "
                    f"FILTER (WHERE {column} <> '')"
                )
        if check.media_pair_sql:
            holder, media = check.media_pair_sql
            counts.append(f"count(*) - count(DISTINCT {holder} || '\x1f' || {media})")
        if counts and any(connection.execute(f"SELECT {', '.join(counts)} FROM {name}").fetchone()):
            raise NotProven
    keys: dict[tuple[int, ...], str] = {}  # the identifier sets a reference may match -> their keys' table
    for position, references in plan_references(list(checks), declarations).items():
        name = f"t{position}"
        for reference in references:
            column = f"c{reference.index}"
            targets = tuple(id(target) for target in reference.targets)
            if not targets or any(target not in sources for target in targets):
                raise NotProven
            if targets not in keys:
                keys[targets] = f"k{len(keys)}"
                union = " UNION ".join(
                    f"SELECT lower({c}) AS k FROM {t} WHERE {c} <> ''" for t, c in (sources[key] for key in targets)
                )
                connection.execute(f"CREATE TABLE {keys[targets]} AS {union}")
            (missing,) = connection.execute(
                f"SELECT count(*) FROM {name} ANTI JOIN {keys[targets]} ON lower({name}.{column}) = {keys[targets]}.k "
                f"WHERE {name}.{column} <> ''"
            ).fetchone()
            (odd,) = connection.execute(
                f"SELECT count(*) FROM {name} WHERE {column} <> '' AND NOT {_canonical(column)}"
            ).fetchone()
            if missing or odd:
                raise NotProven
