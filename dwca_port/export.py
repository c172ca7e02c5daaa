"""Database -> tables -> archive: a project as a Darwin Core Archive, by profile.

Rows stream from database cursors straight into zip members (memory does not grow with the
project); every table is written in a stable order (by UUID), so two exports of unchanged data
differ only in the EML's dates and package id. The archive is written next to its destination
and moved there only after it passed validation.
"""
from __future__ import annotations

import contextlib
import datetime
import os
import queue
import sys
import threading
import time
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TextIO

from django.conf import settings
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from isal import isal_zlib

from dwca_port import graph
from dwca_port.eml import parse_licence, write_eml
from dwca_port.extensions import tables_for_profile
from dwca_port.extensions.antenna import VIRTUAL_COLUMNS
from dwca_port.extensions.base import FORMAT_VERSION, GBIF_PROFILE, Kind, Table
from dwca_port.json_references import to_uuids
from dwca_port.meta.write import write_meta_xml
from dwca_port.metadata import dataset_metadata
from dwca_port.selection import Selection
from dwca_port.sql_format import BLOCK, copy_rows, export_session, fetch_rows, formatted_select, is_postgresql
from dwca_port.tabular import TableWriter, dialect_for_profile
from dwca_port.values import format_value

CHUNK = 2000
PROGRESS_EVERY = 100_000


class ExportError(Exception):
    """The project cannot be exported as asked; the message says why and what to do."""


# -- what the Darwin Core tables need to know about the project ------------------------------------


@dataclass(frozen=True)
class HumanIdentification:
    role: str
    created_at: datetime.datetime
    agreed: bool


@dataclass(frozen=True)
class MachineEvidence:
    algorithm: str | None
    timestamp: datetime.datetime
    label: str | None
    score: float | None


@dataclass(frozen=True)
class DetectionEvidence:
    pk: int
    uuid: str
    bbox: list | None
    timestamp: datetime.datetime | None
    detection_score: float | None
    algorithm: str | None


@dataclass
class Evidence:
    """What supports the determinations of one chunk of occurrences."""

    identifications: dict[int, HumanIdentification] = field(default_factory=dict)
    best: dict[int, MachineEvidence] = field(default_factory=dict)
    detections: dict[int, list[DetectionEvidence]] = field(default_factory=lambda: defaultdict(list))
    top_classification: dict[int, MachineEvidence] = field(default_factory=dict)


def _algorithm_label(name: str | None, version_name: str | None) -> str | None:
    return f"{name} (version {version_name})" if name else None


