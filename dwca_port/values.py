"""How values are written into archive cells and read back, per `Kind`.

One canonical text per value, the same whichever database it came from: floats and JSON are
written as PostgreSQL prints float8 and jsonb, so that an export made from SQLite and one made
from PostgreSQL are byte-identical, and so that the PostgreSQL fast path (formatting in SQL,
dwca_port/postgres/cells.py) produces exactly what this module produces.

Datetimes in Antenna tables are the database's naive local time, written without an offset
(the archive states the time zone once), which can express the wall times a daylight-saving
change skips (SQLite stores them); of a wall time the change repeats, the earlier reading is
written with its offset (PostgreSQL stores instants: see `repeated_wall_time`).
"""

from __future__ import annotations

import datetime
import enum
import functools
import json
import math
import re
import uuid
from decimal import Decimal, localcontext
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models


class Kind(str, enum.Enum):
    """The syntax of a column's values, as written in the archive."""

    UUID = "uuid"  # lowercase canonical UUID
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"  # a finite number, written as PostgreSQL prints float8
    BOOLEAN = "boolean"  # true / false
    DATETIME = (
        "datetime"  # ISO 8601 date-time: local time without offset (Antenna tables) or with one (Darwin Core terms)
    )
    DATE = "date"  # ISO 8601 calendar date
    EVENT_DATE = "event_date"  # ISO 8601 date, date-time or interval (start/end)
    JSON = "json"  # JSON as PostgreSQL prints jsonb
    URI = "uri"  # an absolute URI


class CellError(ValueError):
    """A cell that cannot be read as its kind; the message says what was expected."""


class Unstorable(CellError):
    """A well-formed value that the target column cannot hold as it is; the message says why."""


# -- writing ----------------------------------------------------------------------------------


def format_float(value: float) -> str:
    """float8 as PostgreSQL (12+) prints it: shortest round-trip digits, exponent form when the
    decimal exponent is below -4 or at least 15, no trailing ".0"."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    sign, digits, exponent = Decimal(_shortest_round_trip(value)).as_tuple()
    digits = list(digits)
    while len(digits) > 1 and digits[-1] == 0:
        digits.pop()
        exponent += 1
    text = "".join(map(str, digits))
    point = len(text) + exponent  # position of the decimal point from the left
    prefix = "-" if sign else ""
    if digits == [0]:
        return prefix + "0"
    decimal_exponent = point - 1
    if decimal_exponent < -4 or decimal_exponent >= 15:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if decimal_exponent < 0 else '+'}{abs(decimal_exponent):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{text}"
    if point >= len(text):
        return prefix + text + "0" * (point - len(text))
    return f"{prefix}{text[:point]}.{text[point:]}"


def _shortest_round_trip(value: float) -> str:
    """The shortest digits that read back as `value`, as PostgreSQL's float8 output (Ryu) picks
    them: Python's repr, except that Ryu never takes digits lying exactly halfway to the next
    double (repr may, when the halfway reading rounds back to `value`)."""
    text = repr(value)
    candidate, exact = Decimal(text), Decimal(value)
    if candidate == exact:
        return text
    neighbour = math.nextafter(value, math.inf if candidate > exact else -math.inf)
    with localcontext(prec=2000):  # a double's exact decimal expansion has at most 767 digits
        halfway = (exact + Decimal(neighbour)) / 2
    if candidate != halfway:
        return text
    for precision in range(len(candidate.as_tuple().digits), 17):
        text = f"{value:.{precision}e}"
        if float(text) == value and Decimal(text) != halfway:
            return text
    return f"{value:.16e}"


def _json_number(value: float) -> str:
    # jsonb keeps numbers as numeric: plain decimal notation, never an exponent.
    if math.isnan(value) or math.isinf(value):
        raise CellError("JSON cannot hold NaN or infinity")
    return format(Decimal(repr(value)), "f")


def canonical_json(value: Any) -> str:
    """JSON as PostgreSQL prints jsonb: keys ordered by length then bytes, ", " and ": " separators."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _json_number(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(canonical_json(item) for item in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda k: (len(k.encode()), k.encode()))
        return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {canonical_json(value[k])}" for k in keys) + "}"
    raise CellError(f"not JSON-serialisable: {type(value).__name__}")


def format_local_datetime(value: datetime.datetime) -> str:
    """Local time without an offset; the earlier reading of a wall time the clocks show twice
    (fold 0: daylight time, as PostgreSQL hands it over) with its offset, because a plain
    repeated time means the later reading (see `repeated_wall_time`)."""
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    text = f"{text}.{value.microsecond:06d}" if value.microsecond else text
    if value.fold == 0 and repeated_wall_time(value):
        offset = value.replace(tzinfo=ZoneInfo(settings.TIME_ZONE)).utcoffset()
        text += _offset_text(offset)
    return text


