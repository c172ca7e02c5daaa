"""The field-by-field section of docs/camtrap-dp.md, from the declarations (a test keeps the
document's copy current)."""

from __future__ import annotations

from dwca_port.tables import Table
from dwca_port.tables.camtrap import TABLES

NOT_RECORDED = "Empty: Antenna does not record it."


def table_markdown(table: Table) -> str:
    lines = [f"### {table.file}", "", table.doc, "", "| Field | Required | Source |", "|---|---|---|"]
    for column in table.columns:
        lines.append(f"| `{column.name}` | {'yes' if column.required else ''} | {column.doc or NOT_RECORDED} |")
    return "\n".join(lines) + "\n"


def fields_markdown() -> str:
    return "\n".join(table_markdown(table) for table in TABLES)
