from lxml import etree

from dwca_port.eml import check_eml, write_eml
from dwca_port.findings import Severity

from .test_reader import BILLION_LAUGHS, external_entity

EML_NS = "https://eml.ecoinformatics.org/eml-2.2.0"
PROFILE_LOCATION = "https://rs.gbif.org/schema/eml-gbif-profile/1.3/eml.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def edit(data: bytes, change) -> bytes:
    """The document after `change(root, dataset)`: defects made with a parser, not by string surgery."""
    root = etree.fromstring(data)
    change(root, root.find("dataset"))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def codes(findings) -> set[str]:
    return {finding.code for finding in findings}


def only(findings, code: str):
    found = [finding for finding in findings if finding.code == code]
    assert found, f"no {code} in {[str(f) for f in findings]}"
    return found


def test_the_good_document_has_no_findings(good_eml):
    assert check_eml(good_eml) == []


def test_findings_name_the_member(good_eml):
    findings = check_eml(good_eml.replace(b'scope="system"', b'scope="document"'), member="metadata/eml.xml")
    assert findings and all(finding.file == "metadata/eml.xml" for finding in findings)


# 41 -------------------------------------------------------------------------------------------


def test_not_xml_at_all_is_blocking():
    [finding] = check_eml(b"Title,Abstract\nMoths,Nightly traps\n")
    assert (finding.item, finding.code, finding.severity) == (41, "EML_NOT_WELL_FORMED", Severity.BLOCKING)
    assert finding.line == 1


def test_broken_xml_gives_the_line(good_eml):
    broken = good_eml.replace(b"</title>", b"</titel>", 1)
    [finding] = check_eml(broken)
    assert finding.code == "EML_NOT_WELL_FORMED"
    assert finding.line == broken[: broken.index(b"</titel>")].count(b"\n") + 1


def test_entity_expansion_is_blocking_not_a_hang():
    [finding] = check_eml(BILLION_LAUGHS)
    assert (finding.item, finding.code, finding.severity) == (41, "EML_DOCTYPE_REFUSED", Severity.BLOCKING)
    assert finding.line == 2


def test_external_entity_is_blocking_and_nothing_is_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    [finding] = check_eml(external_entity(secret))
    assert finding.code == "EML_DOCTYPE_REFUSED" and finding.blocks
    assert "TOP-SECRET-CONTENT" not in str(finding)


# 42 -------------------------------------------------------------------------------------------


def test_wrong_element_order_is_a_schema_warning_with_its_line(good_eml):
    def methods_before_contact(root, dataset):
        dataset.find("contact").addprevious(dataset.find("methods"))

    findings = check_eml(edit(good_eml, methods_before_contact))
    schema = only(findings, "EML_GBIF_SCHEMA")
    assert all(f.item == 42 and f.severity is Severity.WARNING for f in schema)
    assert any("GBIF metadata profile 1.3" in f.message and f.line for f in schema)
    assert not any(f.blocks for f in findings)


def test_schema_location_with_extra_whitespace_is_flagged(good_eml):
    for spaced in (
        f"{EML_NS}  {PROFILE_LOCATION}",
        f"{EML_NS}\n    {PROFILE_LOCATION}",
        f" {EML_NS} {PROFILE_LOCATION}",
    ):
        data = edit(good_eml, lambda root, dataset, spaced=spaced: root.set(f"{{{XSI}}}schemaLocation", spaced))
        [finding] = check_eml(data)
        assert (finding.item, finding.code, finding.severity) == (42, "EML_GBIF_SCHEMA", Severity.WARNING)
        assert "exactly one space" in finding.message


def test_missing_or_unknown_schema_location_is_flagged(good_eml):
    missing = edit(good_eml, lambda root, dataset: root.attrib.pop(f"{{{XSI}}}schemaLocation"))
    assert [f.code for f in check_eml(missing)] == ["EML_GBIF_SCHEMA"]
    elsewhere = f"{EML_NS} https://example.org/eml.xsd"
    unknown = edit(good_eml, lambda root, dataset: root.set(f"{{{XSI}}}schemaLocation", elsewhere))
    assert "not a known" in only(check_eml(unknown), "EML_GBIF_SCHEMA")[0].message


def test_a_prefix_other_than_xsi_is_flagged(good_eml):
    renamed = good_eml.replace(b"xmlns:xsi=", b"xmlns:si=").replace(b"xsi:schemaLocation", b"si:schemaLocation")
    [finding] = check_eml(renamed)
    assert finding.code == "EML_GBIF_SCHEMA" and "'si'" in finding.message


