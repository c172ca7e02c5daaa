"""A Table Schema field's rules on one cell as SQL conditions (DuckDB), for the fast path of the
package check (columnar.py): one function per kind of rule (type, required, enum, pattern, bounds).

Each condition is one-sided: where it holds, frictionless's cell reader surely finds nothing in the
cell (it is stricter, never looser). Where it does not hold, or a rule has no condition (None),
the column's distinct values go through frictionless's own cell reader, which decides. A type or
format without a condition raises NotProven: the package goes to frictionless whole.

The cells are as the CSV holds them (text, never NULL, no line break: columnar.py refuses those).
"""

from __future__ import annotations

import re
from decimal import Decimal

import frictionless

from dwca_port.fast_path import NotProven

# Number and integer cells as Python's Decimal() and int() surely read them (frictionless strips
# spaces first; these take none). Longer integers and exponents are left to the reader: int() has
# a digit limit, Decimal() an exponent limit.
NUMBER = r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]{1,4})?"
INTEGER = r"-?[0-9]{1,18}"
# strptime directives as fixed-width text that datetime.strptime surely reads (it also takes one
# digit for most, lowercase letters, several spaces...), and whether a directive is part of the date.
DIRECTIVES = {
    "Y": "[1-9][0-9]{3}",
    "m": "0[1-9]|1[0-2]",
    "d": "0[1-9]|[12][0-9]|3[01]",
    "H": "[01][0-9]|2[0-3]",
    "M": "[0-5][0-9]",
    "S": "[0-5][0-9]",
    "z": "Z|[+-]([01][0-9]|2[0-3]):?[0-5][0-9]",  # timezone() takes under 24 hours
}
WIDTHS = {"Y": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2}
# Literal characters of a date format that mean themselves in both regular expression dialects.
LITERAL = re.compile(r"[A-Za-z0-9 :/,_-]")
# A pattern whose every part means the same to RE2 (DuckDB) and to Python's re (frictionless):
# characters, escaped punctuation, classes of them, groups, alternatives, repetitions.
PLAIN_PATTERN = re.compile(
    r"""(?:
        \\[^0-9A-Za-z]                          # escaped punctuation: itself
      | \[\^?(?:[^\\\[\]]|\\[^0-9A-Za-z])+\]    # a class of characters and ranges
      | \{[0-9]+(?:,[0-9]*)?\}                  # a counted repetition
      | \((?!\?) | \(\?:                         # a group (one that captures, or not); no other (?
      | [^\\\[\]{}(]                            # any other character, metacharacters included
    )*""",
    re.VERBOSE,
)
# The rules of a cell with a SQL form here (unique is the table's: columnar.py).
HANDLED = {"required", "unique", "enum", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}
POSSESSIVE = re.compile(r"[*+?}]\+")  # Python 3.11's possessive repetitions: RE2 reads them otherwise


def text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def one_of(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(map(text, values))})" if values else "false"


def missing_values(field: frictionless.Field) -> list[str]:
    """The cells that read as missing: the field's own list, else its schema's (as the cell reader)."""
    if field.has_defined("missing_values") or field.schema is None:
        return list(field.missing_values)
    return list(field.schema.missing_values)


def cell_passes(field: frictionless.Field, column: str) -> str | None:
    """SQL true where the cell surely passes every rule of the field; None when some rule has no
    SQL form (every value goes through the cell reader)."""
    present = [type_sql(field, column), enum_sql(field, column), pattern_sql(field, column), *bounds_sql(field, column)]
    if any(condition is None for condition in present) or set(field.constraints) - HANDLED:
        return None
    missing = one_of(column, missing_values(field))
    when_missing = "false" if field.required else "true"
    return f"coalesce(CASE WHEN {missing} THEN {when_missing} ELSE ({' AND '.join(present)}) END, false)"


