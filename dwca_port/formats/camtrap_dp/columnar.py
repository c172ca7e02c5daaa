"""The fast path of the package check: proves with DuckDB that a package's CSV files hold nothing
frictionless would report (validate.py's check_tables), or answers "not proven" and frictionless
runs as ever. It never reports anything itself, so the findings are frictionless's by construction.

What it proves, from the Table Schemas frictionless reads (never from a column's name):
- the files are read alike: each resource is plain UTF-8 CSV as the package declares it (no
  dialect, compression or declared sizes of its own), frictionless's dialect sniffing on the first
  lines (its CSV parser's) gives the comma and the double quote, the header is the schema's field
  names in order (frictionless matches fields by position), and every line is one record of
  exactly the schema's width, each value bare or quoted RFC 4180 style, with no line break or
  carriage return inside: Python's csv module and DuckDB split such lines alike;
- each cell passes its field's rules (cell_sql.py: type, required, enum, pattern, bounds); values
  SQL cannot vouch for go through frictionless's own cell reader, once per distinct value;
- no row is blank, unique fields and primary keys repeat no value, and every foreign key finds
  its row (media and observations to deployments, observations to media).
Anything else (another dialect, an odd line, a type or format without a SQL form, a read error)
is "not proven". DuckDB works under a memory limit, spilling to disk (fast_path.py).
"""

from __future__ import annotations

import codecs
import copy
import csv
import io
import itertools
from pathlib import Path

import frictionless

from dwca_port.fast_path import DUCKDB_ERRORS, NotProven, scratch_connection
from dwca_port.formats.camtrap_dp.cell_sql import cell_passes, missing_values, one_of, text

# What frictionless's CSV parser sniffs the dialect from (formats/csv/parser.py).
SAMPLE_LINES = 100
SNIFFED_DELIMITERS = ",\t;|"
# The properties of a resource the fast path knows frictionless reads alike: any other (a dialect,
# compression, declared bytes or hash...) and the resource is not proven.
RESOURCE_KEYS = {"name", "path", "profile", "format", "mediatype", "encoding", "schema", "title", "description"}
# One CSV value with neither line break, carriage return nor NUL: bare, or quoted with doubled quotes.
VALUE = r'([^",\r\x00]*|"([^"\r\x00]|"")*")'
FETCH = 10_000
CHUNK = 1 << 20


def prove_clean(folder: Path, resources: list[dict]) -> bool:
    """True when frictionless would find nothing in the rows of `resources` (as validate.py gives
    them, their headers already checked); False: not proven."""
    try:
        # frictionless may complete the descriptors it is given: validate.py's stay as they are
        package = frictionless.Package({"resources": copy.deepcopy(resources)}, basepath=str(folder))
        tables, schemas = {}, {resource.name: resource.schema for resource in package.resources}
        with scratch_connection("camtrap-validate-") as (connection, _):
            for position, (declared, resource) in enumerate(zip(resources, package.resources, strict=True)):
                tables[resource.name] = _load(connection, folder, declared, resource, f"t{position}")
            for resource in package.resources:
                _cells(connection, resource.schema, tables[resource.name])
                _unique(connection, resource.schema, tables[resource.name])
                _references(connection, resource.name, schemas, tables)
        # the metadata frictionless checks before any row (last here: rows fail more often)
        package.to_descriptor(validate=True)
        for resource in package.resources:
            resource.to_descriptor(validate=True)
    except (NotProven, frictionless.FrictionlessException, OSError, UnicodeError, csv.Error, *DUCKDB_ERRORS):
        return False
    return True


def _load(connection, folder: Path, declared: dict, resource: frictionless.Resource, table: str) -> str:
    """The rows of the resource's file into `table` (one text column per field, c0, c1...)."""
    _plain_csv(declared)
    path = (folder / declared["path"]).resolve()
    if any(character in str(path) for character in "*?[{"):  # DuckDB would read them as a glob
        raise NotProven
    _decoded_strictly(path)
    sample = _first_lines(path)
    _sniffed_as_comma_separated(sample)
    if next(csv.reader(sample), []) != resource.schema.field_names:  # frictionless matches fields by position
        raise NotProven
    width = len(resource.schema.fields)
    source = text(str(path))
    line = f"{VALUE}(,{VALUE}){{{width - 1}}}" if width > 1 else VALUE
    lines, odd = connection.execute(
        f"SELECT count(*), count(*) FILTER (WHERE NOT coalesce(regexp_full_match(line, {text(line)}), false)) "
        f"FROM read_csv({source}, columns = {{'line': 'VARCHAR'}}, delim = '\x01', quote = '', escape = '', "
        "header = false, auto_detect = false, strict_mode = true, new_line = '\\n')"
    ).fetchone()
    if odd:  # a blank line (a blank row to frictionless) is odd too: DuckDB reads it as NULL
        raise NotProven
    columns = ", ".join(f"'c{index}': 'VARCHAR'" for index in range(width))
    values = ", ".join(f"coalesce(c{index}, '') AS c{index}" for index in range(width))  # DuckDB reads '' as NULL
    connection.execute(
        f"CREATE TABLE {table} AS SELECT {values} FROM read_csv({source}, columns = {{{columns}}}, delim = ',', "
        "quote = '\"', escape = '\"', header = false, skip = 1, auto_detect = false, strict_mode = true, "
        "null_padding = false, new_line = '\\n')"
    )
    (rows,) = connection.execute(f"SELECT count(*) FROM {table}").fetchone()
    if rows != lines - 1:  # one record per line, the header first
        raise NotProven
    return table