def test_plain_eml_2_2_0_declaration_is_accepted(good_eml):
    plain = good_eml.replace(PROFILE_LOCATION.encode(), b"https://eml.ecoinformatics.org/eml-2.2.0/eml.xsd")
    assert check_eml(plain) == []


def test_old_gbif_profile_1_2_is_a_warning():
    old = b"""<?xml version="1.0" encoding="UTF-8"?>
<eml:eml xmlns:eml="eml://ecoinformatics.org/eml-2.1.1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="eml://ecoinformatics.org/eml-2.1.1 http://rs.gbif.org/schema/eml-gbif-profile/1.2/eml.xsd"
  packageId="old/v1" system="http://gbif.org" scope="system" xml:lang="en">
  <dataset>
    <title xml:lang="en">Moth records of an old IPT</title>
    <creator><organizationName>Old Museum</organizationName></creator>
    <pubDate>2015-02-01</pubDate>
    <language>en</language>
    <abstract><para>Moth records digitised from the drawers of an old natural history museum.</para></abstract>
    <intellectualRights>
      <para>This work is licensed under a <ulink url="http://creativecommons.org/publicdomain/zero/1.0/legalcode"
        ><citetitle>Public Domain (CC0 1.0)</citetitle></ulink>.</para>
    </intellectualRights>
    <contact><organizationName>Old Museum</organizationName></contact>
  </dataset>
</eml:eml>
"""
    [finding] = check_eml(old)
    assert (finding.item, finding.code, finding.severity) == (42, "EML_GBIF_SCHEMA", Severity.WARNING)
    assert "1.2" in finding.message


def test_a_document_that_is_not_eml_is_flagged_not_crashed():
    findings = check_eml(b"<html><body>hello</body></html>")
    assert codes(findings) == {"EML_GBIF_SCHEMA"}


# 43 -------------------------------------------------------------------------------------------


def test_missing_licence_is_blocking(good_eml):
    def drop_rights(root, dataset):
        for name in ("intellectualRights", "licensed"):
            dataset.remove(dataset.find(name))

    [finding] = check_eml(edit(good_eml, drop_rights))
    assert (finding.item, finding.code, finding.severity) == (43, "LICENSE_MISSING_OR_UNKNOWN", Severity.BLOCKING)


def test_all_rights_reserved_is_blocking(good_eml):
    def all_rights_reserved(root, dataset):
        rights = dataset.find("intellectualRights")
        rights.remove(rights.find("para"))
        etree.SubElement(rights, "para").text = "All rights reserved. No license specified."
        dataset.remove(dataset.find("licensed"))

    [finding] = check_eml(edit(good_eml, all_rights_reserved))
    assert finding.code == "LICENSE_MISSING_OR_UNKNOWN" and finding.blocks
    assert "All rights reserved" in finding.message and finding.line


def test_licence_named_only_in_text_is_still_blocking(good_eml):
    def text_only(root, dataset):
        para = dataset.find("intellectualRights/para")
        para.remove(para.find("ulink"))
        para.text = "This work is licensed under CC BY 4.0."

    assert "LICENSE_MISSING_OR_UNKNOWN" in codes(check_eml(edit(good_eml, text_only)))


def test_a_licence_gbif_does_not_accept_is_blocking(good_eml):
    def share_alike(root, dataset):
        link = dataset.find("intellectualRights/para/ulink")
        link.set("url", "https://creativecommons.org/licenses/by-sa/4.0/legalcode")
        dataset.remove(dataset.find("licensed"))

    [finding] = check_eml(edit(good_eml, share_alike))
    assert finding.code == "LICENSE_MISSING_OR_UNKNOWN" and "by-sa" in finding.message


def test_an_https_or_deed_url_of_an_accepted_licence_passes(good_eml):
    def deed(root, dataset):
        dataset.find("intellectualRights/para/ulink").set("url", "https://creativecommons.org/licenses/by/4.0/")

    assert check_eml(edit(good_eml, deed)) == []


def test_a_licensed_element_that_contradicts_the_link_is_a_warning(good_eml):
    def contradict(root, dataset):
        dataset.find("licensed/identifier").text = "CC0-1.0"

    [finding] = check_eml(edit(good_eml, contradict))
    assert (finding.item, finding.code, finding.severity) == (43, "LICENSE_CONFLICT", Severity.WARNING)


# 44 -------------------------------------------------------------------------------------------


