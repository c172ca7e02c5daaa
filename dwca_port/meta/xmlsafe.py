"""Parsing XML that comes from an archive: no DTD, no entities, no network, a clear finding when refused.

Entity expansion ("billion laughs") and external entities (XXE: reading local files or URLs
through `<!ENTITY x SYSTEM ...>`) both need a document type declaration, so any DTD is refused
before the parser sees the document, and checked again on the parsed tree.
"""

from __future__ import annotations

import re

from lxml import etree

from dwca_port.findings import Finding, Severity
from dwca_port.schemas import safe_parser

_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class XmlError(Exception):
    """An XML member cannot be used; `finding` says where and why."""

    def __init__(self, finding: Finding):
        super().__init__(str(finding))
        self.finding = finding


def parse_untrusted_xml(
    data: bytes, *, member: str, item: int, severity: Severity = Severity.BLOCKING
) -> etree._ElementTree:
    """Parse `data` safely; raises XmlError (with checklist `item`) when it is refused or not well-formed."""
    refused = Finding(
        item,
        "XML_DTD_FORBIDDEN",
        severity,
        "declares a DTD or entities (<!DOCTYPE>/<!ENTITY>): refused, as entity expansion and external entities are "
        "attacks",
        file=member,
    )
    if _DECLARATION.search(data):
        raise XmlError(refused)
    try:
        tree = etree.ElementTree(etree.fromstring(data, safe_parser()))
    except etree.XMLSyntaxError as error:
        raise XmlError(
            Finding(
                item,
                "XML_NOT_WELL_FORMED",
                severity,
                f"not well-formed XML: {error.msg}",
                file=member,
                line=error.lineno or None,
            )
        ) from None
    except ValueError as error:  # e.g. an encoding declaration lxml rejects for bytes
        raise XmlError(
            Finding(item, "XML_NOT_WELL_FORMED", severity, f"not well-formed XML: {error}", file=member)
        ) from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise XmlError(refused)
    return tree


def local_name(element) -> str:
    """The tag without its namespace (comments and processing instructions give "")."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]
