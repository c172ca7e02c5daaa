"""Checks of meta.xml itself (checklist items 6-14): the XSD, and what the XSD cannot say."""

from __future__ import annotations

import re
from collections import Counter

from lxml import etree

from dwca_port.findings import Finding, Severity
from dwca_port.meta.model import DWC_TEXT_NS, FORMAT_ATTRIBUTES, ArchiveDescriptor
from dwca_port.schemas import DWC_TEXT, load_schema, safe_parser

MAX_SCHEMA_ERRORS = 10
_ROOT_TAG = re.compile(rb"<(?:([\w.-]+):)?archive\b[^>]*>", re.DOTALL)


def check_meta_xml(data: bytes, descriptor: ArchiveDescriptor, member: str = "meta.xml") -> list[Finding]:
    """Findings for a meta.xml that `read_meta_xml` could already read into `descriptor`."""
    findings = _schema_findings(data, member)
    findings += _namespace_findings(data, member)

    def add(item, code, severity, message, line=None, term=""):
        findings.append(Finding(item, code, severity, message, file=member, line=line, term=term))

    if len(descriptor.cores) != 1:
        add(
            7,
            "CORE_COUNT",
            Severity.BLOCKING,
            f"meta.xml declares {len(descriptor.cores)} core tables; exactly one is required",
        )
    for table in descriptor.tables:
        what = f"{'core' if table.core else 'extension'} {table.row_type or '(no rowType)'}"
        if table.core and table.id_index is None:
            add(
                8,
                "CORE_ID_MISSING",
                Severity.LOCAL,
                f"{what} has no <id index=...> (python-dwca-reader fails without it)",
                table.line,
            )
        if not table.core and table.id_index is None:
            add(
                9,
                "EXTENSION_COREID_MISSING",
                Severity.BLOCKING,
                f"{what} has no <coreid index=...>; readers drop the extension",
                table.line,
            )
        if table.id_index is not None and table.id_index < 0:
            add(6, "DWCA_META_XML_SCHEMA", Severity.BLOCKING, f"{what}: negative id index", table.line)
        for field in table.fields:
            if not field.term:
                add(10, "FIELD_WITHOUT_TERM", Severity.LOCAL, f"{what}: a field without a term", field.line)
            if field.index is None and field.default is None:
                add(
                    10,
                    "FIELD_MAPPED_TO_NOTHING",
                    Severity.LOCAL,
                    f"{what}: field has neither index nor default",
                    field.line,
                    field.term,
                )
            if field.index is not None and field.index < 0:
                add(
                    6,
                    "DWCA_META_XML_SCHEMA",
                    Severity.BLOCKING,
                    f"{what}: negative field index",
                    field.line,
                    field.term,
                )
        for term, count in Counter(f.term for f in table.fields if f.term).items():
            if count > 1:
                add(11, "DUPLICATED_TERM", Severity.BLOCKING, f"{what}: term mapped {count} times", table.line, term)
        for index, count in Counter(f.index for f in table.fields if f.index is not None).items():
            if count > 1:
                terms = ", ".join(f.term.rsplit("/", 1)[-1] for f in table.fields if f.index == index)
                add(
                    12,
                    "SHARED_COLUMN_INDEX",
                    Severity.BLOCKING,
                    f"{what}: column {index} is mapped to several terms ({terms})",
                    table.line,
                )
        missing = [name for name in FORMAT_ATTRIBUTES if name not in table.attributes]
        if missing:
            add(
                13,
                "FORMAT_ATTRIBUTE_MISSING",
                Severity.LOCAL,
                f"{what}: {', '.join(missing)} not written explicitly (reader defaults differ)",
                table.line,
            )
        if len(table.attributes.get("fieldsEnclosedBy", "")) > 1:
            add(
                13,
                "ENCLOSURE_TOO_LONG",
                Severity.LOCAL,
                f"{what}: fieldsEnclosedBy must be at most one character",
                table.line,
            )
        if len(table.locations) != 1:
            add(
                13,
                "LOCATION_COUNT",
                Severity.LOCAL,
                f"{what}: {len(table.locations)} <location> elements; exactly one is read by common readers",
                table.line,
            )
    return findings


def _schema_findings(data: bytes, member: str) -> list[Finding]:
    document = etree.fromstring(data, safe_parser())  # already known to be safe and well-formed
    schema = load_schema(DWC_TEXT)
    if schema.validate(etree.ElementTree(document)):
        return []
    errors = list(schema.error_log)
    findings = [
        Finding(
            6,
            "DWCA_META_XML_SCHEMA",
            Severity.BLOCKING,
            f"not valid against tdwg_dwc_text.xsd: {error.message}",
            file=member,
            line=error.line,
        )
        for error in errors[:MAX_SCHEMA_ERRORS]
    ]
    if len(errors) > MAX_SCHEMA_ERRORS:
        findings.append(
            Finding(
                6,
                "DWCA_META_XML_SCHEMA",
                Severity.BLOCKING,
                f"... and {len(errors) - MAX_SCHEMA_ERRORS} more schema errors",
                file=member,
            )
        )
    return findings


def _namespace_findings(data: bytes, member: str) -> list[Finding]:
    """python-dwca-reader strips only a double-quoted, unprefixed xmlns declaration (item 14)."""
    match = _ROOT_TAG.search(data)
    if not match:
        return []
    start_tag = match.group(0)
    if match.group(1):
        message = 'the root element uses a namespace prefix; declare the namespace as the default (xmlns="...")'
    elif f'xmlns="{DWC_TEXT_NS}"'.encode() in start_tag:
        return []
    elif f"xmlns='{DWC_TEXT_NS}'".encode() in start_tag:
        message = "the xmlns declaration uses single quotes; use double quotes"
    else:
        return []  # a missing or wrong namespace is a schema error (item 6)
    return [
        Finding(
            14, "XMLNS_DECLARATION", Severity.LOCAL, message, file=member, line=data[: match.start()].count(b"\n") + 1
        )
    ]
