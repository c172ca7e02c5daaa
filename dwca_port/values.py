"""How values are written into archive cells and read back, per `Kind`.

One canonical text per value, the same whichever database it came from: floats and JSON are
written as PostgreSQL prints float8 and jsonb, so that an export made from SQLite and one made
from PostgreSQL are byte-identical, and so that the PostgreSQL fast path (formatting in SQL,
dwca_port/postgres/cells.py) produces exactly what this module produces.

Datetimes in Antenna tables are the database's naive local time, written without an offset
(the archive states the time zone once); this is lossless, unlike an offset, which cannot express
the wall-clock times that a daylight-saving change skips or repeats.
"""

from __future__ import annotations

import datetime
import enum
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
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{value.microsecond:06d}" if value.microsecond else text


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
    """A naive local datetime as ISO 8601 with its UTC offset (for Darwin Core terms).
    Ambiguous wall times take the later (standard-time) reading, as PostgreSQL does."""
    aware = value.replace(tzinfo=ZoneInfo(settings.TIME_ZONE), fold=1)
    return aware.isoformat(timespec="microseconds" if value.microsecond else "seconds")


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
            return float(text)
        if kind is Kind.BOOLEAN:
            if text not in ("true", "false"):
                raise ValueError
            return text == "true"
        if kind is Kind.DATETIME:
            if _LOCAL_DATETIME.match(text):
                return datetime.datetime.fromisoformat(text)
            moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise ValueError
            return moment.astimezone(ZoneInfo(settings.TIME_ZONE)).replace(tzinfo=None)
        if kind is Kind.DATE:
            return datetime.date.fromisoformat(text)
        if kind is Kind.JSON:
            return json.loads(text)
    except (ValueError, TypeError, OverflowError) as error:
        raise CellError(f"{text[:60]!r} is not a valid {kind.value}") from error
    return text


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
