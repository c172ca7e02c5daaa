import datetime
from pathlib import Path

import pytest

from dwca_port.eml import CC_BY_4_0, EmlError, UnsafeXml, read_eml

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE eml [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<eml:eml xmlns:eml="https://eml.ecoinformatics.org/eml-2.2.0" packageId="x" system="s" scope="system">
  <dataset><title>&lol9;</title></dataset>
</eml:eml>
"""


def external_entity(path: Path) -> bytes:
    return f"""<?xml version="1.0"?>
<!DOCTYPE eml [<!ENTITY secret SYSTEM "file://{path}">]>
<eml:eml xmlns:eml="https://eml.ecoinformatics.org/eml-2.2.0" packageId="x" system="s" scope="system">
  <dataset><title>&secret;</title></dataset>
</eml:eml>
""".encode()


def test_reads_an_ipt_document_and_ignores_what_it_does_not_model(ipt_eml):
    metadata = read_eml(ipt_eml)
    assert metadata.package_id == "5d1c7a0e-3f1b-4c55-9a55-0f6a2b1e9c11/v4.2"
    assert metadata.title == "Light-trap moth survey of northern Vermont, 2019-2020"
    assert metadata.pub_date == datetime.date(2023, 10, 5)  # written with the IPT's surrounding whitespace
    assert metadata.language == "eng" and metadata.metadata_language == "eng"
    assert len(metadata.abstract) == 2
    assert metadata.licence is CC_BY_4_0
    assert metadata.intellectual_rights == "" and metadata.rights_holder == ""
    assert metadata.homepage == "https://vtecostudies.example.org/moths"  # not the download url
    creator = metadata.creators[0]
    assert (creator.given_name, creator.surname) == ("Maxime", "Tremblay")
    assert creator.organisation == "Vermont Centre for Ecostudies"
    assert creator.city == "White River Junction" and creator.country == "US"
    assert creator.name_consented
    assert metadata.metadata_providers[0].surname == "Doe" and not metadata.metadata_providers[0].name_consented
    assert metadata.associated_parties[0].role == "custodianSteward"
    assert metadata.publisher.organisation == "Vermont Centre for Ecostudies"
    assert [ks.thesaurus for ks in metadata.keyword_sets][1] == "N/A"
    assert metadata.methods.steps[0].startswith("A UV light")
    assert metadata.methods.sampling_description == "One trap per site, dusk to dawn."
    assert metadata.project.identifier == "vt-moth-monitoring"
    assert metadata.project.personnel[0].role == "principalInvestigator"
    assert metadata.project.study_area_description == "Mixed hardwood forest and farmland."
    assert len(metadata.alternate_identifiers) == 2


def test_exposes_bounding_box_and_temporal_range_for_the_coverage_check(ipt_eml):
    metadata = read_eml(ipt_eml)
    assert metadata.bounding_box == (-73.4377, -71.4653, 45.0167, 44.0)
    assert metadata.geographic_coverage.contains(latitude=44.5, longitude=-72.5)
    assert not metadata.geographic_coverage.contains(latitude=46.0, longitude=-72.5)
    # Two temporal coverages, a range and the year 2020 as a single date: one period around both.
    assert metadata.temporal_range == (datetime.date(2019, 6, 1), datetime.date(2020, 12, 31))
    assert metadata.temporal_coverage.contains(datetime.date(2020, 7, 1))


def test_box_across_the_antimeridian():
    from dwca_port.eml import GeographicCoverage

    box = GeographicCoverage("Bering Sea", west=170.0, east=-170.0, north=65.0, south=50.0)
    assert box.contains(55.0, 175.0) and box.contains(55.0, -175.0)
    assert not box.contains(55.0, 0.0)


def test_no_email_address_is_read(ipt_eml):
    metadata = read_eml(ipt_eml)
    assert "@" not in repr(metadata)


def test_entity_expansion_is_refused_quickly_and_clearly():
    with pytest.raises(UnsafeXml, match="DOCTYPE"):
        read_eml(BILLION_LAUGHS)


def test_external_entity_is_refused_without_reading_the_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    with pytest.raises(UnsafeXml) as refused:
        read_eml(external_entity(secret))
    assert "TOP-SECRET-CONTENT" not in str(refused.value)


def test_doctype_in_utf16_is_refused_too():
    document = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE eml><eml/>'.encode("utf-16")
    with pytest.raises(UnsafeXml):
        read_eml(document)
    bomb = BILLION_LAUGHS.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-16"?>')
    with pytest.raises(UnsafeXml, match="entity expansion"):
        read_eml(bomb.decode().encode("utf-16"))


@pytest.mark.parametrize(
    "data, message",
    [
        (b"this is not XML at all", "not well-formed"),
        (b"", "not well-formed"),
        (b"<eml:eml xmlns:eml='https://eml.ecoinformatics.org/eml-2.2.0'>\n<dataset>\n</eml:eml>", "line 3"),
        (b"<html><body/></html>", "not eml:eml"),
        (b"<eml:eml xmlns:eml='https://eml.ecoinformatics.org/eml-2.2.0' packageId='x'/>", "no dataset"),
    ],
)
def test_what_is_not_eml_gives_a_clear_error(data, message):
    with pytest.raises(EmlError, match=message):
        read_eml(data)