def _plain_csv(declared: dict) -> None:
    """The resource declares nothing that changes how frictionless reads its file."""
    path = declared.get("path")
    if (
        set(declared) - RESOURCE_KEYS
        or declared.get("profile") != "tabular-data-resource"
        or declared.get("format") != "csv"
        or not _utf8(declared.get("encoding"))
        or not isinstance(path, str)
        or not path.endswith(".csv")  # a .gz or .zip is decompressed by frictionless
        or ":" in path  # a URL is fetched
    ):
        raise NotProven


def _utf8(encoding) -> bool:
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except (LookupError, TypeError):
        return False


def _decoded_strictly(path: Path) -> None:
    """The whole file is UTF-8 as Python decodes it (frictionless's reader would stop on an error),
    without carriage return or NUL (which Python's csv module and DuckDB read differently)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            if b"\r" in chunk or b"\x00" in chunk:
                raise NotProven
            decoder.decode(chunk)
        decoder.decode(b"", final=True)


def _first_lines(path: Path) -> list[str]:
    """The lines frictionless's CSV parser samples (a byte order mark: not proven)."""
    with path.open("rb") as stream:
        if stream.read(3) == codecs.BOM_UTF8:
            raise NotProven
        stream.seek(0)
        return list(itertools.islice(io.TextIOWrapper(stream, "utf-8", newline=""), SAMPLE_LINES))


def _sniffed_as_comma_separated(sample: list[str]) -> None:
    """frictionless guesses the dialect from its sample (csv.Sniffer): it must find the comma and
    the double quote, as DuckDB reads here."""
    try:
        dialect = csv.Sniffer().sniff("".join(sample), SNIFFED_DELIMITERS)
    except csv.Error:
        dialect = csv.excel
    quote = '"' if dialect.quotechar == "'" else dialect.quotechar  # frictionless's own correction
    if dialect.delimiter != "," or quote != '"' or dialect.skipinitialspace or dialect.escapechar:
        raise NotProven


def _cells(connection, schema: frictionless.Schema, table: str) -> None:
    """Every cell passes its field's rules, and no row is blank (all its cells missing)."""
    fields = list(schema.fields)
    passes = [cell_passes(field, f"c{index}") for index, field in enumerate(fields)]
    blank = " AND ".join(one_of(f"c{index}", missing_values(field)) for index, field in enumerate(fields))
    counts = [f"count(*) FILTER (WHERE {blank})"]
    counts += [f"count(*) FILTER (WHERE NOT {condition})" for condition in passes if condition is not None]
    blank_rows, *failing = connection.execute(f"SELECT {', '.join(counts)} FROM {table}").fetchone()
    if blank_rows:
        raise NotProven
    failing = iter(failing)
    for index, (field, condition) in enumerate(zip(fields, passes, strict=True)):
        if condition is not None and not next(failing):
            continue
        where = f" WHERE NOT {condition}" if condition is not None else ""
        read = field.create_cell_reader()
        result = connection.execute(f"SELECT DISTINCT c{index} FROM {table}{where}")
        while batch := result.fetchmany(FETCH):
            for (value,) in batch:
                _, notes = read(value)
                if notes:
                    raise NotProven


def _key(schema: frictionless.Schema, names: list[str], alias: str = "") -> list[str]:
    """SQL of a key's values as frictionless compares them: the text, NULL when missing. Only text
    fields: other types compare as values (1 and 1.0), which text equality does not say."""
    found = []
    for name in names:
        field = schema.get_field(name)
        if field.type not in ("string", "any") or field.type == "string" and field.format != "default":
            raise NotProven
        column = f"{alias}c{schema.field_names.index(name)}"
        found.append(f"CASE WHEN {one_of(column, missing_values(field))} THEN NULL ELSE {column} END")
    return found


def _unique(connection, schema: frictionless.Schema, table: str) -> None:
    """Unique fields and the primary key repeat no value; a primary key is never all missing."""
    keys = [[field.name] for field in schema.fields if field.constraints.get("unique")]
    if schema.primary_key:
        keys.append(list(schema.primary_key))
        primary = _key(schema, schema.primary_key)
        (missing,) = connection.execute(
            f"SELECT count(*) FROM {table} WHERE {' AND '.join(f'{value} IS NULL' for value in primary)}"
        ).fetchone()
        if missing:
            raise NotProven
    for names in keys:
        values = _key(schema, names)
        (repeated,) = connection.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE NOT ({' AND '.join(f'{v} IS NULL' for v in values)}) "
            f"GROUP BY {', '.join(values)} HAVING count(*) > 1)"
        ).fetchone()
        if repeated:
            raise NotProven


def _references(connection, name: str, schemas: dict[str, frictionless.Schema], tables: dict[str, str]) -> None:
    """Every foreign key of resource `name` that is not all missing finds a row of the resource it
    refers to (compared as tuples, in which missing equals missing: frictionless's lookup)."""
    for foreign in schemas[name].foreign_keys:
        target = foreign["reference"]["resource"] or name  # "" refers to the resource itself
        if target not in tables:
            raise NotProven
        source = _key(schemas[name], foreign["fields"], "s.")
        found = _key(schemas[target], foreign["reference"]["fields"], "g.")
        if len(source) != len(found):
            raise NotProven
        absent = " AND ".join(f"{value} IS NULL" for value in source)
        matches = " AND ".join(f"{a} IS NOT DISTINCT FROM {b}" for a, b in zip(source, found, strict=True))
        (orphans,) = connection.execute(
            f"SELECT count(*) FROM {tables[name]} s WHERE NOT ({absent}) "
            f"AND NOT EXISTS (SELECT 1 FROM {tables[target]} g WHERE {matches})"
        ).fetchone()
        if orphans:
            raise NotProven