class ExportContext:
    def __init__(self, project, profile: str):
        self.project = project
        self.profile = profile
        licence = parse_licence(project.license)
        self.licence = licence
        self.licence_url = licence.url if licence else None

    @cached_property
    def _deployments(self) -> list:
        from ami.main.models import Deployment

        return list(Deployment.objects.filter(project=self.project).select_related("research_site", "device").order_by("uuid"))

    def deployments(self) -> list:
        return self._deployments

    @cached_property
    def deployment_uuids(self) -> dict[int, object]:
        return {d.pk: d.uuid for d in self._deployments}

    def core_event(self, occurrence) -> object:
        if occurrence.event_id:
            return occurrence.event.uuid
        return self.deployment_uuids.get(occurrence.deployment_id, self.project.uuid)

    def published_occurrences(self) -> models.QuerySet:
        """The occurrences the project publishes: its default filters, and a determination."""
        from ami.main.models import Occurrence

        return (
            Occurrence.objects.filter(project=self.project, determination__isnull=False)
            .filter(self.project.default_filter_q())
        )

    def published_occurrence_chunks(self) -> Iterator[list]:
        """Published occurrences in UUID order, a chunk at a time (keyset pagination: flat memory)."""
        rows = self.published_occurrences().select_related("determination", "event").order_by("uuid")
        last = None
        while True:
            page = list((rows.filter(uuid__gt=last) if last else rows)[:CHUNK])
            if not page:
                return
            yield page
            last = page[-1].uuid

    @cached_property
    def _roles(self) -> dict[int, str]:
        from ami.users.roles import ROLES

        held: dict[int, str] = {}
        for role in ROLES:  # fewest to most permissions: the last one written is the primary role
            for user_id in role.get_group(self.project).user_set.values_list("pk", flat=True):
                held[user_id] = role.display_name
        return held

    def evidence(self, occurrences: list) -> Evidence:
        from ami.main.models import Classification, Detection, Identification

        evidence = Evidence()
        ids = [o.pk for o in occurrences]
        standing = (
            Identification.objects.filter(occurrence_id__in=ids, withdrawn=False)
            .order_by("occurrence_id", "-created_at", "-pk")
            .values_list("occurrence_id", "user_id", "created_at", "agreed_with_prediction_id", "agreed_with_identification_id")
        )
        for occurrence_id, user_id, created_at, agreed_prediction, agreed_identification in standing:
            if occurrence_id not in evidence.identifications:
                role = self._roles.get(user_id, "Former member")
                evidence.identifications[occurrence_id] = HumanIdentification(
                    f"{role} (Antenna project member)", created_at, bool(agreed_prediction or agreed_identification))
        detections = (
            Detection.objects.filter(occurrence_id__in=ids)
            .order_by("occurrence_id", "uuid")
            .values_list("pk", "occurrence_id", "uuid", "bbox", "timestamp", "detection_score",
                         "detection_algorithm__name", "detection_algorithm__version_name")
        )
        detection_occurrence = {}
        for pk, occurrence_id, uuid, bbox, timestamp, score, name, version in detections:
            evidence.detections[occurrence_id].append(
                DetectionEvidence(pk, str(uuid), bbox, timestamp, score, _algorithm_label(name, version)))
            detection_occurrence[pk] = occurrence_id
        classifications = (
            Classification.objects.filter(detection__occurrence_id__in=ids)
            .order_by("detection_id", "-terminal", "-score", "-timestamp", "uuid")
            .values_list("detection_id", "score", "timestamp", "taxon__name", "algorithm__name",
                         "algorithm__version_name", "terminal")
        )
        best_score: dict[int, tuple] = {}
        for detection_id, score, timestamp, label, name, version, terminal in classifications:
            found = MachineEvidence(_algorithm_label(name, version), timestamp, label, score)
            evidence.top_classification.setdefault(detection_id, found)
            occurrence_id = detection_occurrence[detection_id]
            rank = (terminal, score if score is not None else -1.0)
            if occurrence_id not in best_score or rank > best_score[occurrence_id]:
                best_score[occurrence_id] = rank
                evidence.best[occurrence_id] = found
        return evidence


# -- Antenna tables: rows straight from the models ----------------------------------------------


def _core_expression(node: graph.Node, project) -> models.Expression:
    root = Value(project.uuid, output_field=models.UUIDField())
    paths = [f"{path}__uuid" if path != "self" else "uuid" for path in node.core_paths]
    if not paths:
        return root
    return Coalesce(*(F(p) for p in paths), root, output_field=models.UUIDField())


def _value_paths(node: graph.Node) -> list[str]:
    return [f"{f.name}__uuid" if f.is_relation else f.attname for f in node.fields()]


def antenna_rows(table: Table, context: ExportContext, selection: Selection) -> Iterator[list]:
    node = graph.NODES_BY_LABEL[table.node]
    if table.link:
        yield from _link_rows(node, table, context, selection)
        return
    paths = _value_paths(node)
    rows = selection.rows(node).annotate(_core=_core_expression(node, context.project))
    values = rows.order_by("uuid").values_list("_core", "uuid", *paths, "pk")
    kinds = [column.kind for column in table.columns[: 2 + len(paths)]]
    virtual = _virtual_values(node, context)
    # JSON fields holding primary keys of other rows: written with those rows' UUIDs instead.
    json_positions = {2 + paths.index(name): name for name, _, _ in node.json_references}
    for record in values.iterator(chunk_size=CHUNK):
        if json_positions:
            record = list(record)
            for position, name in json_positions.items():
                record[position] = to_uuids(node, name, record[position])
        cells = [format_value(kind, value) for kind, value in zip(kinds, record)]
        if virtual:
            cells.extend(virtual(record[-1]))
        yield cells


