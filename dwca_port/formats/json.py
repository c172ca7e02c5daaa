"""The JSON interchange form: the same Antenna tables as the full archive, in upstream's layout.

    {"format_version": 1, "exported_at": "...", "time_zone": "America/New_York",
     "project": {...},
     "shared_references": {"users.User": [...], "main.Taxon": [...], ...},
     "models": {"main.Deployment": [...], ..., "main.Taxon.projects": [...]}}

Each row is an object keyed by the columns' term names, with JSON-native values (numbers,
booleans, nested JSON; UUIDs and dates as strings). It is written by streaming the same row
generators as the archive and read back into the same cells, so the importer has one path.
Reading holds the document in memory: the archive is the form for big projects.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings

from dwca_port import graph
from dwca_port.findings import Finding, Severity
from dwca_port.formats.base import Row, SourceError, TableSummary
from dwca_port.progress import SILENT, Progress
from dwca_port.tables import Table
from dwca_port.tables.context import ExportContext
from dwca_port.values import Kind, canonical_json, format_float
from dwca_port.versions import FORMAT_VERSION, unsupported

SECTIONS = ("project", "shared_references", "models")


def _key(table: Table) -> str:
    return f"{table.node}.{table.link}" if table.link else table.node


def _section(table: Table) -> str:
    node = graph.NODES_BY_LABEL[table.node]
    if node.root and not table.link:
        return "project"
    return "models" if table.link or node.scope is graph.Scope.PROJECT else "shared_references"


def _to_json(kind: Kind, text: str | None) -> Any:
    if text is None or text == "":
        return None if kind is not Kind.TEXT else text
    if kind is Kind.INTEGER:
        return int(text)
    if kind is Kind.DECIMAL:
        return float(text)
    if kind is Kind.BOOLEAN:
        return text == "true"
    if kind is Kind.JSON:
        return json.loads(text)
    return text


def _from_json(kind: Kind, value: Any) -> str | None:
    if value is None:
        return None
    if kind is Kind.JSON:
        return canonical_json(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    return str(value)


def write_json(
    path: Path, context: ExportContext, tables: tuple[Table, ...], progress: Progress = SILENT
) -> list[TableSummary]:
    """Write the Antenna tables (those of a graph node) as the JSON form at `path`."""
    sections: dict[str, list[Table]] = {section: [] for section in SECTIONS}
    for table in tables:
        if table.node:
            sections[_section(table)].append(table)
    summaries = []
    with path.open("w", encoding="utf-8") as out:
        out.write("{\n")
        out.write(f'"format_version": {FORMAT_VERSION},\n')
        out.write(f'"exported_at": {json.dumps(datetime.datetime.now().isoformat(timespec="seconds"))},\n')
        out.write(f'"time_zone": {json.dumps(settings.TIME_ZONE)},\n')
        for section, members in sections.items():
            out.write(f"{json.dumps(section)}: " + ("" if section == "project" else "{\n"))
            for position, table in enumerate(members):
                rows = 0
                names = [c.name for c in table.columns[1:]]  # the core link is an archive notion
                kinds = [c.kind for c in table.columns[1:]]
                if section != "project":
                    out.write(f"{json.dumps(_key(table))}: [")
                progress.stage(_key(table), table.count(context) if table.count and progress is not SILENT else None)
                for row in table.rows(context):
                    record = json.dumps(
                        {name: _to_json(kind, cell) for name, kind, cell in zip(names, kinds, row[1:])},
                        ensure_ascii=False,
                        sort_keys=True,
                    )
                    out.write(record if section == "project" else ("," if rows else "") + "\n  " + record)
                    rows += 1
                    progress.advance(1)
                if section != "project":
                    out.write("\n]" + ("," if position < len(members) - 1 else "") + "\n")
                summaries.append(TableSummary(_key(table), rows, 0))
            out.write(("" if section == "project" else "}") + (",\n" if section != "models" else "\n"))
        out.write("}\n")
    return summaries


class JsonSource:
    """The JSON form as the importer's table source."""

    def __init__(self, path: str | Path):
        self.label = str(path)
        self._file = Path(path).name
        try:
            with Path(path).open(encoding="utf-8") as handle:
                self._document = json.load(handle)
        except UnicodeDecodeError as error:
            raise SourceError(
                Finding(17, "ENCODING_INVALID", Severity.LOCAL, f"not UTF-8 at byte {error.start}", file=self._file)
            ) from None
        except RecursionError:  # a hostile document nested deeper than Python's parser goes
            raise SourceError(
                Finding(
                    0,
                    "JSON_INVALID",
                    Severity.BLOCKING,
                    "not JSON this reader accepts: nested too deep",
                    file=self._file,
                )
            ) from None
        except json.JSONDecodeError as error:
            raise SourceError(
                Finding(
                    0,
                    "JSON_INVALID",
                    Severity.BLOCKING,
                    f"not JSON: {error.msg}",
                    file=self._file,
                    line=error.lineno,
                    column=error.colno,
                )
            ) from None
        if not isinstance(self._document, dict) or "format_version" not in self._document:
            raise SourceError(
                Finding(
                    0,
                    "JSON_NOT_AN_EXPORT",
                    Severity.BLOCKING,
                    "no format_version: not an Antenna project export",
                    file=self._file,
                )
            )
        version = self._document["format_version"]
        refusal = unsupported(version) if isinstance(version, int) else f"format_version {version!r} is not a number"
        if refusal:
            raise SourceError(Finding(0, "FORMAT_VERSION_UNSUPPORTED", Severity.BLOCKING, refusal, file=self._file))
        self._root = str((self._document.get("project") or {}).get("projectID", ""))

    def _records(self, table: Table) -> list[dict] | None:
        section = _section(table)
        if section == "project":
            project = self._document.get("project")
            if project is None:
                return None
            project = dict(project)
            project.setdefault("formatVersion", self._document["format_version"])
            project.setdefault("timeZone", self._document.get("time_zone"))
            return [project]
        records = (self._document.get(section) or {}).get(_key(table))
        return records

    def has(self, table: Table) -> bool:
        return self._records(table) is not None

    def member(self, table: Table) -> str:
        return f"{self._file} [{_key(table)}]"

    def rows(self, table: Table) -> Iterator[Row]:
        records = self._records(table) or []
        if not isinstance(records, list):
            raise SourceError(
                Finding(0, "JSON_SHAPE", Severity.BLOCKING, f"{_key(table)} is not a list", file=self._file)
            )
        for position, record in enumerate(records, start=1):
            if not isinstance(record, dict):
                raise SourceError(
                    Finding(
                        0,
                        "JSON_SHAPE",
                        Severity.BLOCKING,
                        f"{_key(table)}[{position}] is not an object",
                        file=self._file,
                    )
                )
            cells = [self._root] + [_from_json(c.kind, record.get(c.name)) for c in table.columns[1:]]
            yield position, cells

    def close(self) -> None:
        pass
