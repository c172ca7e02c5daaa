"""Validate a Darwin Core Archive against the checklist (reference dwca-standards.md section 4).

    report = validate_archive("nunavik.zip")                 # profile detected from the rowTypes
    report = validate_archive(path, profile="gbif")          # what an IPT / GBIF would refuse
    report = validate_archive(path, tables=my_declarations)  # declarations other than the registry's

Order: the container (items 1-5), meta.xml (6-16), eml.xml (41-47, coverage read for 46), then
two streaming passes over the data files. The first parses every file with its own meta.xml
settings (17-23), checks values and rows (24-40, 46, 47) and collects identifier sets; the second
checks references against those sets (25, 27, 29, declared references) and names the lines of
repeated UUIDs. Memory holds identifier sets, never rows.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from dwca_port.archive import MAX_XML_BYTES, Archive, ArchiveError, configured, open_archive
from dwca_port.checks.collector import FindingCollector
from dwca_port.checks.columnar import prove_clean
from dwca_port.checks.container import (
    META_XML,
    layout_findings,
    meta_xml_missing,
    metadata_member,
    repeated_row_types,
)
from dwca_port.checks.definitions import definitions
from dwca_port.checks.eml import check_metadata, coverage_findings
from dwca_port.checks.integrity import SecondPass, plan_references
from dwca_port.checks.rows import ArchiveState, RowChecks
from dwca_port.checks.terms import term_findings
from dwca_port.fast_path import wanted
from dwca_port.findings import Finding, Report, Severity
from dwca_port.meta import ArchiveDescriptor, MetaXmlError, check_meta_xml, read_meta_xml
from dwca_port.progress import SILENT, Progress
from dwca_port.tables import ANTENNA, FULL, GBIF_PROFILE, PROFILES, Table, all_tables
from dwca_port.tabular import MAX_COLUMNS, TableReader, TabularError

# Uncompressed bytes of data files from which the columnar fast path is tried first (measured in
# docs/benchmarks.md: below it, DuckDB's set-up costs more than the precise reader takes).
COLUMNAR_ABOVE_BYTES = 8_000_000


def registry_tables() -> tuple[Table, ...]:
    """The toolkit's table declarations."""
    return all_tables()


def detect_profile(descriptor: ArchiveDescriptor) -> str:
    """full when any Antenna rowType is present, else gbif."""
    return FULL if any(row_type.startswith(ANTENNA) for row_type in descriptor.row_types) else GBIF_PROFILE


def validate_archive(
    path: str | os.PathLike | bytes,
    profile: str | None = None,
    tables: Sequence[Table] | None = None,
    progress: Progress = SILENT,
    columnar: bool | None = None,
) -> Report:
    """Check an archive (a path, or the bytes of a zip); the report's `ok` is False on any blocking finding.

    `progress` hears one stage, "validate", in bytes of the data files (both passes).
    `columnar`: try the columnar fast path first (True), never (False), or when the data files pass
    DWCA_COLUMNAR_ABOVE_BYTES (None). The findings are the same either way."""
    if profile is not None and profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; expected one of {', '.join(PROFILES)}")
    collector = FindingCollector()
    try:
        archive = open_archive(path)
    except ArchiveError as error:
        collector.add(error.finding)
        return collector.finish()
    with archive:
        try:
            _validate(
                archive, profile, registry_tables() if tables is None else tuple(tables), collector, progress, columnar
            )
        except ArchiveError as error:  # a member turned out damaged or unsafe while being read
            collector.add(error.finding)
    return collector.finish()


