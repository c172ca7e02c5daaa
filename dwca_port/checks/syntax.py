"""Parsing single values by their syntax. Each parser returns the parsed value or raises
ValueError with a short reason; callers turn that into a Finding."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from dwca_port.values import Kind, parse_value

UUID_PATTERN = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_YEAR_OR_MONTH = re.compile(r"(\d{4})(?:-(\d{2}))?")
_WHITESPACE = re.compile(r"\s")
_MIME = re.compile(r"[a-z]+/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*")


@dataclass(frozen=True)
class DateRange:
    """An ISO 8601 date, date-time or interval, reduced to what checks need."""

    start: dt.date
    end: dt.date
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None


def _instant(text: str) -> tuple[dt.date, dt.date, dt.datetime | None]:
    """A single date or date-time: (first day, last day, exact time when given)."""
    if "T" in text:
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a valid ISO 8601 date-time") from None
        return moment.date(), moment.date(), moment
    if _DATE.fullmatch(text):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a valid calendar date") from None
        return day, day, None
    match = _YEAR_OR_MONTH.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is not an ISO 8601 date")
    year = int(match.group(1))
    if match.group(2) is None:
        return dt.date(year, 1, 1), dt.date(year, 12, 31), None
    month = int(match.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"{text!r} has no month {month}")
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return dt.date(year, month, 1), following - dt.timedelta(days=1), None


@functools.lru_cache(maxsize=4096)  # the same nights and sessions recur on many rows
def parse_event_date(value: str) -> DateRange:
    """ISO 8601 date, date-time or interval `start/end` (the end may omit leading parts: 2024-06-15/16)."""
    if value.count("/") > 1:
        raise ValueError("more than one / in an interval")
    if "/" not in value:
        first, last, moment = _instant(value)
        return DateRange(first, last, moment, moment)
    start_text, end_text = value.split("/")
    if not start_text or not end_text:
        raise ValueError("open-ended interval")
    if "T" not in end_text and len(end_text) < len(start_text.split("T")[0]):
        end_text = start_text.split("T")[0][: -len(end_text)] + end_text
    start, _, start_time = _instant(start_text)
    _, end, end_time = _instant(end_text)
    if start_time and end_time and (start_time.tzinfo is None) == (end_time.tzinfo is None):
        if start_time > end_time:
            raise ValueError("interval ends before it starts")
    elif start > end:
        raise ValueError("interval ends before it starts")
    return DateRange(start, end, start_time, end_time)


def parse_uri(value: str) -> str:
    if _WHITESPACE.search(value):
        raise ValueError("URI contains whitespace")
    parts = urlsplit(value)
    if not parts.scheme or not (parts.netloc or parts.scheme in ("urn", "mailto", "doi", "data")):
        raise ValueError("not an absolute URI")
    if parts.scheme in ("http", "https") and not parts.hostname:
        raise ValueError("HTTP URI without a host")
    return value


def parse_mime_type(value: str) -> str:
    if not _MIME.fullmatch(value):
        raise ValueError("not a MIME type such as image/jpeg")
    return value


_FAST_PATTERNS = {
    Kind.UUID: UUID_PATTERN,
    Kind.INTEGER: re.compile(r"-?\d+"),
    Kind.DECIMAL: re.compile(r"-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?"),
    Kind.BOOLEAN: re.compile(r"true|false"),
}
_FAST_CONVERTERS = {
    Kind.DATETIME: (
        re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}:\d{2})?"),
        dt.datetime.fromisoformat,
    ),
    Kind.DATE: (_DATE, dt.date.fromisoformat),
}


def kind_parser(kind: Kind) -> Callable[[str], object] | None:
    """The syntax check of a declared column: the importer's own parser (dwca_port.values), so the
    validator accepts exactly what the import can read; event dates and URIs, which the importer
    keeps as text, are checked here. None for free text.

    Millions of values go through this, so the common well-formed shapes take a fast path that
    accepts only what parse_value accepts too; anything else goes to parse_value itself."""
    if kind is Kind.TEXT:
        return None
    if kind is Kind.EVENT_DATE:
        return parse_event_date
    if kind is Kind.URI:
        return parse_uri
    slow = functools.partial(parse_value, kind)
    pattern = _FAST_PATTERNS.get(kind)
    if pattern is not None:
        match = pattern.fullmatch

        def check(value: str) -> object:
            return value if match(value) else slow(value)

        return check
    if kind in _FAST_CONVERTERS:
        shape, convert = _FAST_CONVERTERS[kind]

        def check_and_convert(value: str) -> object:
            if shape.fullmatch(value):
                try:
                    return convert(value)
                except ValueError:
                    pass
            return slow(value)

        return check_and_convert
    return slow


# The SQL twins of the fast shapes above (DuckDB, RE2), for the columnar fast path of validation. Each
# holds only on values kind_parser accepts (RE2's [0-9] is narrower than Python's \d, never wider);
# a value outside them is not refused, only handed to kind_parser itself.
_SQL_MONTH_DAY = "-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_SQL_DATE = "[1-9][0-9]{3}" + _SQL_MONTH_DAY
_SQL_TIME = r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
_SQL_JSON_NUMBER = r"-?(0|[1-9][0-9]{0,17})(\.[0-9]+)?([eE][-+]?[0-9]{1,2})?"
_SQL_SHAPES = {
    Kind.UUID: "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    Kind.INTEGER: "-?[0-9]+",
    Kind.DECIMAL: r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?",
    Kind.BOOLEAN: "true|false",
    Kind.DATE: _SQL_DATE,
    Kind.DATETIME: f"({_SQL_DATE}{_SQL_TIME}([+-]([01][0-9]|2[0-3]):[0-5][0-9])?"
    # UTC as Z: parse_value converts it to the local zone, which must not pass year 9999
    f"|(?:1[0-9]{{3}}|[2-8][0-9]{{3}}|9[0-8][0-9]{{2}}|99[0-8][0-9]|999[0-8]){_SQL_MONTH_DAY}{_SQL_TIME}Z)",
    # http(s) with a plain host and printable ASCII after it, no brackets or backslash: urlsplit finds the host
    Kind.URI: r"https?://[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]{1,5})?([/?#][!-Z^-~]*)?",
    # a flat array of numbers as jsonb prints it (a detection's bounding box); integers short of
    # Python's 4,300-digit limit on int(), exponents short of a double's range
    Kind.JSON: rf"\[({_SQL_JSON_NUMBER}(, {_SQL_JSON_NUMBER})*)?\]",
}


def sql_shape(kind: Kind, column: str) -> str | None:
    """SQL true only where kind_parser(kind) accepts the (non-empty) value of `column`; None: no SQL form."""
    if kind is Kind.TEXT:
        return "true"
    pattern = _SQL_SHAPES.get(kind)
    if pattern is None:
        return None
    shape = f"regexp_full_match({column}, '{pattern}')"
    if kind is Kind.DECIMAL:  # past float8 (1e400) the parser refuses it
        shape += f" AND isfinite(try_cast({column} AS DOUBLE))"
    if kind in (Kind.DATE, Kind.DATETIME):  # the calendar: no 31 April
        shape += f" AND try_cast(substr({column}, 1, 10) AS DATE) IS NOT NULL"
    return shape
