"""meta.xml: write it from the Table declarations, read it into descriptors, check it."""

from dwca_port.meta.check import check_meta_xml
from dwca_port.meta.model import DWC_TEXT_NS, ArchiveDescriptor, FieldDescriptor, TableDescriptor
from dwca_port.meta.read import MetaXmlError, read_meta_xml
from dwca_port.meta.write import write_meta_xml
from dwca_port.meta.xmlsafe import XmlError, parse_untrusted_xml

__all__ = [
    "DWC_TEXT_NS",
    "ArchiveDescriptor",
    "FieldDescriptor",
    "MetaXmlError",
    "TableDescriptor",
    "XmlError",
    "check_meta_xml",
    "parse_untrusted_xml",
    "read_meta_xml",
    "write_meta_xml",
]
