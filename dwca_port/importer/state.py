"""The state of one import, handed down to the steps that need it (they never call back up).

`ImportState` holds what the steps share: the archive (its tables and rows), the options, the
report, the maps from archived UUIDs of shared rows to this instance's keys, the rows dropped so
far, and the project once written. `row_attributes` turns one archived row into model
attributes, for project rows and shared rows alike.
"""

from __future__ import annotations

import itertools
import time
import uuid as uuid_module
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from django.db import models

from ami.main.models import Organization
from ami.users.models import User
from dwca_port import graph
from dwca_port.formats import SourceError, TableSource
from dwca_port.graph import Scope
from dwca_port.importer.report import ImportReport
from dwca_port.json_references import to_pks
from dwca_port.progress import SILENT, Progress
from dwca_port.tables import FULL, Table, tables_for_profile
from dwca_port.taxonomy.options import TaxaSettings
from dwca_port.values import CellError, parse_value

BATCH = 2000
CONFLICT_MODES = ("error", "skip", "update")


class ImportRefused(Exception):
    """The import cannot go on; the message names the file, line, column and rule when it can."""


@dataclass
class ImportOptions:
    on_conflict: str = "error"
    dry_run: bool = False
    create_missing_users: bool = False
    owner_email: str | None = None
    into_organization: str | None = None
    validate: bool = True
    taxa: TaxaSettings | None = None  # None: key, then name, then create
    staging: bool | None = None  # the COPY + INSERT ... SELECT path; None: on PostgreSQL


def batched(rows: Iterable, size: int = BATCH) -> Iterator[list]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


class ImportState:
    def __init__(self, source: TableSource, options: ImportOptions, progress: TextIO | Progress | None):
        self.source = source
        self.options = options
        # A text stream gets timed lines; a Progress listener gets the stages and the lines.
        self.listener = progress if isinstance(progress, Progress) else SILENT
        self.progress = None if isinstance(progress, Progress) else progress
        self.report = ImportReport(source.label, dry_run=options.dry_run)
        full = tables_for_profile(FULL)
        self.tables: dict[str, Table] = {t.node: t for t in full if t.node and not t.link}
        self.links: list[Table] = [t for t in full if t.link]
        # archived UUID -> target primary key, for shared models and users (bounded, small tables)
        self.shared: dict[str, dict[uuid_module.UUID, int]] = defaultdict(dict)
        # archived UUIDs of rows not written (unknown user...): references to them become null
        self.dropped: dict[str, set[uuid_module.UUID]] = defaultdict(set)
        self.created_taxa: list[int] = []  # their caches are computed after the import
        self.project = None  # the imported project, once its row is written
        self.started = time.monotonic()

    def say(self, message: str) -> None:
        self.listener.say(message)
        if self.progress:
            self.progress.write(f"[{time.monotonic() - self.started:7.1f}s] {message}\n")
            self.progress.flush()

    def fail(self, table: Table, line: int | None, column: int | None, message: str) -> ImportRefused:
        member = self.source.member(table) if self.source.has(table) else table.file
        place = member + (f", line {line}" if line else "")
        if column is not None:
            place += f", column {column + 1} ({table.columns[column].name})"
        return ImportRefused(f"{place}: {message}")

    def rows(self, table: Table) -> Iterator[tuple[int, list]]:
        """(line, cells) of an archive table, cells in the declaration's column order."""
        if not self.source.has(table):
            return
        try:
            yield from self.source.rows(table)
        except SourceError as error:
            raise ImportRefused(str(error.finding)) from None

    def parsed_rows(self, table: Table) -> Iterator[tuple[int, dict[str, Any]]]:
        """Rows as {term: value}, each cell parsed by its column's kind."""
        for line, cells in self.rows(table):
            values = {}
            for index, (column, cell) in enumerate(zip(table.columns, cells)):
                try:
                    values[column.term] = parse_value(column.kind, cell)
                except CellError as error:
                    raise self.fail(table, line, index, str(error)) from None
            yield line, values

    def overrides(self, node: graph.Node) -> dict[str, Any]:
        """Attributes the operator's options set on the project row (--owner, --into-organization)."""
        if not node.root:
            return {}
        attributes = {}
        if self.options.owner_email:
            owner = User.objects.filter(email__iexact=self.options.owner_email).first()
            if owner is None:
                raise ImportRefused(f"--owner: no user with e-mail {self.options.owner_email!r} here")
            attributes["owner_id"] = owner.pk
        if self.options.into_organization:
            organization = Organization.objects.filter(slug=self.options.into_organization).first()
            if organization is None:
                raise ImportRefused(
                    f"--into-organization: no organization with slug {self.options.into_organization!r} here"
                )
            attributes["organization_id"] = organization.pk
        return attributes

    def row_attributes(
        self,
        node: graph.Node,
        table: Table,
        values: dict,
        line: int,
        project_targets: dict[str, dict] | None = None,
        skip: Iterable[models.Field] = (),
    ) -> dict | None:
        """Model attributes of one archived row, relations resolved: to project rows through
        `project_targets` (field name -> {archived UUID: pk}), to shared rows through the shared
        maps. None when the row cannot be kept (a required relation to a row that is not here);
        the report says why."""
        attributes = {}
        skipped = set(skip)
        json_fields = {name for name, _, _ in node.json_references}
        for field in node.fields():
            if field in skipped:
                continue
            term = table.term_of(field.name)
            value = values.get(term)
            if not field.is_relation:
                if field.name in json_fields:
                    value = to_pks(node, field.name, value)
                attributes[field.attname] = stored_value(field, value)
                continue
            target = graph.graph_target(field)
            if value is None or target is None:
                attributes[field.attname] = None
                continue
            if value in self.dropped.get(target.label, ()):
                pk = None
            elif target.scope is Scope.PROJECT:
                pk = (project_targets or {}).get(field.name, {}).get(value)
                if pk is None:
                    raise self.fail(
                        table,
                        line,
                        table.index_of(term),
                        f"refers to {target.name} {value}, which is neither in the archive nor here",
                    )
            else:
                pk = self.shared[target.label].get(value)
            if pk is None and not field.null:
                self.report.dropped.append(
                    f"{node.name} {values[table.identifier_term]}: its {field.name} ({target.name} {value}) is not here"
                )
                return None
            attributes[field.attname] = pk
        return attributes


def stored_value(field: models.Field, value: Any) -> Any:
    """An archived cell's value as the column stores it: an empty cell is NULL where the column
    allows it, else the empty string (text) or the field's default."""
    if value == "" and field.null and not isinstance(field, models.JSONField):
        return None  # (a JSON field's "" is the JSON string "", a value)
    if value is None and not field.null:
        return "" if isinstance(field, (models.CharField, models.TextField)) else field.get_default()
    return value
