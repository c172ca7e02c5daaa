"""The SQL twins of the value parsers (checks/syntax.py) vouch only for values the parser accepts:
a value they hold on is never reported by the precise reader, so the columnar fast path may skip it."""

import duckdb
import pytest

from dwca_port.checks.syntax import kind_parser, sql_shape
from dwca_port.values import CellError, Kind

SAMPLES = {
    Kind.JSON: [
        "[373, 1193, 656, 1234]",
        "[]",
        "[0.5, -2, 1e3, 2.5E-4]",
        "[1e99, -123456789012345678.5E-99]",
        "[1E400]",  # a double's infinity: the parser refuses it
        "[123456789012345678e99]",
        "[1" + "0" * 4400 + "]",  # past int()'s digit limit: the parser refuses it
        "[01]",
        "[1,2]",
        "[1, 2,]",
        "[NaN]",
        "[Infinity]",
        "[-]",
        "[1.]",
        '["a"]',
        '{"a": 1}',
        "[[1]]",
        "",
    ],
    Kind.UUID: ["0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0", "x"],
    Kind.DATETIME: ["2023-06-09T22:41:49", "2023-04-31T00:00:00", "9999-12-31T23:00:00Z"],
}


def accepted(kind: Kind, value: str) -> bool:
    try:
        kind_parser(kind)(value)
    except (CellError, ValueError):
        return False
    return True


@pytest.mark.parametrize("kind", list(SAMPLES), ids=lambda kind: kind.value)
def test_a_shape_holds_only_on_values_the_parser_accepts(kind):
    connection = duckdb.connect()
    for value in SAMPLES[kind]:
        (holds,) = connection.execute(f"SELECT {sql_shape(kind, '$1')}", [value]).fetchone()
        assert not holds or accepted(kind, value), f"{kind.value}: SQL vouches for {value!r}, the parser refuses it"


def test_a_bounding_box_is_vouched_for_in_sql():
    """A detection's bbox is checked set-wise, not value by value in Python."""
    connection = duckdb.connect()
    for value in ("[373, 1193, 656, 1234]", "[0.5, 12.25, 3, 4]", "[]"):
        (holds,) = connection.execute(f"SELECT {sql_shape(Kind.JSON, '$1')}", [value]).fetchone()
        assert holds, value
