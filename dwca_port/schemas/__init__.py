"""Offline access to the XML Schemas and GBIF definitions the toolkit validates against.

The files are unchanged copies (SOURCES.txt names repository, commit and checksum of each).
Nothing here touches the network: remote xs:import locations of the xml: namespace are mapped
to the local xml.xsd, and extension.xsd, which uses xml:lang without importing it, gets that
import added in memory.
"""

from __future__ import annotations

import functools
from pathlib import Path

from lxml import etree

SCHEMA_DIR = Path(__file__).resolve().parent
_XML_XSD = SCHEMA_DIR / "gbif-extensions" / "schema" / "xml.xsd"
_XML_NAMESPACE_LOCATIONS = {
    "http://www.w3.org/2001/xml.xsd",
    "http://www.w3.org/2001/03/xml.xsd",
    "http://rs.gbif.org/schema/xml.xsd",
    "https://rs.gbif.org/schema/xml.xsd",
}

DWC_TEXT = "dwc-text/tdwg_dwc_text.xsd"
EML_2_2_0 = "eml-2.2.0/eml.xsd"
GBIF_PROFILE_1_3 = "eml-gbif-profile/1.3/eml.xsd"
THESAURUS = "gbif-extensions/schema/thesaurus.xsd"
EXTENSION = "gbif-extensions/schema/extension.xsd"


class _LocalOnly(etree.Resolver):
    def resolve(self, url, pubid, context):
        if url in _XML_NAMESPACE_LOCATIONS:
            return self.resolve_filename(str(_XML_XSD), context)
        return None


def safe_parser(**options) -> etree.XMLParser:
    """An XML parser that never resolves entities, loads DTDs or reaches the network."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False, **options
    )


def _schema_parser() -> etree.XMLParser:
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_LocalOnly())
    return parser


@functools.cache
def load_schema(relative_path: str) -> etree.XMLSchema:
    document = etree.parse(str(SCHEMA_DIR / relative_path), _schema_parser())
    if relative_path == EXTENSION:
        import_xml = etree.Element(
            "{http://www.w3.org/2001/XMLSchema}import",
            namespace="http://www.w3.org/XML/1998/namespace",
            schemaLocation="xml.xsd",
        )
        document.getroot().insert(0, import_xml)
    return etree.XMLSchema(document)


def definition_path(relative_path: str) -> Path:
    """Path of a GBIF core/extension/vocabulary definition, e.g. "gbif-extensions/core/dwc_event_2025-07-10.xml"."""
    return SCHEMA_DIR / relative_path
