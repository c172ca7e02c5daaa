"""Writing meta.xml from the Table declarations: every format attribute explicit, core first."""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from dwca_port.meta.model import DWC_TEXT_NS
from dwca_port.tables.base import Table
from dwca_port.tabular import Dialect

_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escaped(value: str) -> str:
    return "".join(_ESCAPES.get(character, character) for character in value)


def write_meta_xml(tables: Sequence[Table], dialect: Dialect, metadata: str = "eml.xml") -> bytes:
    """meta.xml for `tables` written in `dialect`: one core (written first), then the extensions in order.

    Column 0 of each table is its id (core) or coreid (extension), and is also mapped as a field
    unless its declaration says the extension does not define its term (`Column.mapped`).
    """
    cores = [table for table in tables if table.core]
    if len(cores) != 1:
        raise ValueError(f"an archive has exactly one core table, not {len(cores)}")
    archive = etree.Element(f"{{{DWC_TEXT_NS}}}archive", nsmap={None: DWC_TEXT_NS})
    archive.set("metadata", metadata)
    for table in cores + [table for table in tables if not table.core]:
        element = etree.SubElement(archive, f"{{{DWC_TEXT_NS}}}{'core' if table.core else 'extension'}")
        element.set("encoding", dialect.encoding)
        element.set("fieldsTerminatedBy", _escaped(dialect.delimiter))
        element.set("linesTerminatedBy", _escaped(dialect.line_terminator))
        element.set("fieldsEnclosedBy", dialect.enclosure)
        element.set("ignoreHeaderLines", str(dialect.header_lines))
        element.set("rowType", table.row_type)
        files = etree.SubElement(element, f"{{{DWC_TEXT_NS}}}files")
        etree.SubElement(files, f"{{{DWC_TEXT_NS}}}location").text = table.file
        etree.SubElement(element, f"{{{DWC_TEXT_NS}}}{'id' if table.core else 'coreid'}", index="0")
        for index, column in enumerate(table.columns):
            if not column.mapped:
                continue
            etree.SubElement(element, f"{{{DWC_TEXT_NS}}}field", index=str(index), term=column.term)
    body = etree.tostring(archive, encoding="unicode", pretty_print=True)
    # lxml writes its declaration with single quotes; some readers are picky, so write our own.
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode("utf-8")
