"""Where the database refused rows: the first archive line and column, not just its message.

The checks before writing (validator, Column.parse) catch what a column cannot hold; what is
left is what only the database knows (a unique constraint across rows, say). When a set-wise
write fails, its rows are written again one at a time, each in a savepoint, all rolled back: the
first that fails is reported with its line, and with the column the error names (PostgreSQL's
diagnostics: column or constraint; SQLite's message: table.column), else without a column.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from django.db import DatabaseError, models, transaction

from dwca_port.findings import one_line
from dwca_port.importer.state import ImportRefused, ImportState
from dwca_port.tables import Table


def first_refused(
    state: ImportState,
    table: Table,
    model: type[models.Model],
    rows: Sequence[tuple[int, object]],
    write: Callable[[list], None],
    error: DatabaseError,
) -> ImportRefused:
    """The refusal of the first of `rows` ((line, row) pairs) that `write([row])` cannot write."""
    found = None
    savepoint = transaction.savepoint()
    try:
        for line, row in rows:
            try:
                with transaction.atomic():
                    write([row])
            except DatabaseError as refused:
                found = (line, refused)
                break
    finally:
        transaction.savepoint_rollback(savepoint)
    if found is None:  # only the set fails (e.g. rows colliding with each other in one statement)
        return ImportRefused(f"{state.source.member(table)}: the database refused the rows: {one_line(error)}")
    line, refused = found
    return state.fail(
        table, line, refused_column(model, table, refused), f"the database refused it: {one_line(refused)}"
    )


def refused_column(model: type[models.Model], table: Table, error: DatabaseError) -> int | None:
    """The archive column (index in `table`) the database error is about, when it says."""
    diagnostics = getattr(error.__cause__, "diag", None)
    columns: list[str] = []
    if diagnostics is not None:
        if diagnostics.column_name:
            columns = [diagnostics.column_name]
        elif diagnostics.constraint_name:
            columns = _constraint_columns(model, diagnostics.constraint_name)
    else:  # SQLite: "UNIQUE constraint failed: main_sourceimage.deployment_id, main_sourceimage.path"
        columns = re.findall(rf"\b{re.escape(model._meta.db_table)}\.(\w+)", str(error))
    by_column = {field.column: field for field in model._meta.concrete_fields}
    for column in reversed(columns):  # a constraint's last field is the one that tells rows apart
        field = by_column.get(column)
        if field is None:
            continue
        try:
            return table.index_of(table.term_of(field.name))
        except KeyError:
            continue
    return None


def _constraint_columns(model: type[models.Model], name: str) -> list[str]:
    meta = model._meta
    for constraint in meta.constraints:
        if constraint.name == name and getattr(constraint, "fields", None):
            return [meta.get_field(field).column for field in constraint.fields]
    for field in meta.concrete_fields:  # PostgreSQL's name for unique=True: <table>_<column>_key
        if name == f"{meta.db_table}_{field.column}_key":
            return [field.column]
    return []
