"""meta.xml: written from declarations (valid against the DwC text XSD in both dialects), read back,
checked, attacks refused."""

import time

import pytest
from lxml import etree

from dwca_port.meta import MetaXmlError, check_meta_xml, read_meta_xml, write_meta_xml
from dwca_port.schemas import DWC_TEXT, load_schema
from dwca_port.tables.base import DWC, Column, Table
from dwca_port.tabular import FULL_DIALECT, GBIF_DIALECT
from dwca_port.validate import registry_tables
from tests.archive_corpus import BILLION_LAUGHS, EXTERNAL_ENTITY, SAMPLE_TABLES

DIALECTS = (GBIF_DIALECT, FULL_DIALECT)
SOURCES = {"sample": SAMPLE_TABLES, "registry": registry_tables()}


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda dialect: dialect.name)
def test_written_meta_xml_validates_against_the_dwc_text_xsd(source, dialect):
    tables = SOURCES[source]
    if not tables:
        pytest.skip("no registry")
    data = write_meta_xml(tables, dialect)
    schema = load_schema(DWC_TEXT)
    assert schema.validate(etree.fromstring(data)), schema.error_log
    assert data.startswith(
        b'<?xml version="1.0" encoding="UTF-8"?>\n<archive xmlns="http://rs.tdwg.org/dwc/text/" metadata="eml.xml">'
    )
    descriptor = read_meta_xml(data)
    assert check_meta_xml(data, descriptor) == []


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda dialect: dialect.name)
def test_read_meta_xml_gives_back_what_was_written(dialect):
    descriptor = read_meta_xml(write_meta_xml(list(reversed(SAMPLE_TABLES)), dialect))
    assert descriptor.metadata == "eml.xml"
    assert descriptor.tables[0].core and len(descriptor.cores) == 1  # the core is written first
    for table in SAMPLE_TABLES:
        [read] = descriptor.by_row_type(table.row_type)
        assert read.file == table.file and read.id_index == 0
        mapped = [(index, column.term) for index, column in enumerate(table.columns) if column.mapped]
        assert [(field.index, field.term) for field in read.fields] == mapped
        assert read.width == len(table.columns)
        declared = read.dialect
        assert (
            declared.delimiter,
            declared.enclosure,
            declared.line_terminator,
            declared.encoding,
            declared.header_lines,
        ) == ("\t", dialect.enclosure, "\n", "UTF-8", 1)


def test_write_needs_exactly_one_core():
    extension = Table("x.txt", DWC + "Occurrence", (Column(DWC + "eventID"),))
    with pytest.raises(ValueError):
        write_meta_xml([extension], GBIF_DIALECT)


def test_defaults_and_vocabularies_are_read():
    data = b"""<archive xmlns="http://rs.tdwg.org/dwc/text/"><core rowType="http://rs.tdwg.org/dwc/terms/Occurrence">
      <files><location>o.csv</location></files><id index="0"/>
      <field index="0" term="http://rs.tdwg.org/dwc/terms/occurrenceID"/>
      <field term="http://rs.tdwg.org/dwc/terms/basisOfRecord" default="MachineObservation" vocabulary="http://rs.gbif.org/vocabulary/dwc/basis_of_record"/>
    </core></archive>"""
    descriptor = read_meta_xml(data)
    field = descriptor.core.field(DWC + "basisOfRecord")
    assert (field.index, field.default, field.vocabulary) == (
        None,
        "MachineObservation",
        "http://rs.gbif.org/vocabulary/dwc/basis_of_record",
    )
    dialect = descriptor.core.dialect  # attributes absent: the text guide's defaults (comma, quotes, no header)
    assert (dialect.delimiter, dialect.enclosure, dialect.header_lines) == (",", '"', 0)
    codes = {finding.code for finding in check_meta_xml(data, descriptor)}
    assert "FORMAT_ATTRIBUTE_MISSING" in codes and "FIELD_MAPPED_TO_NOTHING" not in codes


@pytest.mark.parametrize(
    "attack", [BILLION_LAUGHS, EXTERNAL_ENTITY, BILLION_LAUGHS.replace(b"<!DOCTYPE", b"<!doctype")]
)
def test_entity_attacks_are_refused_at_once(attack):
    data = b'<?xml version="1.0"?>\n' + attack + b'<archive xmlns="http://rs.tdwg.org/dwc/text/">&e;</archive>'
    started = time.monotonic()
    with pytest.raises(MetaXmlError) as error:
        read_meta_xml(data)
    assert time.monotonic() - started < 1
    assert error.value.finding.code == "XML_DTD_FORBIDDEN" and "root:" not in str(error.value)


def test_utf16_documents_cannot_smuggle_a_doctype():
    data = (
        '<?xml version="1.0" encoding="UTF-16"?>'
        + EXTERNAL_ENTITY.decode()
        + '<archive xmlns="http://rs.tdwg.org/dwc/text/">&e;</archive>'
    ).encode("utf-16")
    with pytest.raises(MetaXmlError) as error:
        read_meta_xml(data)
    assert error.value.finding.code in ("XML_DTD_FORBIDDEN", "XML_NOT_WELL_FORMED")
    assert "root:" not in str(error.value)  # /etc/passwd was never read


@pytest.mark.parametrize(
    "data, code",
    [
        (b"<archive><core", "XML_NOT_WELL_FORMED"),
        (b"<eml/>", "DWCA_META_XML_SCHEMA"),
    ],
)
def test_unreadable_meta_xml(data, code):
    with pytest.raises(MetaXmlError) as error:
        read_meta_xml(data)
    assert error.value.finding.code == code and error.value.finding.file == "meta.xml"


def test_structure_checks():
    data = b"""<?xml version="1.0"?>
<archive xmlns='http://rs.tdwg.org/dwc/text/'>
  <core encoding="UTF-8" fieldsTerminatedBy="\\t" linesTerminatedBy="\\n" fieldsEnclosedBy="''" ignoreHeaderLines="1" rowType="http://rs.tdwg.org/dwc/terms/Event">
    <files><location>a.txt</location><location>b.txt</location></files>
    <field index="0" term="http://rs.tdwg.org/dwc/terms/eventID"/>
    <field index="1" term="http://rs.tdwg.org/dwc/terms/eventDate"/>
    <field index="1" term="http://rs.tdwg.org/dwc/terms/eventDate"/>
    <field term="http://rs.tdwg.org/dwc/terms/eventRemarks"/>
  </core>
  <core rowType="http://rs.tdwg.org/dwc/terms/Occurrence"><files><location>o.txt</location></files><field index="x" term="http://rs.tdwg.org/dwc/terms/occurrenceID"/></core>
</archive>"""
    findings = check_meta_xml(data, read_meta_xml(data))
    by_code = {finding.code: finding.item for finding in findings}
    assert by_code == {
        "DWCA_META_XML_SCHEMA": 6,
        "CORE_COUNT": 7,
        "CORE_ID_MISSING": 8,
        "FIELD_MAPPED_TO_NOTHING": 10,
        "DUPLICATED_TERM": 11,
        "SHARED_COLUMN_INDEX": 12,
        "FORMAT_ATTRIBUTE_MISSING": 13,
        "ENCLOSURE_TOO_LONG": 13,
        "LOCATION_COUNT": 13,
        "XMLNS_DECLARATION": 14,
    }
