"""Checklist items 2-5: what is in the zip, against what meta.xml names."""

from __future__ import annotations

from dwca_port.archive import Archive
from dwca_port.findings import Finding, Severity
from dwca_port.meta.model import ArchiveDescriptor

META_XML = "meta.xml"
EML_FALLBACKS = ("eml.xml", "EML.xml")


def meta_xml_missing(archive: Archive) -> Finding | None:
    """Item 2: meta.xml at the root, exactly so named."""
    if archive.has(META_XML):
        return None
    elsewhere = [name for name in archive.names if name.rsplit("/", 1)[-1].lower() == META_XML]
    hint = (
        f" (found {', '.join(elsewhere)}: it must sit at the archive root, named exactly meta.xml)" if elsewhere else ""
    )
    return Finding(
        2, "DWCA_META_XML_NOT_FOUND", Severity.BLOCKING, f"no meta.xml at the archive root{hint}", file=META_XML
    )


def metadata_member(archive: Archive, descriptor: ArchiveDescriptor) -> tuple[str | None, list[Finding]]:
    """Item 3: the EML file named by archive/@metadata (readers fall back to eml.xml / EML.xml)."""
    if descriptor.metadata:
        if archive.has(descriptor.metadata):
            return descriptor.metadata, []
        return None, [
            Finding(
                3,
                "EML_NOT_FOUND",
                Severity.WARNING,
                f"meta.xml names metadata {descriptor.metadata!r}, which is not in the archive",
                file=META_XML,
            )
        ]
    for name in EML_FALLBACKS:
        if archive.has(name):
            return name, [
                Finding(
                    3,
                    "EML_NOT_FOUND",
                    Severity.WARNING,
                    f"meta.xml has no metadata attribute (readers guess {name})",
                    file=META_XML,
                )
            ]
    return None, [
        Finding(3, "EML_NOT_FOUND", Severity.WARNING, "no metadata attribute in meta.xml and no eml.xml", file=META_XML)
    ]


def layout_findings(archive: Archive, descriptor: ArchiveDescriptor, eml_member: str | None) -> list[Finding]:
    """Items 4 and 5: every location present and not empty, nothing else in the zip."""
    findings = []
    locations = set()
    for table in descriptor.tables:
        for location in table.locations:
            locations.add(location)
            if not archive.has(location):
                findings.append(
                    Finding(
                        4,
                        "DATA_FILE_NOT_FOUND",
                        Severity.BLOCKING,
                        f"meta.xml names {location!r} ({table.row_type}), which is not in the archive",
                        file=META_XML,
                        line=table.line,
                    )
                )
                continue
            if "/" in location:
                findings.append(
                    Finding(
                        4,
                        "LOCATION_NOT_AT_ROOT",
                        Severity.LOCAL,
                        "data file is in a folder; keep every file at the archive root",
                        file=location,
                    )
                )
            if archive.size(location) == 0:
                findings.append(
                    Finding(
                        5,
                        "DATA_FILE_EMPTY",
                        Severity.LOCAL,
                        "data file is empty (0 bytes); write at least the header line",
                        file=location,
                    )
                )
    expected = locations | {META_XML} | ({eml_member} if eml_member else set())
    for name in archive.names:
        if name in expected:
            continue
        why = (
            "macOS resource fork" if name.startswith(("__MACOSX/", "._")) or "/._" in name else "not named by meta.xml"
        )
        findings.append(Finding(4, "EXTRA_FILE", Severity.LOCAL, f"unexpected file in the archive ({why})", file=name))
    for name in archive.directories:
        findings.append(
            Finding(
                4,
                "ARCHIVE_DIRECTORY",
                Severity.LOCAL,
                "directory entry in the archive; keep every file at the root",
                file=name,
            )
        )
    return findings


def repeated_row_types(descriptor: ArchiveDescriptor) -> list[Finding]:
    """Two extension files of one rowType: dwca-io and other readers key extensions by rowType
    and keep only one of them, so the other file's rows would be silently lost."""
    findings, seen = [], {}
    for table in descriptor.tables:
        if table.core:
            continue
        first = seen.setdefault(table.row_type, table)
        if first is not table:
            findings.append(
                Finding(
                    0,
                    "ROWTYPE_REPEATED",
                    Severity.BLOCKING,
                    f"{'/'.join(table.locations) or 'an extension'} is declared with rowType {table.row_type}, "
                    f"like {'/'.join(first.locations) or 'an earlier extension'}; readers keep only one "
                    "extension per rowType",
                    file=META_XML,
                    line=table.line,
                )
            )
    return findings
