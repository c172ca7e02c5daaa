import dataclasses
import datetime

import pytest
from lxml import etree

from dwca_port.eml import (
    CC0_1_0,
    SCHEMA_LOCATION,
    DatasetMetadata,
    GeographicCoverage,
    IncompleteMetadata,
    Methods,
    Party,
    Project,
    UserId,
    read_eml,
    write_eml,
)
from dwca_port.schemas import EML_2_2_0, GBIF_PROFILE_1_3, load_schema

EML_NS = "https://eml.ecoinformatics.org/eml-2.2.0"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

# Profile 1.3 order of the dataset children (reference dwca-standards.md section 3.2).
PROFILE_ORDER = [
    "alternateIdentifier", "shortName", "title", "creator", "metadataProvider", "associatedParty", "pubDate",
    "language", "abstract", "keywordSet", "additionalInfo", "intellectualRights", "licensed", "distribution",
    "coverage", "purpose", "introduction", "gettingStarted", "acknowledgements", "maintenance", "contact",
    "publisher", "methods", "project", "literatureCited",
]  # fmt: skip


def assert_valid_in_both_schemas(data: bytes) -> None:
    document = etree.fromstring(data)
    for schema_path in (EML_2_2_0, GBIF_PROFILE_1_3):
        schema = load_schema(schema_path)
        assert schema.validate(document), f"{schema_path}: {schema.error_log}"


def minimal(**changes) -> DatasetMetadata:
    base = DatasetMetadata(
        package_id="p/v1",
        title="A small dataset",
        abstract=[],
        pub_date=datetime.date(2024, 1, 1),
        creators=[Party(organisation="Lab")],
        contacts=[Party(position="Data manager")],
    )
    return dataclasses.replace(base, **changes)


def test_realistic_metadata_is_valid_against_eml_2_2_0_and_the_gbif_profile_1_3(good_eml):
    assert_valid_in_both_schemas(good_eml)


def test_minimal_metadata_is_valid_in_both_schemas():
    assert_valid_in_both_schemas(write_eml(minimal()))


def test_root_carries_what_gbif_and_the_ipt_expect(good_eml, metadata):
    root = etree.fromstring(good_eml)
    assert root.tag == f"{{{EML_NS}}}eml"
    assert root.prefix == "eml"
    assert root.get("packageId") == metadata.package_id
    assert root.get("system") == "http://gbif.org"
    assert root.get("scope") == "system"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert root.nsmap["xsi"] == XSI_NS
    assert SCHEMA_LOCATION == (
        "https://eml.ecoinformatics.org/eml-2.2.0 https://rs.gbif.org/schema/eml-gbif-profile/1.3/eml.xsd"
    )
    # Literally, as the GBIF validator reads it: the xsi prefix, one space, two tokens.
    assert f'xsi:schemaLocation="{SCHEMA_LOCATION}"'.encode() in good_eml


def test_dataset_children_follow_the_profile_order(good_eml):
    names = [child.tag for child in etree.fromstring(good_eml).find("dataset")]
    positions = [PROFILE_ORDER.index(name) for name in names]
    assert positions == sorted(positions)
    assert {"coverage", "methods", "project", "licensed", "distribution"} <= set(names)


def test_licence_is_a_ulink_with_citetitle_and_a_licensed_element(good_eml):
    dataset = etree.fromstring(good_eml).find("dataset")
    link = dataset.find("intellectualRights/para/ulink")
    assert link.get("url") == "http://creativecommons.org/licenses/by/4.0/legalcode"
    assert link.findtext("citetitle") == "Creative Commons Attribution 4.0 International"
    assert dataset.findtext("licensed/identifier") == "CC-BY-4.0"
    assert dataset.findtext("licensed/url") == "https://spdx.org/licenses/CC-BY-4.0.html"


def test_coverage_and_methods_have_the_shape_the_schemas_want(good_eml):
    dataset = etree.fromstring(good_eml).find("dataset")
    box = dataset.find("coverage/geographicCoverage/boundingCoordinates")
    assert [child.tag for child in box] == [
        "westBoundingCoordinate", "eastBoundingCoordinate", "northBoundingCoordinate", "southBoundingCoordinate",
    ]  # fmt: skip
    assert dataset.findtext("coverage/temporalCoverage/rangeOfDates/beginDate/calendarDate") == "2023-06-20"
    assert dataset.findtext("coverage/temporalCoverage/rangeOfDates/endDate/calendarDate") == "2023-09-02"
    taxa = dataset.iterfind("coverage/taxonomicCoverage/taxonomicClassification")
    ranks = [taxon.findtext("taxonRankValue") for taxon in taxa]
    assert ranks == ["Insecta", "Lepidoptera", "Noctuidae"]
    methods = dataset.find("methods")
    assert [child.tag for child in methods] == ["methodStep", "methodStep", "sampling", "qualityControl"]
    assert methods.findtext("methodStep/description/para").startswith("An automated trap")
    assert methods.findtext("sampling/studyExtent/description/para").startswith("Four sites")
    assert methods.findtext("sampling/samplingDescription/para").startswith("One trap per site")


