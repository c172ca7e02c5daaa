"""PostgreSQL fast path of the import: COPY each archive table into a staging table, then write
each model with one set-based INSERT ... SELECT.

The portable writer (importer/portable.py) parses every cell in Python and writes with
bulk_create. Here the cells are staged as text, as read (plus their line number), in TEMP tables
dropped at commit, and SQL does per column what parse_value + stored_value do:

* While a row streams into COPY, its cells of checked kinds are matched against the canonical
  text of their kinds (`CANONICAL`, one regular expression per row). The rare row that does not
  match is read by parse_value: an invalid cell is refused with the portable path's message
  (file, line, column); a valid but non-canonical one (a date-time with a UTC offset, an
  upper-case UUID...) is replaced by its canonical text.
* Casts per kind; an empty cell is NULL where the column allows it, '' for a not-null text
  column, otherwise the field's default. Date-times are local: the cast to timestamptz uses the
  session time zone, which Django sets to settings.TIME_ZONE, exactly as for a naive datetime
  (a repeated wall time is the later reading; the earlier one carries its offset, which the cast
  keeps); a wall time the clocks skip is refused while staging.
* JSON cells holding fractional numbers (or UUIDs of json_references) are rewritten in Python
  while staging, because Python's float round trip decides what the portable path stores.
* Relations to project rows join the target table on uuid (targets come earlier in the graph's
  order); relations to shared rows join `dwca_shared`, built from state.shared. A reference to
  a dropped row (`dwca_dropped`) becomes NULL; a row whose not-null relation cannot be resolved is
  dropped and reported; a reference to a UUID neither in the archive nor here stops the import.
* Relations of a model to itself are set by one UPDATE once all its rows exist.

No Python structure grows with the number of rows: rows stream from the archive into COPY, and
everything else is SQL.
"""

from __future__ import annotations

import json
import re
import uuid as uuid_module
from dataclasses import dataclass

import psycopg
from django.db import DatabaseError, connection, models, transaction
from django.db.models import F

from dwca_port import graph
from dwca_port.findings import one_line
from dwca_port.graph import Scope
from dwca_port.importer import caches
from dwca_port.importer.portable import PortableWriter
from dwca_port.importer.state import ImportRefused, ImportState, skipped_message, unresolved_reference
from dwca_port.json_references import to_pks
from dwca_port.postgres import quote_name as qn
from dwca_port.postgres.casts import CANONICAL, castable, typed_param, value_sql
from dwca_port.tables import Table
from dwca_port.values import CellError, Kind, format_value, parse_value, skipped_wall_time_text

UNRESOLVED = "DW001"  # SQLSTATE raised for a reference neither in the archive nor here
PROGRESS_EVERY = 10_000  # staged rows between two advances of the progress

_SETUP = f"""
CREATE TEMP TABLE IF NOT EXISTS dwca_shared (label text NOT NULL, uuid uuid NOT NULL, pk bigint NOT NULL,
                                             PRIMARY KEY (label, uuid)) ON COMMIT DROP;
CREATE TEMP TABLE IF NOT EXISTS dwca_dropped (label text NOT NULL, uuid uuid NOT NULL) ON COMMIT DROP;
CREATE TEMP TABLE IF NOT EXISTS dwca_fix (line integer NOT NULL, col integer NOT NULL, value text) ON COMMIT DROP;
TRUNCATE dwca_shared, dwca_dropped, dwca_fix;
SET LOCAL jit = off;  -- compiling the big INSERT ... SELECTs costs more than it saves
CREATE OR REPLACE FUNCTION pg_temp.dwca_unresolved(label text, ref text) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM dwca_dropped d WHERE d.label = $1 AND d.uuid = $2::uuid) THEN
        RETURN NULL;  -- a dropped row: the reference becomes null
    END IF;
    RAISE EXCEPTION 'unresolved reference' USING ERRCODE = '{UNRESOLVED}';
END $$;
"""


@dataclass
class Staged:
    """One archive table in its staging table: column c<i> holds the table's column i."""

    node: graph.Node
    table: Table
    name: str
    rows: int

    def index(self, field_name: str) -> int:
        return self.table.index_of(self.table.term_of(field_name))

    @property
    def id_cell(self) -> str:
        return f"s.c{self.table.index_of(self.table.identifier_term)}"


