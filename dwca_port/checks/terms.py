"""Checklist items 15 and 16: rowTypes and terms against the GBIF definitions and our declarations."""

from __future__ import annotations

from dwca_port.checks.definitions import definitions
from dwca_port.findings import Finding, Severity
from dwca_port.meta.model import ArchiveDescriptor
from dwca_port.tables.base import GBIF_PROFILE, Table

META_XML = "meta.xml"


def term_findings(descriptor: ArchiveDescriptor, profile: str, declarations: dict[str, Table]) -> list[Finding]:
    known = definitions()
    findings = []
    for table in descriptor.tables:
        definition = known.get(table.row_type)
        declaration = declarations.get(table.row_type)
        if definition is None:
            if profile == GBIF_PROFILE:
                findings.append(
                    Finding(
                        15,
                        "UNKNOWN_ROWTYPE",
                        Severity.BLOCKING,
                        f"rowType {table.row_type} is not registered at GBIF; the IPT refuses the archive (use the "
                        "full profile)",
                        file=META_XML,
                        line=table.line,
                    )
                )
            else:
                findings.append(
                    Finding(
                        15,
                        "UNKNOWN_ROWTYPE",
                        Severity.WARNING,
                        f"rowType {table.row_type} is not registered at GBIF; GBIF ignores {table.file}",
                        file=META_XML,
                        line=table.line,
                    )
                )
        for field in table.fields:
            if not field.term:
                continue
            # The id/coreid column mapped as a field is legal, but only a term its definition
            # defines is expected there (the IPT skips any other, GBIF reports it as unknown).
            if definition is not None and field.term not in definition.properties:
                findings.append(
                    Finding(
                        16,
                        "UNKNOWN_TERM",
                        Severity.WARNING,
                        f"term not defined by the GBIF {definition.title} extension (the IPT skips it)",
                        file=META_XML,
                        line=field.line,
                        term=field.term,
                    )
                )
            elif definition is None and declaration is not None and field.term not in declaration.terms:
                findings.append(
                    Finding(
                        16,
                        "UNKNOWN_TERM",
                        Severity.WARNING,
                        f"term not declared for {table.row_type} (ignored on import)",
                        file=META_XML,
                        line=field.line,
                        term=field.term,
                    )
                )
        if declaration is not None:
            mapped = set(table.terms)
            for column in declaration.columns:
                if column.required and column.mapped and column.term not in mapped:
                    findings.append(
                        Finding(
                            0,
                            "REQUIRED_TERM_MISSING",
                            Severity.LOCAL,
                            f"required term not mapped in meta.xml for {table.row_type}",
                            file=META_XML,
                            line=table.line,
                            term=column.term,
                        )
                    )
    return findings