def _offset_text(offset: datetime.timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# -- local times around daylight-saving changes -------------------------------------------------
#
# Naive local times in settings.TIME_ZONE, as upstream stores them. On the day the clocks go
# back, one hour of wall times happens twice; a plain one in the archive means the later
# (standard-time) reading, which is what PostgreSQL picks for a naive time, and the earlier one
# carries its offset. On the day they go forward, an hour of wall times never happens:
# SQLite stores such a time as it is, PostgreSQL (timestamptz) cannot store it at all.


@functools.lru_cache(maxsize=4096)
def _changes_on(day: datetime.date) -> bool:
    """Whether the local zone's UTC offset changes during `day` (then its times need a closer look)."""
    zone = ZoneInfo(settings.TIME_ZONE)
    start = datetime.datetime.combine(day, datetime.time(0), tzinfo=zone)
    end = datetime.datetime.combine(day, datetime.time(23, 59, 59), tzinfo=zone)
    return start.utcoffset() != end.utcoffset() or start.replace(fold=1).utcoffset() != start.utcoffset()


def _readings(value: datetime.datetime) -> tuple[datetime.timedelta, datetime.timedelta, bool]:
    zone = ZoneInfo(settings.TIME_ZONE)
    first, second = value.replace(tzinfo=zone, fold=0), value.replace(tzinfo=zone, fold=1)
    exists = first.astimezone(datetime.UTC).astimezone(zone).replace(tzinfo=None) == value.replace(fold=0)
    return first.utcoffset(), second.utcoffset(), exists


def repeated_wall_time(value: datetime.datetime) -> bool:
    """A naive local time that the clocks show twice (the hour after they go back)."""
    if not _changes_on(value.date()):
        return False
    first, second, exists = _readings(value)
    return exists and first != second


def skipped_wall_time(value: datetime.datetime) -> bool:
    """A naive local time that never happens (the hour the clocks skip going forward)."""
    if not _changes_on(value.date()):
        return False
    return not _readings(value)[2]


@functools.lru_cache(maxsize=4096)
def _changes_on_text(day: str) -> bool:
    try:
        return _changes_on(datetime.date.fromisoformat(day))
    except ValueError:
        return False


def skipped_wall_time_text(text: str) -> bool:
    """skipped_wall_time of a plain local date-time cell (a cell with an offset names an instant)."""
    if not (len(text) >= 19 and _changes_on_text(text[:10]) and _LOCAL_DATETIME.match(text)):
        return False
    return skipped_wall_time(datetime.datetime.fromisoformat(text))


def format_value(kind: Kind, value: Any) -> str | None:
    """The archive text of a database value; None stays None (an empty cell)."""
    if value is None:
        return None
    if kind is Kind.UUID:
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
    if kind is Kind.INTEGER:
        return str(int(value))
    if kind is Kind.DECIMAL:
        return format_float(float(value))
    if kind is Kind.BOOLEAN:
        return "true" if value else "false"
    if kind is Kind.DATETIME:
        return format_local_datetime(value)
    if kind is Kind.DATE:
        return value.isoformat()
    if kind is Kind.JSON:
        return canonical_json(value)  # JSONField hands back parsed values on every backend
    return str(value)


def with_offset(value: datetime.datetime) -> str:
    """A naive local datetime as ISO 8601 with its UTC offset (for Darwin Core terms)."""
    return _reading(value).isoformat(timespec="microseconds" if value.microsecond else "seconds")


def local_instant(value: datetime.datetime) -> datetime.datetime:
    """The instant a naive local time stands for: what orders and compares times across the hour
    the clocks repeat (naive datetimes compare by wall time, their fold ignored)."""
    return _reading(value).astimezone(datetime.UTC)


def _reading(value: datetime.datetime) -> datetime.datetime:
    """A naive local time in the local zone. A wall time the clocks show twice takes the reading
    its fold names, as format_local_datetime does: from PostgreSQL the instant's own (the offset
    the SQL forms write), from SQLite's text the first. Any other time takes fold 1, which for a
    time the clocks skip (SQLite keeps it) is the offset after the change: no later than the
    times that follow it."""
    fold = value.fold if repeated_wall_time(value) else 1
    return value.replace(tzinfo=ZoneInfo(settings.TIME_ZONE), fold=fold)


# -- reading ------------------------------------------------------------------------------------

_INTEGER = re.compile(r"-?\d+\Z")
_DECIMAL = re.compile(r"-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\Z|NaN\Z|-?Infinity\Z")
_LOCAL_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?\Z")


def parse_value(kind: Kind, text: str | None) -> Any:
    """The database value of an archive cell. Raises CellError with a reason."""
    if text is None or (text == "" and kind is not Kind.TEXT):
        return None
    try:
        if kind is Kind.UUID:
            parsed = uuid.UUID(text)
            if str(parsed) != text.lower() or len(text) != 36:
                raise ValueError
            return parsed
        if kind is Kind.INTEGER:
            if not _INTEGER.match(text):
                raise ValueError
            return int(text)
        if kind is Kind.DECIMAL:
            if not _DECIMAL.match(text):
                raise ValueError
            number = float(text)
            if math.isinf(number) and "Infinity" not in text:
                raise Unstorable("out of range for a double-precision number")
            return number
        if kind is Kind.BOOLEAN:
            if text not in ("true", "false"):
                raise ValueError
            return text == "true"
        if kind is Kind.DATETIME:
            if _LOCAL_DATETIME.match(text):
                local = datetime.datetime.fromisoformat(text)
                # a plain repeated time is the later reading (fold 1), as PostgreSQL reads it
                return local.replace(fold=1) if repeated_wall_time(local) else local
            moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise ValueError
            # (astimezone sets fold: which reading of a repeated wall time the instant is)
            return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).replace(tzinfo=None)
        if kind is Kind.DATE:
            return datetime.date.fromisoformat(text)
        if kind is Kind.JSON:
            return parse_json(text)
    except CellError:
        raise
    except (ValueError, TypeError, OverflowError) as error:
        raise CellError(f"{text[:60]!r} is not a valid {kind.value}") from error
    return text