class StagingWriter:
    """The PostgreSQL writer (see the module's docstring); models whose fields it cannot cast go
    through the portable writer."""

    def __init__(self, state: ImportState):
        self.state = state
        self.portable = PortableWriter(state)
        self.staged: dict[str, Staged] = {}
        connection.ensure_connection()

    def execute(self, sql: str, params=None):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else cursor.rowcount

    # -- staging ---------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Stage every project table (conflicts are then found in SQL)."""
        self.execute(_SETUP)
        for node in graph.nodes(Scope.PROJECT):
            table = self.state.tables[node.label]
            if self.state.source.has(table):
                self.staged[node.label] = self._stage(node, table)

    def _stage(self, node: graph.Node, table: Table) -> Staged:
        name = f"dwca_stage_{node.model._meta.db_table}"
        columns = ", ".join(f"c{i} text" for i in range(len(table.columns)))
        self.execute(
            f"DROP TABLE IF EXISTS pg_temp.{name}; "
            f"CREATE TEMP TABLE {name} (line integer NOT NULL, {columns}) ON COMMIT DROP"
        )
        rewrites = self._json_rewrites(table)
        checked = [index for index, column in enumerate(table.columns) if column.kind in CANONICAL]
        canonical = re.compile("\t".join(f"(?:{CANONICAL[table.columns[index].kind]})?" for index in checked))
        local_times = [index for index, column in enumerate(table.columns) if column.kind is Kind.DATETIME]
        count = 0
        self.state.progress.stage(f"staging {table.file}")
        try:
            with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {name} FROM STDIN") as copy:
                for line, cells in self.state.rows(table):
                    if not canonical.fullmatch("\t".join([cells[index] or "" for index in checked])):
                        self._canonicalise(table, line, cells, checked)
                    for index in local_times:
                        if cells[index] and skipped_wall_time_text(cells[index]):
                            value = parse_value(Kind.DATETIME, cells[index])
                            raise self.state.fail(table, line, index, skipped_message(value))
                    for index, rewrite in rewrites:
                        cells[index] = rewrite(line, cells[index])
                    copy.write_row((line, *cells))
                    count += 1
                    if count % PROGRESS_EVERY == 0:
                        self.state.progress.advance(PROGRESS_EVERY)
        except (
            DatabaseError,
            psycopg.Error,
        ) as error:  # (a NUL character, say: the reader reports it, the validator refuses it)
            raise ImportRefused(
                f"{self.state.source.member(table)}: the database refused the rows: {one_line(error)}"
            ) from None
        self.state.progress.advance(count % PROGRESS_EVERY)
        self.execute(f"ANALYZE {name}")  # temp tables get no autovacuum statistics
        return Staged(node, table, name, count)

    def _json_rewrites(self, table: Table) -> list:
        """(column index, rewrite) for the JSON columns of a model field."""
        return [
            (index, self._json_rewrite(table, index))
            for index, column in enumerate(table.columns)
            if column.kind is Kind.JSON and column.field
        ]

    def _json_rewrite(self, table, index):
        fail = self.state.fail

        def rewrite(line: int, cell: str | None) -> str | None:
            if not cell:
                return None
            # Integers, strings and literals store the same through jsonb as through Python;
            # fractions and exponents are stored as Python's float round trip gives them.
            if "." not in cell and "e" not in cell and "E" not in cell:
                return cell
            try:
                value = parse_value(Kind.JSON, cell)
            except CellError as error:
                raise fail(table, line, index, str(error)) from None
            return None if value is None else json.dumps(value)

        return rewrite

    def _map_json_references(self, staged: Staged) -> None:
        """UUIDs inside JSON (node.json_references) to this instance's primary keys, once the rows
        they name are written. Configuration tables: a few rows, one lookup per document."""
        node = staged.node
        for field_name in dict.fromkeys(name for name, _, _ in node.json_references):
            index = staged.index(field_name)
            fixes = []
            for line, cell in self.execute(f"SELECT line, c{index} FROM {staged.name} WHERE c{index} <> ''"):
                try:
                    value = to_pks(
                        node,
                        field_name,
                        parse_value(Kind.JSON, cell),
                        rows=lambda target: target.usable_by(self.state.project_pk),
                    )
                except CellError as error:
                    raise self.state.fail(staged.table, line, index, str(error)) from None
                fixes.append((index, None if value is None else json.dumps(value), line))
            self._rewrite_cells(staged, fixes)
        self._apply_rewrites(staged)

    def _canonicalise(self, table: Table, line: int, cells: list, checked: list[int]) -> None:
        """A row with a cell SQL does not take as it is: refuse an invalid cell (parse_value's
        message, with file, line and column), rewrite a valid one canonically (a date-time with
        a UTC offset becomes local time, an upper-case UUID lower-case...)."""
        for index in checked:
            if cells[index]:
                column = table.columns[index]
                try:
                    cells[index] = format_value(column.kind, column.parse(cells[index]))
                except CellError as error:
                    raise self.state.fail(table, line, index, str(error)) from None

    def _rewrite_cells(self, staged: Staged, fixes: list) -> None:
        """Note (column index, new text, line) rewrites in dwca_fix (the staging table may be
        being read); _apply_rewrites applies them."""
        if fixes:
            with connection.cursor() as cursor:
                cursor.executemany("INSERT INTO dwca_fix (col, value, line) VALUES (%s, %s, %s)", fixes)

    def _apply_rewrites(self, staged: Staged) -> None:
        for (col,) in self.execute("SELECT DISTINCT col FROM dwca_fix ORDER BY col"):
            self.execute(
                f"UPDATE {staged.name} s SET c{int(col)} = f.value FROM dwca_fix f "
                "WHERE f.col = %s AND f.line = s.line",
                [col],
            )
        self.execute("TRUNCATE dwca_fix")

    # -- conflicts, shared rows --------------------------------------------------------------------

    def existing(self) -> dict[str, list[tuple[int, uuid_module.UUID]]]:
        """(line, UUID) of staged rows whose UUID exists here already, per model."""
        found = {}
        for label, staged in self.staged.items():
            table = qn(staged.node.model._meta.db_table)
            rows = self.execute(
                f"SELECT min(s.line), t.uuid FROM {staged.name} s JOIN {table} t "
                f"ON t.uuid = NULLIF({staged.id_cell}, '')::uuid GROUP BY t.uuid ORDER BY 1"
            )
            if rows:
                found[label] = [(line, row_uuid) for line, row_uuid in rows]
        return found

    def begin_writing(self) -> None:
        """state.shared (archived UUID -> pk of shared rows and users) and the rows already
        dropped (users not found) into their temp tables."""
        with connection.cursor() as cursor:
            with cursor.cursor.copy("COPY dwca_shared (label, uuid, pk) FROM STDIN") as copy:
                for label, mapping in self.state.shared.items():
                    for archived, pk in mapping.items():
                        copy.write_row((label, str(archived), pk))
            cursor.execute("ANALYZE dwca_shared")
        self._note_dropped(
            [label for label in self.state.dropped if graph.NODES_BY_LABEL[label].scope is not Scope.PROJECT]
        )

    def _note_dropped(self, labels) -> None:
        """Rows the portable path dropped (state.dropped: users not found...) into dwca_dropped."""
        with connection.cursor() as cursor, cursor.cursor.copy("COPY dwca_dropped (label, uuid) FROM STDIN") as copy:
            for label in labels:
                for archived in self.state.dropped.get(label, ()):
                    copy.write_row((label, str(archived)))

    # -- writing ---------------------------------------------------------------------------------

    def row_count(self, node: graph.Node) -> int | None:
        staged = self.staged.get(node.label)
        return staged.rows if staged else self.portable.row_count(node)

    def write(self, node: graph.Node) -> None:
        if not castable(node):
            self.portable.write(node)
            self._note_dropped([node.label])
            return
        staged = self.staged.get(node.label)
        if staged is None:
            return
        state, counts = self.state, self.state.report.models[node.label]
        if node.json_references:
            self._map_json_references(staged)
        statement = _Insert(staged, state.overrides(node), state.options.on_conflict, state.project_pk)
        try:
            with transaction.atomic():  # a savepoint, so that a refused statement can be diagnosed
                result = self.execute(statement.sql, statement.params)
        except DatabaseError as error:
            raise self._diagnose(staged, error) from None
        if state.options.on_conflict == "update":
            ((created, updated),) = result
        else:
            created, updated = result, 0
        dropped = 0
        if statement.required and (state.options.on_conflict == "skip" or created + updated != staged.rows):
            dropped = self._drop(staged, statement)
        counts.created += created
        counts.updated += updated
        counts.dropped += dropped
        counts.skipped += staged.rows - created - updated - dropped
        self._analyze_if_grown(node.model, created)
        for field in statement.self_references:
            self._link_self_reference(staged, field)
        state.progress.advance(staged.rows)
        if counts.created or counts.updated or counts.skipped:
            state.say(f"{node.label}: {counts.created} created, {counts.skipped} skipped, {counts.updated} updated")

    def _analyze_if_grown(self, model, created: int) -> None:
        """Statistics for the joins and the cache recomputation that follow: autovacuum would
        analyze a table that grew by a tenth only later, and the planner would take it for empty."""
        ((known,),) = self.execute(
            "SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table]
        )
        if created > 0.1 * known + 50:
            self.execute(f"ANALYZE {qn(model._meta.db_table)}")

    def _drop(self, staged: Staged, statement: _Insert) -> int:
        """Report the rows a not-null relation could not resolve (excluded by the INSERT) and
        note them in dwca_dropped, so that references to them become null."""
        node, state = staged.node, self.state
        cells = ", ".join(f"{cell}, {resolved}" for _, cell, resolved in statement.required)
        missing = " OR ".join(
            f"({cell} IS NOT NULL AND {resolved} IS NULL)" for _, cell, resolved in statement.required
        )
        rows = self.execute(
            f"SELECT lower({staged.id_cell}), {cells} FROM {staged.name} s {statement.joins} "
            f"WHERE {missing} ORDER BY s.line",
            statement.join_params,
        )
        for row_uuid, *pairs in rows:
            for (field, _, _), value, resolved in zip(statement.required, pairs[0::2], pairs[1::2]):
                if value is not None and resolved is None:
                    target = graph.graph_target(field)
                    state.report.dropped.append(
                        f"{node.name} {row_uuid}: its {field.name} ({target.name} {value.lower()}) is not here"
                    )
                    break
            state.dropped[node.label].add(row_uuid)
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO dwca_dropped (label, uuid) VALUES (%s, %s)",
                [(node.label, row_uuid) for row_uuid, *_ in rows],
            )
        return len(rows)

    def _diagnose(self, staged: Staged, error: DatabaseError) -> Exception:
        """The import error for a refused INSERT: the first dangling reference (file, line,
        column), else the first cell parse_value refuses, else the database's own message."""
        if getattr(error.__cause__, "sqlstate", None) == UNRESOLVED:
            return self._first_dangling(staged)
        for _ in self.state.parsed_rows(staged.table):  # raises at the first bad cell
            pass
        try:  # what only the database refuses (a unique constraint...): the portable writer names the row
            with transaction.atomic():
                self.portable.write(staged.node)
                raise _Written
        except ImportRefused as refused:
            return refused
        except _Written:
            pass
        return ImportRefused(f"{self.state.source.member(staged.table)}: the database refused a row: {one_line(error)}")

    def _first_dangling(self, staged: Staged) -> Exception:
        first = None
        for field in staged.node.foreign_keys():
            target = graph.graph_target(field)
            if target.scope is not Scope.PROJECT or target is staged.node:
                continue
            index = staged.index(field.name)
            ref = f"NULLIF(s.c{index}, '')::uuid"
            usable, params = usable_rows(target, self.state.project_pk)
            rows = self.execute(
                f"SELECT s.line, lower(s.c{index}) FROM {staged.name} s "
                f"LEFT JOIN ({usable}) t ON t.ref_uuid = {ref} "
                f"WHERE {ref} IS NOT NULL AND t.ref_pk IS NULL AND NOT EXISTS "
                f"(SELECT 1 FROM dwca_dropped d WHERE d.label = %s AND d.uuid = {ref}) ORDER BY s.line LIMIT 1",
                [*params, target.label],
            )
            if rows and (first is None or (rows[0][0], index) < first[:2]):
                first = (rows[0][0], index, target, rows[0][1])
        if first is None:
            return ImportRefused(f"{self.state.source.member(staged.table)}: a reference could not be resolved")
        line, index, target, value = first
        return self.state.fail(staged.table, line, index, unresolved_reference(target, value))

    def _link_self_reference(self, staged: Staged, field: models.ForeignKey) -> None:
        """A model's relation to itself, once all its rows exist; a target not here becomes null."""
        table = qn(staged.node.model._meta.db_table)
        ref = f"NULLIF(s.c{staged.index(field.name)}, '')::uuid"
        usable, params = usable_rows(staged.node, self.state.project_pk)
        self.execute(
            f"UPDATE {table} AS t SET {qn(field.column)} = r.ref_pk FROM {staged.name} s LEFT JOIN ({usable}) r "
            f"ON r.ref_uuid = {ref} "
            f"WHERE t.uuid = {staged.id_cell}::uuid AND {ref} IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM dwca_dropped d WHERE d.label = %s AND d.uuid = t.uuid)",
            [*params, staged.node.label],
        )

    def compare_caches(self, node: graph.Node) -> None:
        staged = self.staged.get(node.label)
        if staged is None or not castable(node):
            self.portable.compare_caches(node)
        else:
            caches.compare_staged(self.state, node, staged.table, staged.name, self.execute)

    def close(self) -> None:
        """Drop the staging tables now (they would go at commit; a test's transaction is longer)."""
        names = [staged.name for staged in self.staged.values()]
        if names:
            self.execute(f"DROP TABLE IF EXISTS {', '.join(names)}")
        self.staged.clear()


