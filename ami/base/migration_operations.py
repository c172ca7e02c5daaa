"""Migration operations for identity and uniqueness that are safe on big, live tables.

Each app's migration is a short list of declarations:

    AddUUIDField("sourceimage")
    RenameDuplicateNames("deployment", scope="project")
    AddUniqueConstraintConcurrently("detection", constraint, duplicates_hint="Run ...")

Every operation can be re-run after an interruption (a migration is only recorded once all of
its operations finish): each step checks what already exists. docs/identity.md has the why.
"""

from __future__ import annotations

import sys
import uuid

from django.db import models, transaction
from django.db.backends.utils import truncate_name
from django.db.migrations.operations import AddConstraint
from django.db.migrations.operations.base import Operation

from ami.base.duplicate_names import rename_duplicate_names
from ami.base.postgres import (
    attach_unique_index,
    constraint_exists,
    create_unique_index_concurrently,
    execute_with_short_lock,
)
from ami.base.unique_violations import is_enforced, refuse_duplicates
from ami.base.uuid_backfill import ProgressPrinter, backfill_uuids


def identity_uuid_field() -> models.UUIDField:
    """The field every exported model ends with (BaseModel.uuid, User.uuid)."""
    return models.UUIDField(default=uuid.uuid4, unique=True, editable=False)


class AddUUIDField(Operation):
    """Add `uuid = UUIDField(default=uuid4, unique=True, editable=False)` to a model that may
    already hold millions of rows.

    PostgreSQL (needs a migration with atomic = False):
      1. ADD COLUMN ... NULL: a catalogue change, no table rewrite;
      2. SET DEFAULT gen_random_uuid(): rows inserted meanwhile (app servers still running the
         old code) get a value, so nothing is left NULL behind the backfill;
      3. backfill committed batches of primary-key ranges (ami.base.uuid_backfill);
      4. CREATE UNIQUE INDEX CONCURRENTLY, then attach it as the UNIQUE constraint;
      5. NOT NULL without a scan under an exclusive lock: CHECK (uuid IS NOT NULL) NOT VALID,
         VALIDATE (reads and writes continue), SET NOT NULL (uses the check), drop the check.
      The database default stays: it is harmless, and keeps old code that inserts rows without
      a uuid working during a rolling deploy. Django's state does not include it.
    Other databases (SQLite): add the column nullable, backfill from Python, then alter it to the
    final unique NOT NULL field (SQLite rebuilds the table, inside one transaction).
    """

    reversible = True
    reduces_to_sql = False

    def __init__(self, model_name: str, name: str = "uuid"):
        self.model_name = model_name
        self.name = name

    @property
    def model_name_lower(self) -> str:
        return self.model_name.lower()

    def deconstruct(self):
        kwargs = {"name": self.name} if self.name != "uuid" else {}
        return self.__class__.__name__, [self.model_name], kwargs

    def state_forwards(self, app_label, state):
        state.add_field(app_label, self.model_name_lower, self.name, identity_uuid_field(), preserve_default=True)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        final = model._meta.get_field(self.name)
        nullable = models.UUIDField(null=True, editable=False)
        nullable.set_attributes_from_name(self.name)
        nullable.model = model
        if schema_editor.connection.vendor == "postgresql":
            _add_uuid_postgresql(schema_editor, model, final)
        else:
            _add_uuid_generic(schema_editor, model, nullable, final)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        field = model._meta.get_field(self.name)
        if _column(schema_editor.connection, model._meta.db_table, field.column) is not None:
            schema_editor.remove_field(model, field)

    def describe(self):
        return f"Add unique UUID field {self.name} to {self.model_name} (batched backfill)"

    @property
    def migration_name_fragment(self):
        return f"{self.model_name_lower}_{self.name}"