def _validate(
    archive: Archive,
    profile: str | None,
    tables: tuple[Table, ...],
    collector: FindingCollector,
    progress: Progress,
    columnar: bool | None,
) -> None:
    missing = meta_xml_missing(archive)
    if missing:
        collector.add(missing)
        return
    meta_bytes = archive.read(META_XML, configured("MAX_XML_BYTES", MAX_XML_BYTES))
    try:
        descriptor = read_meta_xml(meta_bytes, META_XML)
    except MetaXmlError as error:
        collector.add(error.finding)
        return
    collector.extend(check_meta_xml(meta_bytes, descriptor, META_XML))
    profile = profile or detect_profile(descriptor)
    declarations = {table.row_type: table for table in tables}
    collector.extend(term_findings(descriptor, profile, declarations))
    eml_member, eml_findings = metadata_member(archive, descriptor)
    collector.extend(eml_findings)
    collector.extend(layout_findings(archive, descriptor, eml_member))
    collector.extend(repeated_row_types(descriptor))

    metadata = None
    if eml_member:
        metadata, findings = check_metadata(
            archive.read(eml_member, configured("MAX_XML_BYTES", MAX_XML_BYTES)), eml_member
        )
        collector.extend(findings)
    state = ArchiveState(profile=profile, metadata=metadata, metadata_member=eml_member or "eml.xml")

    checks = [
        RowChecks(
            position, table, declarations.get(table.row_type), definitions().get(table.row_type), state, collector.add
        )
        for position, table in enumerate(descriptor.tables)
        if _readable(archive, table, descriptor, collector)
    ]
    total = sum(archive.size(check.table.file) for check in checks)
    progress.stage("validate", 2 * total, "bytes")
    # proven clean, the data files hold no finding: the precise passes would report none either
    collector.report.columnar = wanted(total, columnar, "COLUMNAR_ABOVE_BYTES", COLUMNAR_ABOVE_BYTES) and prove_clean(
        archive, checks, declarations
    )
    if collector.report.columnar:
        progress.advance(2 * total)
    else:
        _precise_passes(archive, checks, declarations, collector, progress)

    if metadata is not None:
        collector.extend(coverage_findings(metadata, eml_member, state.has_coordinates, state.has_dates))


def _precise_passes(
    archive: Archive,
    checks: list[RowChecks],
    declarations: dict[str, Table],
    collector: FindingCollector,
    progress: Progress,
) -> None:
    """Two streaming passes, line by line: rows and identifier sets, then references and repeats."""
    state = checks[0].state if checks else None
    if state is None:
        return
    complete = set()
    for check in checks:
        if _first_pass(archive, check, collector):
            complete.add(check.position)
        progress.advance(archive.size(check.table.file))
    for identifiers in list(state.identifier_sets.values()) + list(state.media_pairs.values()):
        identifiers.finalize()
    for (position, _), identifiers in state.identifier_sets.items():
        identifiers.complete = position in complete

    plans = plan_references(checks, declarations)
    for check in checks:
        second = SecondPass(check, plans.get(check.position, []), collector.add)
        if check.position in complete and second.needed:
            _second_pass(archive, check, second, collector)
        progress.advance(archive.size(check.table.file))


def _readable(archive: Archive, table, descriptor: ArchiveDescriptor, collector: FindingCollector) -> bool:
    """Whether a table's file can be streamed (missing files and odd declarations are reported elsewhere)."""
    if not table.file or not archive.has(table.file) or archive.size(table.file) == 0:
        return False
    if sum(1 for other in descriptor.tables if other.file == table.file) > 1:
        collector.add(
            Finding(
                4,
                "DATA_FILE_SHARED",
                Severity.LOCAL,
                "several tables name the same data file",
                file=META_XML,
                line=table.line,
            )
        )
        return False
    limit = configured("MAX_COLUMNS", MAX_COLUMNS)
    if table.width > limit:
        collector.add(
            Finding(
                0,
                "TOO_MANY_COLUMNS",
                Severity.LOCAL,
                f"meta.xml declares {table.width} columns for {table.file} (limit {limit})",
                file=META_XML,
                line=table.line,
            )
        )
        return False
    return table.width > 0


def _first_pass(archive: Archive, check: RowChecks, collector: FindingCollector) -> bool:
    """Parse and check every row; True when the whole file could be read."""
    table = check.table
    try:
        with archive.open(table.file) as stream:
            reader = TableReader(stream, table.dialect, member=table.file, width=table.width, on_finding=collector.add)
            header = reader.read_header()
            if header is not None:
                check.check_header(header)
            for line, values in reader:
                check.check(line, values)
    except (TabularError, ArchiveError) as error:
        collector.add(error.finding)
        return False
    return True


def _second_pass(archive: Archive, check: RowChecks, second: SecondPass, collector: FindingCollector) -> None:
    table = check.table
    try:
        with archive.open(table.file) as stream:
            for line, values in TableReader(stream, table.dialect, member=table.file, width=table.width):
                second.row(line, values)
        second.finish()
    except (TabularError, ArchiveError) as error:  # already reported by the first pass
        collector.add(error.finding)