def test_no_email_field_exists_and_none_is_written(good_eml):
    assert not any("mail" in field.name for field in dataclasses.fields(Party))
    assert b"electronicMailAddress" not in good_eml
    assert b"@" not in good_eml


def test_round_trip_is_equal(metadata, good_eml):
    assert read_eml(good_eml) == metadata


def test_round_trip_of_minimal_metadata():
    original = minimal(language="", metadata_language="")
    assert read_eml(write_eml(original)) == original


def test_same_metadata_gives_the_same_bytes(metadata):
    first = write_eml(metadata)
    assert write_eml(dataclasses.replace(metadata)) == first
    assert write_eml(read_eml(first)) == first


def test_bytes_are_utf8_with_an_xml_declaration(good_eml):
    assert good_eml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n")
    assert "Montréal".encode() in good_eml


def test_coordinates_are_written_as_plain_decimals():
    box = GeographicCoverage("Tiny box near the origin", west=-0.00001, east=1e-5, north=45, south=-90.0)
    data = write_eml(minimal(geographic_coverage=box))
    assert_valid_in_both_schemas(data)
    assert b"<westBoundingCoordinate>-0.00001<" in data
    assert read_eml(data).geographic_coverage == box


def test_characters_xml_cannot_carry_are_dropped_not_fatal():
    data = write_eml(minimal(title="Moths\x0b of the \x00north"))
    assert_valid_in_both_schemas(data)
    assert read_eml(data).title == "Moths of the north"


def test_no_licence_writes_the_text_alone_and_reads_back():
    original = minimal(intellectual_rights="Ask the project owner before reuse.", rights_holder="Some Lab Inc.")
    data = write_eml(original)
    assert_valid_in_both_schemas(data)
    assert b"ulink" not in data and b"licensed" not in data
    assert read_eml(data) == original


@pytest.mark.parametrize("holder", ["", "Mila Inc.", "A. B. & Co., Ltd."])
@pytest.mark.parametrize("text", ["", "Cite us. Please."])
def test_rights_text_licence_and_holder_read_back(text, holder):
    original = minimal(intellectual_rights=text, rights_holder=holder, licence=CC0_1_0)
    assert read_eml(write_eml(original)) == original


@pytest.mark.parametrize(
    "changes, problem",
    [
        ({"creators": []}, "creator"),
        ({"contacts": []}, "contact"),
        ({"title": "  "}, "title"),
        ({"package_id": ""}, "packageId"),
        ({"pub_date": None}, "pubDate"),
        ({"creators": [Party(given_name="Jane", surname="Doe")]}, "consent"),
        ({"creators": [Party(given_name="Jane", organisation="Lab")]}, "surname"),
        ({"contacts": [Party(city="Montréal")]}, "organisation, a position or a surname"),
        ({"associated_parties": [Party(organisation="Lab")]}, "role"),
        ({"geographic_coverage": GeographicCoverage("", 0, 1, 1, 0)}, "description"),
        ({"geographic_coverage": GeographicCoverage("Box", -200, 1, 1, 0)}, "west"),
        ({"geographic_coverage": GeographicCoverage("Box", 0, 1, 0, 1)}, "north bound below"),
        ({"methods": Methods(steps=[])}, "method step"),
        ({"methods": Methods(steps=["Trap"], study_extent="Four sites")}, "sampling"),
        ({"project": Project("AMI", personnel=[])}, "personnel"),
        ({"metadata_language": "English (Canada)"}, "language tag"),
    ],
)
def test_metadata_that_cannot_be_valid_is_refused_with_the_reason(changes, problem):
    with pytest.raises(IncompleteMetadata) as refused:
        write_eml(minimal(**changes))
    assert any(problem in text for text in refused.value.problems), refused.value.problems


def test_a_person_with_a_user_id_may_be_named():
    person = Party(given_name="Jane", surname="Doe", user_ids=[UserId("https://orcid.org/", "0000-0001-0002-0003")])
    data = write_eml(minimal(creators=[person]))
    assert_valid_in_both_schemas(data)
    assert read_eml(data).creators == [person]
