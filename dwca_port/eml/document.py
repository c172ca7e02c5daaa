"""EML namespaces and schema locations, and the one safe way to parse an EML document.

Parsing goes through dwca_port.schemas.safe_parser (no entity resolution, no DTD, no network).
A DOCTYPE is refused outright: EML never needs one, and it is how entity-expansion ("billion
laughs") and external-entity (file read) attacks are delivered.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from dwca_port.schemas import EML_2_2_0, GBIF_PROFILE_1_3, safe_parser

EML_NAMESPACE = "https://eml.ecoinformatics.org/eml-2.2.0"
EML_2_1_1_NAMESPACE = "eml://ecoinformatics.org/eml-2.1.1"  # GBIF profiles 1.0-1.2 (IPT 2.x)
XSI_NAMESPACE = "http://www.w3.org/2001/XMLSchema-instance"
XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"

GBIF_PROFILE_1_3_LOCATION = "https://rs.gbif.org/schema/eml-gbif-profile/1.3/eml.xsd"
EML_2_2_0_LOCATION = "https://eml.ecoinformatics.org/eml-2.2.0/eml.xsd"
# What write_eml declares: one space, two tokens (the GBIF validator splits on a single space).
SCHEMA_LOCATION = f"{EML_NAMESPACE} {GBIF_PROFILE_1_3_LOCATION}"

GBIF_PROFILE_1_2 = "eml-gbif-profile/1.2/eml.xsd"  # dwca_port.schemas path of the old profile


@dataclass(frozen=True)
class DeclaredSchema:
    """A schema an EML document may declare in xsi:schemaLocation, and our offline copy of it."""

    name: str
    namespace: str
    schema_path: str  # for dwca_port.schemas.load_schema
    current: bool  # False for the EML 2.1.1 profiles GBIF still reads but producers no longer write


GBIF_1_3 = DeclaredSchema("GBIF metadata profile 1.3", EML_NAMESPACE, GBIF_PROFILE_1_3, current=True)
PLAIN_EML_2_2_0 = DeclaredSchema("EML 2.2.0", EML_NAMESPACE, EML_2_2_0, current=True)
GBIF_1_2 = DeclaredSchema("GBIF metadata profile 1.2", EML_2_1_1_NAMESPACE, GBIF_PROFILE_1_2, current=False)


def _without_scheme(url: str) -> str:
    return url.split("://", 1)[-1]


# Keyed by location without scheme: producers write both http and https.
KNOWN_SCHEMA_LOCATIONS = {
    _without_scheme(GBIF_PROFILE_1_3_LOCATION): GBIF_1_3,
    _without_scheme(EML_2_2_0_LOCATION): PLAIN_EML_2_2_0,
    "rs.gbif.org/schema/eml-gbif-profile/1.2/eml.xsd": GBIF_1_2,
    "rs.gbif.org/schema/eml-gbif-profile/1.1/eml.xsd": GBIF_1_2,  # 1.1 documents are valid 1.2 documents
}
SCHEMA_FOR_NAMESPACE = {EML_NAMESPACE: GBIF_1_3, EML_2_1_1_NAMESPACE: GBIF_1_2}


def declared_schema(location: str) -> DeclaredSchema | None:
    return KNOWN_SCHEMA_LOCATIONS.get(_without_scheme(location.strip()))


class EmlError(ValueError):
    """The bytes are not a readable, safe EML document. `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message if line is None else f"line {line}: {message}")
        self.reason = message
        self.line = line


class UnsafeXml(EmlError):
    """The document declares a DOCTYPE or entities, which EML never needs."""


_DOCTYPE_REFUSED = (
    "the document has a DOCTYPE; EML needs none, and DTD entities (entity expansion, external entities) are refused"
)

# How libxml2 words it when it stops an entity bomb the byte search could not see (UTF-16).
_EXPANSION_SIGNS = ("amplification", "entity reference loop", "Entity loop")


def parse_document(data: bytes) -> etree._ElementTree:
    """Parse EML bytes safely; raise EmlError (UnsafeXml for DTDs and entities) with a line number."""
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("EML must be given as bytes")
    declaration = min((at for at in (data.find(b"<!DOCTYPE"), data.find(b"<!ENTITY")) if at >= 0), default=-1)
    if declaration >= 0:
        raise UnsafeXml(_DOCTYPE_REFUSED, line=data[:declaration].count(b"\n") + 1)
    try:
        root = etree.fromstring(bytes(data), safe_parser())
    except etree.XMLSyntaxError as error:
        if any(sign in error.msg for sign in _EXPANSION_SIGNS):  # libxml2 stopped an expansion
            raise UnsafeXml(f"entity expansion refused: {error.msg}", line=error.lineno) from None
        raise EmlError(f"not well-formed XML: {error.msg}", line=error.lineno) from None
    tree = root.getroottree()
    # The byte search misses DOCTYPEs in UTF-16 documents; the parsed tree does not.
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise UnsafeXml(_DOCTYPE_REFUSED, line=1)
    return tree


def local_name(element: etree._Element) -> str:
    """Element name without namespace; "" for comments and processing instructions."""
    if not isinstance(element.tag, str):
        return ""
    return etree.QName(element).localname
