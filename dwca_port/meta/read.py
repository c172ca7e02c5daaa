"""Reading meta.xml into an ArchiveDescriptor, leniently: structure problems are for check.py to report."""

from __future__ import annotations

from dwca_port.findings import Finding, Severity
from dwca_port.meta.model import FORMAT_ATTRIBUTES, ArchiveDescriptor, FieldDescriptor, TableDescriptor
from dwca_port.meta.xmlsafe import XmlError, local_name, parse_untrusted_xml

_ESCAPES = {"\\t": "\t", "\\n": "\n", "\\r": "\r", "\\f": "\f"}


class MetaXmlError(XmlError):
    """meta.xml cannot be read at all (unsafe, not well-formed, not an archive document)."""


def unescape(value: str) -> str:
    r"""meta.xml writes control characters as backslash escapes (\t, \n, \r\n)."""
    for escaped, character in _ESCAPES.items():
        value = value.replace(escaped, character)
    return value


def _integer(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def read_meta_xml(data: bytes, member: str = "meta.xml") -> ArchiveDescriptor:
    """Parse meta.xml safely (no DTD, entities or network). Raises MetaXmlError when unusable."""
    try:
        tree = parse_untrusted_xml(data, member=member, item=6)
    except XmlError as error:
        raise MetaXmlError(error.finding) from None
    root = tree.getroot()
    if local_name(root) != "archive":
        raise MetaXmlError(
            Finding(
                6,
                "DWCA_META_XML_SCHEMA",
                Severity.BLOCKING,
                f"root element is <{local_name(root)}>, not <archive>",
                file=member,
                line=root.sourceline,
            )
        )
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else None
    descriptor = ArchiveDescriptor(metadata=root.get("metadata"), root_namespace=namespace)
    for element in root:
        kind = local_name(element)
        if kind in ("core", "extension"):
            descriptor.tables.append(_read_table(element, core=kind == "core"))
    return descriptor


def _read_table(element, core: bool) -> TableDescriptor:
    table = TableDescriptor(row_type=(element.get("rowType") or "").strip(), core=core, line=element.sourceline)
    for name in FORMAT_ATTRIBUTES:
        if name in element.attrib:
            table.attributes[name] = unescape(element.get(name))
    for child in element:
        kind = local_name(child)
        if kind == "files":
            table.locations = [
                (location.text or "").strip() for location in child if local_name(location) == "location"
            ]
        elif kind in ("id", "coreid"):
            table.has_id_element = True
            table.id_index = _integer(child.get("index"))
        elif kind == "field":
            table.fields.append(
                FieldDescriptor(
                    term=(child.get("term") or "").strip(),
                    index=_integer(child.get("index")),
                    default=child.get("default"),
                    vocabulary=child.get("vocabulary"),
                    delimited_by=child.get("delimitedBy"),
                    line=child.sourceline,
                )
            )
    return table