# -- JSON -------------------------------------------------------------------------------------

# Deeper nesting is refused: Python's parser would exhaust its stack long before PostgreSQL's
# (a RecursionError, not a message), and no Antenna document comes near it.
MAX_JSON_DEPTH = 100
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")
# Characters jsonb cannot hold: NUL and UTF-16 surrogates (a lone one is not a character).
_NOT_IN_JSONB = re.compile("[\x00\ud800-\udfff]")


def _refuse_constant(name: str):
    raise Unstorable(f"JSON holds {name}, which JSON does not define (PostgreSQL's jsonb refuses it)")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # (1E400: it would come back as Infinity, which JSON does not define)
        raise Unstorable(f"JSON holds {text[:40]}, past the range of a double")
    return value


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in a JSON text (strings skipped)."""
    depth = deepest = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def parse_json(text: str) -> Any:
    """A JSON cell as PostgreSQL's jsonb takes it, on every database: nesting at most
    MAX_JSON_DEPTH deep, no NaN or Infinity (nor a number that reads as one), no NUL character or
    lone surrogate in a string."""
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and json_depth(text) > MAX_JSON_DEPTH:
        raise Unstorable(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    if "\\u" in text:  # only an escape can put NUL or a surrogate into a decoded string
        _refuse_unstorable_strings(value)
    return value


def _refuse_unstorable_strings(value: Any) -> None:
    strings = [value] if isinstance(value, str) else []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            strings += item.keys()
            stack += item.values()
        elif isinstance(item, list):
            stack += item
        elif isinstance(item, str):
            strings.append(item)
    for string in strings:
        found = _NOT_IN_JSONB.search(string)
        if found:
            what = "a NUL character (\\u0000)" if found.group() == "\x00" else "a lone surrogate"
            raise Unstorable(f"JSON string holds {what}, which PostgreSQL's jsonb cannot store")


# -- field kinds -----------------------------------------------------------------------------


def kind_of(field: models.Field) -> Kind:
    """The archive kind of a model field (relations are written as the target's UUID)."""
    if field.is_relation or isinstance(field, models.UUIDField):
        return Kind.UUID
    if isinstance(field, models.BooleanField):
        return Kind.BOOLEAN
    if isinstance(field, (models.IntegerField, models.BigIntegerField, models.SmallIntegerField)):
        return Kind.INTEGER
    if isinstance(field, (models.FloatField, models.DecimalField)):
        return Kind.DECIMAL
    if isinstance(field, models.DateTimeField):
        return Kind.DATETIME
    if isinstance(field, models.DateField):
        return Kind.DATE
    if isinstance(field, models.JSONField):
        return Kind.JSON
    if isinstance(field, models.URLField):
        return Kind.URI
    return Kind.TEXT
