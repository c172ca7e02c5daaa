"""eml.xml for the validator: dwca_port.eml checks it (items 41-45, 47) and reads it; the data
checks then compare rows with its licence (item 40) and its coverage (item 46)."""

from __future__ import annotations

from dwca_port.eml import DatasetMetadata, EmlError, check_eml, read_eml
from dwca_port.findings import Finding, Severity


def check_metadata(data: bytes, member: str) -> tuple[DatasetMetadata | None, list[Finding]]:
    """(metadata, findings); metadata is None when the document cannot be read as EML."""
    findings = check_eml(data, member)
    if any(finding.item == 41 for finding in findings):
        return None, findings
    try:
        return read_eml(data), findings
    except EmlError:  # not EML at all: check_eml has said so (items 42, 45)
        return None, findings


def coverage_findings(metadata: DatasetMetadata, member: str, has_coordinates: bool, has_dates: bool) -> list[Finding]:
    """Item 46, the part that is not row by row: coverage absent although the data could fill it."""
    findings = []
    if has_coordinates and metadata.geographic_coverage is None:
        findings.append(
            Finding(
                46,
                "COVERAGE_MISSING",
                Severity.WARNING,
                "no geographic coverage (bounding coordinates) although the data has coordinates",
                file=member,
            )
        )
    if has_dates and metadata.temporal_coverage is None:
        findings.append(
            Finding(
                46,
                "COVERAGE_MISSING",
                Severity.WARNING,
                "no temporal coverage although the data has event dates",
                file=member,
            )
        )
    return findings
