"""SQL twins of dwca_port.values for the import: archive text to typed column values.

The import's staging (dwca_port/importer/staging.py) holds every cell as text; the casts here
give what `stored_value(field, parse_value(kind, cell))` gives in Python, for the cells whose
text is canonical (`CANONICAL`, checked while the rows stream in; other cells go through
parse_value first).
"""

from __future__ import annotations

from django.db import connection, models

from dwca_port import graph
from dwca_port.values import Kind, kind_of

# The cell texts SQL casts to exactly what parse_value reads (ASCII digits only; bounded so that
# no cast overflows where Python would not). A row's checked cells are matched at once, joined
# by tabs (no canonical text holds one); a row that does not match goes through parse_value.
CANONICAL = {
    Kind.UUID: r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    Kind.INTEGER: r"-?[0-9]{1,18}",
    Kind.DECIMAL: r"-?(?:[0-9]{1,30}(?:\.[0-9]{0,30})?|\.[0-9]{1,30})(?:[eE][-+]?[0-9]{1,2})?|NaN|-?Infinity",
    Kind.BOOLEAN: r"true|false",
    Kind.DATETIME: r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?",
    Kind.DATE: r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
}
SQL_TYPE = {
    Kind.UUID: "uuid",
    Kind.INTEGER: "bigint",
    Kind.DECIMAL: "float8",
    Kind.BOOLEAN: "boolean",
    Kind.DATETIME: "timestamptz",  # a plain local time in the session's zone; an offset is kept
    Kind.DATE: "date",
    Kind.JSON: "jsonb",
}
TEXT_KINDS = (Kind.TEXT, Kind.URI)


def castable(node: graph.Node) -> bool:
    """Whether every travelling field of the model is one these casts handle."""
    for field in node.fields():
        kind = kind_of(field)
        if field.is_relation:
            if graph.graph_target(field) is None:
                return False
        elif kind in TEXT_KINDS:
            if not isinstance(field, (models.CharField, models.TextField)):
                return False
        elif kind not in SQL_TYPE:
            return False
    return True


def value_sql(field: models.Field, cell: str, params: list) -> str:
    """SQL giving what stored_value(field, parse_value(kind, cell)) gives."""
    kind = kind_of(field)
    if kind in TEXT_KINDS:
        return f"NULLIF({cell}, '')" if field.null else f"COALESCE({cell}, '')"
    typed = f"NULLIF({cell}, '')::{SQL_TYPE[kind]}"
    if kind is Kind.JSON:  # JSON null is Python's None: SQL NULL (or the default), as the ORM stores it
        typed = f"NULLIF({typed}, 'null'::jsonb)"
    if not field.null:
        default = field.get_default()
        if default is not None:
            params.append(field.get_db_prep_save(default, connection))
            typed = f"COALESCE({typed}, {typed_param(field)})"
    return typed


def typed_param(field: models.Field) -> str:
    """A parameter cast to the column's type (a NULL would otherwise be text in the subquery)."""
    return f"CAST(%s AS {field.db_type(connection)})"


def archived_sql(kind: Kind, cell: str) -> str:
    """A staged cell as its typed value (for comparisons)."""
    return cell if kind in TEXT_KINDS else f"NULLIF({cell}, '')::{SQL_TYPE[kind]}"