def test_short_title_and_abstract_are_warnings(good_eml):
    def shorten(root, dataset):
        dataset.find("title").text = "Moths"
        abstract = dataset.find("abstract")
        for para in list(abstract):
            abstract.remove(para)
        etree.SubElement(abstract, "para").text = "Moth images."

    findings = check_eml(edit(good_eml, shorten))
    assert codes(findings) == {"TITLE_MISSING_OR_TOO_SHORT", "DESCRIPTION_MISSING_OR_TOO_SHORT"}
    assert all(f.item == 44 and f.severity is Severity.WARNING and f.line for f in findings)


def test_authors_without_a_citation_name_are_warnings(good_eml):
    def positions_only(root, dataset):
        for party in dataset.findall("creator") + dataset.findall("contact"):
            for child in list(party):
                party.remove(child)
            etree.SubElement(party, "positionName").text = "Data manager"

    findings = only(check_eml(edit(good_eml, positions_only)), "RESOURCE_CONTACTS_MISSING_OR_INCOMPLETE")
    assert len(findings) == 1 + 2  # none citable at all, and each of the two creators
    assert all(f.item == 44 and not f.blocks for f in findings)


# 45 -------------------------------------------------------------------------------------------


def test_missing_pubdate_is_a_warning(good_eml):
    findings = check_eml(edit(good_eml, lambda root, dataset: dataset.remove(dataset.find("pubDate"))))
    [finding] = only(findings, "EML_PUBDATE_MISSING")
    assert (finding.item, finding.severity) == (45, Severity.WARNING)
    assert codes(findings) == {"EML_PUBDATE_MISSING", "EML_GBIF_SCHEMA"}  # the profile requires it too


def test_missing_contact_creator_scope_and_package_id_are_warnings(good_eml):
    def strip(root, dataset):
        for name in ("contact", "creator"):
            for party in dataset.findall(name):
                dataset.remove(party)
        root.set("scope", "document")
        del root.attrib["packageId"]

    findings = check_eml(edit(good_eml, strip))
    item_45 = {f.code for f in findings if f.item == 45}
    assert item_45 == {"EML_CONTACT_MISSING", "EML_CREATOR_MISSING", "EML_SCOPE_NOT_SYSTEM", "EML_PACKAGE_ID_MISSING"}
    assert not any(f.blocks for f in findings)


# 47 -------------------------------------------------------------------------------------------


def test_an_email_address_in_a_contact_is_reported(good_eml):
    def add_email(root, dataset):
        contact = dataset.find("contact")
        etree.SubElement(contact, "electronicMailAddress").text = "jane.doe@example.org"

    findings = check_eml(edit(good_eml, add_email))
    [finding] = only(findings, "EML_EMAIL_ADDRESS")
    assert (finding.item, finding.severity) == (47, Severity.LOCAL) and finding.blocks
    assert "jane.doe@example.org" not in finding.message  # masked: reports get shared
    assert finding.line


def test_an_email_address_anywhere_is_reported(good_eml):
    def scatter(root, dataset):
        dataset.find("abstract/para").text += " Write to info@lab.example.ca for access."
        dataset.find("contact").find("organizationName").addprevious(etree.Comment(" owner: bob@example.com "))
        dataset.find("distribution/online/url").text = "mailto:data@example.org"

    findings = only(check_eml(edit(good_eml, scatter)), "EML_EMAIL_ADDRESS")
    assert len(findings) == 3


def test_a_personal_name_without_consent_is_local(good_eml):
    def anonymous_consent_gone(root, dataset):
        creator = dataset.findall("creator")[1]
        creator.remove(creator.find("userId"))

    [finding] = check_eml(edit(good_eml, anonymous_consent_gone))
    assert (finding.item, finding.code, finding.severity) == (47, "EML_PERSONAL_NAME", Severity.LOCAL)
    assert "creator" in finding.message


def test_a_personal_name_with_a_user_id_is_consented(good_eml):
    assert b"<surName>Gagnon-Roy</surName>" in good_eml
    assert "EML_PERSONAL_NAME" not in codes(check_eml(good_eml))


def test_the_ipt_document_is_valid_and_only_its_personal_data_is_flagged(ipt_eml):
    findings = check_eml(ipt_eml)
    assert codes(findings) == {"EML_EMAIL_ADDRESS", "EML_PERSONAL_NAME"}
    assert len(only(findings, "EML_EMAIL_ADDRESS")) == 3
    [name] = only(findings, "EML_PERSONAL_NAME")
    assert "metadataProvider" in name.message


def test_written_documents_never_trip_the_privacy_checks(metadata):
    assert not any(f.item == 47 for f in check_eml(write_eml(metadata)))