def _add_uuid_postgresql(schema_editor, model, field) -> None:
    connection = schema_editor.connection
    if connection.in_atomic_block:
        raise RuntimeError(
            f"AddUUIDField({model._meta.label}) must run in a migration with atomic = False: "
            "its batches commit one by one and its index is built CONCURRENTLY."
        )
    quote = schema_editor.quote_name
    table, column = model._meta.db_table, field.column
    q_table, q_column = quote(table), quote(column)

    info = _column(connection, table, column)
    if info is None:
        execute_with_short_lock(schema_editor, f"ALTER TABLE {q_table} ADD COLUMN IF NOT EXISTS {q_column} uuid NULL")
    if info is None or not info.default:
        execute_with_short_lock(
            schema_editor, f"ALTER TABLE {q_table} ALTER COLUMN {q_column} SET DEFAULT gen_random_uuid()"
        )

    check_name = truncate_name(f"{table}_{column}_not_null", connection.ops.max_name_length())
    if info is None or info.null_ok:
        _backfill(connection, model, column)

    unique_name = truncate_name(f"{table}_{column}_key", connection.ops.max_name_length())
    if not constraint_exists(connection, table, unique_name):
        create_unique_index_concurrently(
            schema_editor,
            unique_name,
            f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {quote(unique_name)} ON {q_table} ({q_column})",
        )
        attach_unique_index(schema_editor, table, unique_name)

    if info is None or info.null_ok:
        if not constraint_exists(connection, table, check_name):
            execute_with_short_lock(
                schema_editor,
                f"ALTER TABLE {q_table} ADD CONSTRAINT {quote(check_name)} CHECK ({q_column} IS NOT NULL) NOT VALID",
            )
        # Scans the table under SHARE UPDATE EXCLUSIVE: reads and writes go on meanwhile.
        schema_editor.execute(f"ALTER TABLE {q_table} VALIDATE CONSTRAINT {quote(check_name)}")
        # PostgreSQL 12+ skips the scan when a valid CHECK (col IS NOT NULL) exists.
        execute_with_short_lock(schema_editor, f"ALTER TABLE {q_table} ALTER COLUMN {q_column} SET NOT NULL")
    if constraint_exists(connection, table, check_name):
        execute_with_short_lock(schema_editor, f"ALTER TABLE {q_table} DROP CONSTRAINT IF EXISTS {quote(check_name)}")


def _add_uuid_generic(schema_editor, model, nullable, final) -> None:
    connection = schema_editor.connection
    table, column = model._meta.db_table, final.column
    info = _column(connection, table, column)
    if info is None:
        schema_editor.add_field(model, nullable)
    if info is None or info.null_ok or not _has_single_column_unique(connection, table, column):
        _backfill(connection, model, column)
        # SQLite rebuilds the table here: one transaction, so an interruption loses nothing.
        with transaction.atomic(using=connection.alias):
            schema_editor.alter_field(model, nullable, final, strict=False)


def _backfill(connection, model, column) -> None:
    label = model._meta.label
    report = backfill_uuids(
        connection, model._meta.db_table, column, model._meta.pk.column, progress=ProgressPrinter(label)
    )
    if report.batches > 20:
        sys.stdout.write(
            f"    {label}: {report.rows:,} UUIDs in {report.batches:,} batches, {report.seconds:.1f} s "
            f"(longest batch {report.longest_batch_seconds:.2f} s)\n"
        )


def _column(connection, table: str, column: str):
    """The column's introspection row (name, null_ok, default, ...), or None if it is missing."""
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, table)
    return next((info for info in description if info.name == column), None)


def _has_single_column_unique(connection, table: str, column: str) -> bool:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return any(c["unique"] and c["columns"] == [column] for c in constraints.values())