def usable_rows(node: graph.Node, project_pk: int | None) -> tuple[str, list]:
    """SQL (ref_uuid, ref_pk) of the rows of `node` this project's archive may refer to
    (graph.Node.usable_by, the portable writer's rule), with its parameters."""
    rows = node.usable_by(project_pk).annotate(ref_uuid=F("uuid"), ref_pk=F("pk")).values("ref_uuid", "ref_pk")
    sql, params = rows.query.sql_with_params()
    return sql, list(params)


class _Written(Exception):
    """Rolls back a diagnostic write that went through."""


class _Insert:
    """The INSERT ... SELECT of one staged model, built from its fields' declarations."""

    def __init__(self, staged: Staged, overrides: dict[str, int], on_conflict: str, project_pk: int | None):
        node = staged.node
        model = node.model
        self.self_references = [f for f in node.foreign_keys() if f.related_model is model]
        self.required: list[tuple[models.Field, str, str]] = []  # not-null relations: (field, cell, resolved)
        columns, values, value_params, joins, self.join_params = ["uuid"], [f"{staged.id_cell}::uuid"], [], [], []
        for field in node.fields():
            if field in self.self_references:
                continue
            columns.append(qn(field.column))
            cell = f"s.c{staged.index(field.name)}"
            if field.attname in overrides:
                values.append(typed_param(field))
                value_params.append(overrides[field.attname])
            elif field.is_relation:
                target = graph.graph_target(field)
                alias = f"j{len(joins)}"
                ref = f"NULLIF({cell}, '')"
                if target.scope is Scope.PROJECT:
                    usable, params = usable_rows(target, project_pk)
                    joins.append(f"LEFT JOIN ({usable}) {alias} ON {alias}.ref_uuid = {ref}::uuid")
                    self.join_params += params
                    resolved = f"{alias}.ref_pk"
                    values.append(
                        f"CASE WHEN {ref} IS NULL THEN NULL WHEN {resolved} IS NOT NULL THEN {resolved} "
                        f"ELSE pg_temp.dwca_unresolved(%s, {ref}) END"
                    )
                    value_params.append(target.label)
                else:
                    joins.append(f"LEFT JOIN dwca_shared {alias} ON {alias}.label = %s AND {alias}.uuid = {ref}::uuid")
                    self.join_params.append(target.label)
                    resolved = f"{alias}.pk"
                    values.append(resolved)
                if not field.null:
                    self.required.append((field, ref, resolved))
            else:
                values.append(value_sql(field, cell, value_params))
        updated = columns[1:]
        # Fields that do not travel (credentials, files...) get their defaults, as a new model
        # instance has them; an update leaves them alone.
        travelling = {f.name for f in node.fields()}
        for field in model._meta.concrete_fields:
            if not (field.primary_key or field.name == "uuid" or field.name in travelling):
                columns.append(qn(field.column))
                values.append(typed_param(field))
                value_params.append(field.get_db_prep_save(field.get_default(), connection))
        self.joins = " ".join(joins)
        table = qn(model._meta.db_table)
        inner = ", ".join(f"{value} AS v{i}" for i, value in enumerate(values))
        refs = "".join(f", {ref} AS r{i}" for i, (_, ref, _) in enumerate(self.required))
        keep = [
            f"(x.r{i} IS NULL OR x.v{columns.index(qn(field.column))} IS NOT NULL)"
            for i, (field, _, _) in enumerate(self.required)
        ]
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"SELECT {', '.join(f'x.v{i}' for i in range(len(values)))} FROM "
            f"(SELECT s.line, {inner}{refs} FROM {staged.name} s {self.joins}) x "
            f"{'WHERE ' + ' AND '.join(keep) if keep else ''} ORDER BY x.line"
        )
        if on_conflict == "skip":
            sql += " ON CONFLICT (uuid) DO NOTHING"
        elif on_conflict == "update":
            updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in updated)
            sql = (
                f"WITH written AS ({sql} ON CONFLICT (uuid) DO UPDATE SET {updates} RETURNING ({table}.xmax = 0) AS "
                "created) "
                "SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM written"
            )
        self.sql = sql
        self.params = value_params + self.join_params
