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
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings

from dwca_port import graph
from dwca_port.export import ExportContext, ExportSummary, TableSummary, antenna_rows
from dwca_port.extensions import tables_for_profile
from dwca_port.extensions.base import FORMAT_VERSION, FULL, Kind, Table
from dwca_port.findings import Finding, Severity
from dwca_port.selection import Selection
from dwca_port.sources import Row, SourceError
from dwca_port.values import canonical_json, format_float


def _key(table: Table) -> str:
    return f"{table.node}.{table.link}" if table.link else table.node


def _section(table: Table) -> str:
    if table.node == "main.Project" and not table.link:
        return "project"
    node = graph.NODES_BY_LABEL[table.node]
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


def _tables() -> list[Table]:
    return [t for t in tables_for_profile(FULL) if t.node]


def export_json(project, output: str | os.PathLike, progress: TextIO | None = sys.stderr) -> ExportSummary:
    started = time.monotonic()
    output = Path(output)
    context = ExportContext(project, FULL)
    selection = Selection(project)
    partial = output.with_name(output.name + ".partial")
    summaries = []
    sections: dict[str, list[Table]] = {"project": [], "shared_references": [], "models": []}
    for table in _tables():
        sections[_section(table)].append(table)
    try:
        with partial.open("w", encoding="utf-8") as out:
            out.write("{\n")
            out.write(f'"format_version": {FORMAT_VERSION},\n')
            out.write(f'"exported_at": {json.dumps(datetime.datetime.now().isoformat(timespec="seconds"))},\n')
            out.write(f'"time_zone": {json.dumps(settings.TIME_ZONE)},\n')
            for section, tables in sections.items():
                out.write(f'{json.dumps(section)}: ' + ("" if section == "project" else "{\n"))
                for position, table in enumerate(tables):
                    rows = 0
                    names = [c.name for c in table.columns[1:]]  # the core link is an archive notion
                    kinds = [c.kind for c in table.columns[1:]]
                    if section != "project":
                        out.write(f'{json.dumps(_key(table))}: [')
                    for row in antenna_rows(table, context, selection):
                        record = {name: _to_json(kind, cell) for name, kind, cell in zip(names, kinds, row[1:])}
                        if section == "project":
                            out.write(json.dumps(record, ensure_ascii=False, sort_keys=True))
                        else:
                            out.write(("," if rows else "") + "\n  " + json.dumps(record, ensure_ascii=False, sort_keys=True))
                        rows += 1
                    if section != "project":
                        out.write("\n]" + ("," if position < len(tables) - 1 else "") + "\n")
                    summaries.append(TableSummary(_key(table), rows, 0))
                out.write(("" if section == "project" else "}") + (",\n" if section != "models" else "\n"))
            out.write("}\n")
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if progress:
        progress.write(f"[{time.monotonic() - started:7.1f}s] wrote {output}\n")
    return ExportSummary(output, "full (json)", summaries, time.monotonic() - started)


class JsonSource:
    """The JSON form as the importer's table source."""

    def __init__(self, path: str | Path):
        self.label = str(path)
        self._file = Path(path).name
        try:
            with Path(path).open(encoding="utf-8") as handle:
                self._document = json.load(handle)
        except UnicodeDecodeError as error:
            raise SourceError(Finding(17, "ENCODING_INVALID", Severity.LOCAL,
                                      f"not UTF-8 at byte {error.start}", file=self._file)) from None
        except json.JSONDecodeError as error:
            raise SourceError(Finding(0, "JSON_INVALID", Severity.BLOCKING,
                                      f"not JSON: {error.msg}", file=self._file, line=error.lineno,
                                      column=error.colno)) from None
        if not isinstance(self._document, dict) or "format_version" not in self._document:
            raise SourceError(Finding(0, "JSON_NOT_AN_EXPORT", Severity.BLOCKING,
                                      "no format_version: not an Antenna project export", file=self._file))
        version = self._document["format_version"]
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise SourceError(Finding(0, "FORMAT_VERSION_UNSUPPORTED", Severity.BLOCKING,
                                      f"format_version {version!r}: this toolkit reads up to {FORMAT_VERSION}",
                                      file=self._file))
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
            raise SourceError(Finding(0, "JSON_SHAPE", Severity.BLOCKING, f"{_key(table)} is not a list", file=self._file))
        for position, record in enumerate(records, start=1):
            if not isinstance(record, dict):
                raise SourceError(Finding(0, "JSON_SHAPE", Severity.BLOCKING,
                                          f"{_key(table)}[{position}] is not an object", file=self._file))
            cells = [self._root] + [_from_json(c.kind, record.get(c.name)) for c in table.columns[1:]]
            yield position, cells

    def close(self) -> None:
        pass