class RenameDuplicateNames(Operation):
    """Suffix duplicate names within a scope (" (2)", " (3)", ... by primary key) so that a
    unique constraint on (scope, name) can be added to a database that already breaks it.
    Prints every rename. Backwards it does nothing: the new names are kept."""

    reversible = True
    reduces_to_sql = False

    def __init__(self, model_name: str, scope: str, field: str = "name"):
        self.model_name = model_name
        self.scope = scope
        self.field = field

    def deconstruct(self):
        kwargs = {"scope": self.scope}
        if self.field != "name":
            kwargs["field"] = self.field
        return self.__class__.__name__, [self.model_name], kwargs

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        alias = schema_editor.connection.alias
        if not self.allow_migrate_model(alias, model):
            return
        renames = rename_duplicate_names(model, self.scope, self.field, using=alias)
        if renames:
            sys.stdout.write(f"\n    Renamed {len(renames)} duplicate {model._meta.label} name(s):\n")
            for rename in renames:
                sys.stdout.write(f"      {rename}\n")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass

    def describe(self):
        return f"Rename duplicate {self.field}s of {self.model_name} within each {self.scope}"


class AddUniqueConstraintConcurrently(AddConstraint):
    """AddConstraint for a UniqueConstraint on a big table.

    Existing duplicates make it stop with a DuplicateRowsError naming them and `duplicates_hint`
    (what to run), before anything is built. On PostgreSQL the index is built CONCURRENTLY
    (needs atomic = False); a constraint without condition or expressions is then attached as a
    real UNIQUE constraint, as Django would create it. Already present: nothing to do.
    """

    reduces_to_sql = False

    def __init__(self, model_name, constraint, duplicates_hint: str = ""):
        super().__init__(model_name, constraint)
        self.duplicates_hint = duplicates_hint

    def deconstruct(self):
        name, args, kwargs = super().deconstruct()
        if self.duplicates_hint:
            kwargs["duplicates_hint"] = self.duplicates_hint
        return name, args, kwargs

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        alias = schema_editor.connection.alias
        if not self.allow_migrate_model(alias, model) or is_enforced(model, self.constraint, alias):
            return
        refuse_duplicates(model, self.constraint, self.duplicates_hint, using=alias)
        if schema_editor.connection.vendor == "postgresql":
            _add_unique_constraint_concurrently(schema_editor, model, self.constraint)
        else:
            schema_editor.add_constraint(model, self.constraint)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        # The state without the constraint, as AddConstraint: SQLite rebuilds the table from it.
        model = to_state.apps.get_model(app_label, self.model_name)
        alias = schema_editor.connection.alias
        if not self.allow_migrate_model(alias, model):
            return
        if self.constraint.name in _constraint_names(schema_editor.connection, model):
            schema_editor.remove_constraint(model, self.constraint)

    def describe(self):
        return f"Create unique constraint {self.constraint.name} on {self.model_name} (concurrently)"


def _add_unique_constraint_concurrently(schema_editor, model, constraint: models.UniqueConstraint) -> None:
    connection = schema_editor.connection
    if connection.in_atomic_block:
        raise RuntimeError(
            f"AddUniqueConstraintConcurrently({constraint.name}) must run in a migration with atomic = False."
        )
    table = model._meta.db_table
    plain = (
        constraint.fields
        and constraint.condition is None
        and not constraint.include
        and not constraint.opclasses
        and constraint.deferrable is None
        and constraint.nulls_distinct is None
    )
    if plain:
        columns = ", ".join(schema_editor.quote_name(model._meta.get_field(f).column) for f in constraint.fields)
        sql = (
            f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {schema_editor.quote_name(constraint.name)} "
            f"ON {schema_editor.quote_name(table)} ({columns})"
        )
        create_unique_index_concurrently(schema_editor, constraint.name, sql)
        attach_unique_index(schema_editor, table, constraint.name)
        return
    # Conditions and expressions make Django create a unique index; build that same statement.
    sql = str(constraint.create_sql(model, schema_editor))
    prefix = "CREATE UNIQUE INDEX "
    if not sql.startswith(prefix):
        raise RuntimeError(f"Cannot build {constraint.name} concurrently from: {sql}")
    sql = "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS " + sql[len(prefix) :]
    create_unique_index_concurrently(schema_editor, constraint.name, sql)


def _constraint_names(connection, model) -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, model._meta.db_table))