def type_sql(field: frictionless.Field, column: str) -> str:
    """A present cell has the field's type (and format)."""
    kind, form = field.type, field.format
    if kind == "any" or (kind == "string" and form == "default"):
        return "true"
    if kind == "boolean":
        return one_of(column, [*field.true_values, *field.false_values])
    if kind in ("number", "integer") and form == "default" and not _number_options(field):
        return f"regexp_full_match({column}, {text(NUMBER if kind == 'number' else INTEGER)})"
    if kind == "datetime" and form not in ("default", "any"):
        return date_format_sql(form, column)
    if kind == "datetime" and form == "default":  # dateutil's isoparse, as frictionless reads it
        return date_format_sql("%Y-%m-%dT%H:%M:%S%z", column, zone_optional=True)
    if kind == "date" and form != "any":
        return date_format_sql("%Y-%m-%d" if form == "default" else form, column)
    raise NotProven  # a type or format the fast path does not know


def _number_options(field: frictionless.Field) -> bool:
    """Options that change how numbers are read (groups, decimal mark, bare numbers, floats)."""
    return bool({"group_char", "decimal_char", "bare_number", "float_number"} & set(field.list_defined()))


def date_format_sql(form: str, column: str, zone_optional: bool = False) -> str:
    """The cell is text strptime surely reads with `form`, and names a day of the calendar."""
    pattern, offsets, offset, seen = "", {}, 1, set()  # offset: 1-based, None past a part of varying width
    for part in re.split(r"(%.)", form):
        if not part:
            continue
        if part == "%%":
            pattern, offset = pattern + "%", offset + 1 if offset else None
        elif part.startswith("%"):
            directive = part[1]
            if directive not in DIRECTIVES or directive in seen:  # strptime refuses a repeated one
                raise NotProven
            seen.add(directive)
            optional = "?" if directive == "z" and zone_optional else ""
            pattern += f"({DIRECTIVES[directive]}){optional}"
            offsets[directive] = offset
            offset = offset + WIDTHS[directive] if offset and directive in WIDTHS else None
        elif all(LITERAL.fullmatch(character) for character in part):
            pattern += part
            offset = offset + len(part) if offset else None
        else:
            raise NotProven
    condition = f"regexp_full_match({column}, {text(pattern)})"
    if seen & set("Ymd"):
        year, month, day = (offsets.get(directive) for directive in "Ymd")
        if None in (year, month, day):  # a part strptime fills in, or not at a fixed place: not checked here
            raise NotProven
        day_of_calendar = (
            f"substr({column}, {year}, 4) || '-' || substr({column}, {month}, 2) || '-' || substr({column}, {day}, 2)"
        )
        condition += f" AND TRY_CAST({day_of_calendar} AS DATE) IS NOT NULL"
    return condition


def enum_sql(field: frictionless.Field, column: str) -> str | None:
    enum = field.constraints.get("enum")
    if enum is None:
        return "true"
    if field.type != "string":
        return None  # values compare as their type: for the cell reader
    return one_of(column, [value for value in enum if isinstance(value, str)])


def pattern_sql(field: frictionless.Field, column: str) -> str | None:
    """frictionless matches ^pattern$ with Python's re; RE2 takes a plain pattern alike, and a full
    match there is a match in Python (whose $ also takes a last line break)."""
    pattern = field.constraints.get("pattern")
    if pattern is None:
        return "true"
    if not PLAIN_PATTERN.fullmatch(pattern) or POSSESSIVE.search(pattern):
        return None  # lookarounds, classes like \d (wider in Python), back references...: for the reader
    return f"regexp_full_match({column}, {text(pattern)})"


def bounds_sql(field: frictionless.Field, column: str) -> list[str | None]:
    """minimum, maximum and the exclusive ones. A number is compared as a double: a strict
    comparison of two correctly rounded doubles holds of the exact values too; a tie is left to
    the cell reader, which compares Decimals."""
    comparisons = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
    found = []
    for name, operator in comparisons.items():
        if name not in field.constraints:
            continue
        bound = field.create_value_reader()(field.constraints[name])
        if field.type == "integer" and isinstance(bound, int) and abs(bound) < 1 << 62:
            found.append(f"TRY_CAST({column} AS BIGINT) {operator} {bound}")
        elif field.type == "number" and isinstance(bound, Decimal | int) and Decimal(bound).is_finite():
            found.append(f"TRY_CAST({column} AS DOUBLE) {operator[0]} CAST({text(str(bound))} AS DOUBLE)")
        elif bound is None:
            raise NotProven  # frictionless cannot read the bound itself
        else:
            found.append(None)
    return found