def _virtual_values(node: graph.Node, context: ExportContext):
    """The cells of the columns that are not model fields (antenna.VIRTUAL_COLUMNS), by row pk."""
    if node.label == "main.Project":
        return lambda pk: [str(FORMAT_VERSION), settings.TIME_ZONE]
    if node.label == "main.UserProjectMembership":
        from ami.main.models import UserProjectMembership
        from ami.users.roles import roles_of

        memberships = {m.pk: m.user for m in UserProjectMembership.objects.filter(project=context.project).select_related("user")}
        return lambda pk: [" ".join(role.__name__ for role in roles_of(context.project, memberships[pk])) or None]
    return None


def _link_rows(node: graph.Node, table: Table, context: ExportContext, selection: Selection) -> Iterator[list]:
    field = node.model._meta.get_field(table.link)
    through = field.remote_field.through
    source = field.m2m_field_name()
    target = field.m2m_reverse_field_name()
    target_node = graph.graph_target(field)
    links = (
        through.objects.filter(**{f"{source}__in": selection.pks(node), f"{target}__in": selection.pks(target_node)})
        .order_by(f"{source}__uuid", f"{target}__uuid")
        .values_list(f"{source}__uuid", f"{target}__uuid")
    )
    root = str(context.project.uuid)
    for owner, linked in links.iterator(chunk_size=CHUNK):
        yield [root, str(owner), str(linked)]


def antenna_sql(table: Table, context: ExportContext, selection: Selection) -> list[tuple[str, list]] | None:
    """The PostgreSQL form of antenna_rows (dwca_port/sql_format.py); None for the tables whose
    cells need Python (computed columns, JSON holding primary keys): all of them small."""
    node = graph.NODES_BY_LABEL[table.node]
    kinds = [column.kind for column in table.columns]
    root = Value(context.project.uuid, output_field=models.UUIDField())
    if table.link:
        field = node.model._meta.get_field(table.link)
        source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
        links = field.remote_field.through.objects.filter(
            **{f"{source}__in": selection.pks(node), f"{target}__in": selection.pks(graph.graph_target(field))})
        values = links.annotate(_core=root).values_list("_core", f"{source}__uuid", f"{target}__uuid")
        return [formatted_select(values, kinds, order=(1, 2))]
    if node.label in VIRTUAL_COLUMNS or node.json_references:
        return None
    rows = selection.rows(node).annotate(_core=_core_expression(node, context.project))
    return [formatted_select(rows.values_list("_core", "uuid", *_value_paths(node)), kinds, order=(1,))]


# -- writing ------------------------------------------------------------------------------------------


@dataclass
class TableSummary:
    file: str
    rows: int
    bytes: int


@dataclass
class ExportSummary:
    path: Path
    profile: str
    tables: list[TableSummary]
    seconds: float
    warnings: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def _rows_for(table: Table, context: ExportContext, selection: Selection) -> Iterable[list]:
    return table.rows(context) if table.rows else antenna_rows(table, context, selection)


def _statements_for(table: Table, context: ExportContext, selection: Selection) -> list[tuple[str, list]] | None:
    if table.rows:
        return table.sql(context) if table.sql else None
    return antenna_sql(table, context, selection)


class _BlockWriter:
    """Writes to a zip member in blocks of about BLOCK bytes (zipfile compresses and checksums
    every write), from a second thread: deflate works there while the database formats the
    next rows. A few blocks wait at most, so memory stays bounded."""

    def __init__(self, member):
        self._member = member
        self._block = bytearray()
        self._queue: queue.Queue = queue.Queue(maxsize=4)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def write(self, data) -> int:
        self._block += data
        if len(self._block) >= BLOCK:
            self._send()
        return len(data)

    def _send(self) -> None:
        if self._error:
            raise self._error
        self._queue.put(bytes(self._block))
        self._block.clear()

    def _drain(self) -> None:
        while (block := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._member.write(block)
                except BaseException as error:  # re-raised in the writing thread
                    self._error = error

    def close(self) -> None:
        self._send()
        self._queue.put(None)
        self._thread.join()
        if self._error:
            raise self._error


def _fast_deflate(member) -> None:
    """zlib at level 1 was a third of a PostgreSQL export's time; ISA-L's deflate writes the same
    format several times faster. zipfile takes no compressor, so the member's own is replaced
    before the first byte (its interface is the same: compress, flush)."""
    if getattr(member, "_compressor", None) is not None and getattr(member, "_file_size", None) == 0:
        member._compressor = isal_zlib.compressobj(1, isal_zlib.DEFLATED, -15)  # raw deflate, as zipfile's


@contextlib.contextmanager
def _blocks(member):
    _fast_deflate(member)
    writer = _BlockWriter(member)
    try:
        yield writer
    finally:
        writer.close()


def _write_table(archive: zipfile.ZipFile, table: Table, context: ExportContext, selection: Selection | None,
                 in_sql: bool, say) -> TableSummary:
    dialect = dialect_for_profile(context.profile)
    statements = _statements_for(table, context, selection) if in_sql else None
    with archive.open(_member(table.file), "w", force_zip64=True) as member, _blocks(member) as stream:
        writer = TableWriter(stream, dialect)
        writer.write_header([column.name for column in table.columns])
        copied = 0
        if statements is not None and dialect.enclosure:
            # The full dialect is PostgreSQL's CSV with a TAB delimiter: the server writes the file.
            for statement in statements:
                done = copied
                copied += copy_rows(statement, stream, lambda rows: say(f"{table.file}: {done + rows:,} rows"),
                                    every=PROGRESS_EVERY)
        else:
            rows = (_rows_for(table, context, selection) if statements is None
                    else (row for statement in statements for row in fetch_rows(statement)))
            for row in rows:
                writer.write_row(_cells(row))
                if writer.rows_written % PROGRESS_EVERY == 0:
                    say(f"{table.file}: {writer.rows_written:,} rows")
    rows_written = copied + writer.rows_written
    say(f"{table.file}: {rows_written:,} rows")
    return TableSummary(table.file, rows_written, archive.getinfo(table.file).file_size)


def _cells(row: list) -> list[str]:
    return ["" if cell is None else cell for cell in row]


def export_project(project, output: str | os.PathLike, profile: str = "full", progress: TextIO | None = sys.stderr,
                   validate: bool = True, in_sql: bool | None = None) -> ExportSummary:
    """Write `project` as a Darwin Core Archive at `output`. Raises ExportError when the project
    cannot be exported in that profile or the result does not pass validation.

    `in_sql` (default: on PostgreSQL) lets the database format the rows of the tables that have
    an SQL form; False writes every row through the Python builders, which give the same bytes."""
    in_sql = is_postgresql() if in_sql is None else in_sql
    started = time.monotonic()
    output = Path(output)
    context = ExportContext(project, profile)
    if profile == GBIF_PROFILE and context.licence is None:
        raise ExportError(
            f"project {project.pk} has no licence GBIF accepts (it has {project.license or 'none'!r}): "
            "set Project.license to CC0-1.0, CC-BY-4.0 or CC-BY-NC-4.0 before exporting the gbif profile"
        )
    tables = tables_for_profile(profile)
    selection = Selection(project) if profile != GBIF_PROFILE else None
    partial = output.with_name(output.name + ".partial")
    summaries = []

    def say(message: str) -> None:
        if progress:
            progress.write(f"[{time.monotonic() - started:7.1f}s] {message}\n")
            progress.flush()

    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive, export_session():
            archive.writestr(_member("meta.xml"), write_meta_xml(tables, dialect_for_profile(profile)))
            archive.writestr(_member("eml.xml"), write_eml(dataset_metadata(context)))
            for table in tables:
                summaries.append(_write_table(archive, table, context, selection, in_sql, say))
        if validate:
            _validate(partial, profile, say)
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return ExportSummary(output, profile, summaries, time.monotonic() - started)


def _member(name: str) -> zipfile.ZipInfo:
    # A fixed timestamp: two exports of the same data give the same member headers.
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _validate(path: Path, profile: str, say) -> None:
    from dwca_port.validate import validate_archive

    say("validating the archive")
    report = validate_archive(path, profile=profile)
    if not report.ok:
        shown = "\n".join(f"  {finding}" for finding in report.blocking[:20])
        more = len(report.blocking) - 20
        raise ExportError(
            f"the exported archive does not pass validation ({len(report.blocking)} blocking findings):\n{shown}"
            + (f"\n  ... and {more} more" if more > 0 else "")
        )
