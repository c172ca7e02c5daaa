"""DatasetMetadata -> eml.xml, valid against both EML 2.2.0 and the GBIF metadata profile 1.3.

Where the two schemas differ, the writer keeps to what both accept: the profile's element order
and single-para additionalInfo/intellectualRights/funding, and EML 2.2.0's required descriptor
attributes. Output is deterministic: the same metadata always gives the same bytes.
"""

from __future__ import annotations

import datetime
import math
import re
from decimal import Decimal

from lxml import etree

from . import rights
from .document import EML_NAMESPACE, SCHEMA_LOCATION, XML_NAMESPACE, XSI_NAMESPACE
from .model import DatasetMetadata, GeographicCoverage, Methods, Party, Project

GBIF_SYSTEM = "http://gbif.org"  # the IPT's value for the root's system attribute

# Characters XML 1.0 cannot carry at all; lxml refuses them, so they are dropped.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_XML_LANGUAGE = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")


class IncompleteMetadata(ValueError):
    """The metadata lacks something both schemas require; `problems` says what."""

    def __init__(self, problems: list[str]):
        super().__init__("cannot write valid EML: " + "; ".join(problems))
        self.problems = problems


def _blank(value: str) -> bool:
    return not value or not value.strip()


def _party_problems(party: Party, where: str, needs_role: bool) -> list[str]:
    problems = []
    if _blank(party.organisation) and _blank(party.position) and _blank(party.surname):
        problems.append(f"{where} needs an organisation, a position or a surname")
    if not _blank(party.given_name) and _blank(party.surname):
        problems.append(f"{where} has a given name without a surname")
    if party.has_personal_name and not party.name_consented:
        problems.append(
            f"{where} names a person without a user id (ORCID iD or the like), which is how consent is recorded"
        )
    for user_id in party.user_ids:
        if _blank(user_id.directory) or _blank(user_id.value):
            problems.append(f"{where} has a user id without directory or value")
    if needs_role and _blank(party.role):
        problems.append(f"{where} needs a role")
    return problems


def _coverage_problems(box: GeographicCoverage) -> list[str]:
    problems = []
    if _blank(box.description):
        problems.append("geographic coverage needs a description")
    bounds = {"west": box.west, "east": box.east, "north": box.north, "south": box.south}
    for name, value in bounds.items():
        limit = 180 if name in ("west", "east") else 90
        if not isinstance(value, (int, float, Decimal)) or not math.isfinite(value) or abs(value) > limit:
            problems.append(f"geographic coverage {name} bound {value!r} is not a number within ±{limit}")
    if not problems and box.north < box.south:
        problems.append("geographic coverage has its north bound below its south bound")
    return problems


def _methods_problems(methods: Methods) -> list[str]:
    problems = []
    if not any(not _blank(step) for step in methods.steps):
        problems.append("methods need at least one method step")
    if _blank(methods.study_extent) != _blank(methods.sampling_description):
        problems.append("sampling needs both a study extent and a sampling description")
    return problems


def _project_problems(project: Project) -> list[str]:
    problems = [] if not _blank(project.title) else ["the project needs a title"]
    if not project.personnel:
        problems.append("the project needs at least one person or organisation in its personnel")
    for number, party in enumerate(project.personnel, 1):
        problems += _party_problems(party, f"project personnel {number}", needs_role=True)
    return problems


def metadata_problems(metadata: DatasetMetadata) -> list[str]:
    """Why write_eml would refuse this metadata; empty when it can be written."""
    problems = []
    if _blank(metadata.package_id):
        problems.append("packageId is empty")
    if _blank(metadata.title):
        problems.append("the title is empty")
    if not isinstance(metadata.pub_date, datetime.date):
        problems.append("pubDate must be a date")
    if not metadata.creators:
        problems.append("at least one creator is required")
    if not metadata.contacts:
        problems.append("at least one contact is required")
    if not _blank(metadata.metadata_language) and not _XML_LANGUAGE.match(metadata.metadata_language):
        problems.append(f"metadata language {metadata.metadata_language!r} is not a language tag")
    parties = [
        ("creator", metadata.creators, False),
        ("contact", metadata.contacts, False),
        ("metadata provider", metadata.metadata_providers, False),
        ("associated party", metadata.associated_parties, True),
        ("publisher", [metadata.publisher] if metadata.publisher else [], False),
    ]
    for label, group, needs_role in parties:
        for number, party in enumerate(group, 1):
            problems += _party_problems(party, f"{label} {number}", needs_role)
    for number, keyword_set in enumerate(metadata.keyword_sets, 1):
        if all(_blank(keyword) for keyword in keyword_set.keywords) or _blank(keyword_set.thesaurus):
            problems.append(f"keyword set {number} needs at least one keyword and a thesaurus")
    if metadata.geographic_coverage is not None:
        problems += _coverage_problems(metadata.geographic_coverage)
    period = metadata.temporal_coverage
    if period is not None and period.begin > period.end:
        problems.append("temporal coverage ends before it begins")
    if not _blank(metadata.taxonomic_description) and not metadata.taxonomic_coverage:
        problems.append("a general taxonomic coverage needs at least one taxon")
    if any(_blank(taxon.name) for taxon in metadata.taxonomic_coverage):
        problems.append("every taxon in the taxonomic coverage needs a name")
    if metadata.methods is not None:
        problems += _methods_problems(metadata.methods)
    if metadata.project is not None:
        problems += _project_problems(metadata.project)
    return problems


def _text(value: str) -> str:
    return _NOT_XML_CHAR.sub("", value)


def _add(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, tag, {name: _text(value) for name, value in attributes.items()})
    if text is not None:
        element.text = _text(text)
    return element


def _add_if(parent: etree._Element, tag: str, text: str) -> None:
    """Add a text element only when there is text: the profile's strings must not be empty."""
    if not _blank(text):
        _add(parent, tag, text)


def _add_paragraphs(parent: etree._Element, paragraphs: list[str]) -> None:
    for paragraph in paragraphs:
        _add_if(parent, "para", paragraph)


def _add_description(parent: etree._Element, tag: str, paragraph: str) -> None:
    """methodStep, studyExtent, qualityControl, designDescription: <tag><description><para>."""
    _add(_add(parent, tag), "description").append(_para(paragraph))


def _para(text: str) -> etree._Element:
    element = etree.Element("para")
    element.text = _text(text)
    return element


def _decimal(value: float) -> str:
    """A coordinate as xs:decimal wants it: never in exponent notation, round-tripping the float."""
    return format(Decimal(repr(float(value))), "f")


def _date(value: datetime.date) -> str:
    if isinstance(value, datetime.datetime):
        value = value.date()
    return value.isoformat()


def _add_party(parent: etree._Element, tag: str, party: Party, with_role: bool = False) -> None:
    element = _add(parent, tag)
    if not _blank(party.surname):
        name = _add(element, "individualName")
        _add_if(name, "givenName", party.given_name)
        _add(name, "surName", party.surname)
    _add_if(element, "organizationName", party.organisation)
    _add_if(element, "positionName", party.position)
    if party.has_address:
        address = _add(element, "address")
        for tag_name, value in (
            ("deliveryPoint", party.delivery_point),
            ("city", party.city),
            ("administrativeArea", party.administrative_area),
            ("postalCode", party.postal_code),
            ("country", party.country),
        ):
            _add_if(address, tag_name, value)
    _add_if(element, "onlineUrl", party.online_url)
    for user_id in party.user_ids:
        _add(element, "userId", user_id.value, directory=user_id.directory)
    if with_role:
        _add(element, "role", party.role)


def _add_intellectual_rights(dataset: etree._Element, metadata: DatasetMetadata) -> None:
    paragraph = rights.compose(metadata.intellectual_rights, metadata.licence is not None, metadata.rights_holder)
    if paragraph is None:
        return
    para = _add(_add(dataset, "intellectualRights"), "para", paragraph.before_link)
    if metadata.licence is not None:
        link = _add(para, "ulink", url=metadata.licence.url)
        _add(link, "citetitle", metadata.licence.title)
        link.tail = _text(paragraph.after_link or "")


def _add_licensed(dataset: etree._Element, metadata: DatasetMetadata) -> None:
    # Valid in both schemas (LicenseType in EML 2.2.0, `licensed` in the profile); the IPT writes it.
    if metadata.licence is None:
        return
    licensed = _add(dataset, "licensed")
    _add(licensed, "licenseName", metadata.licence.title)
    _add(licensed, "url", metadata.licence.spdx_url)
    _add(licensed, "identifier", metadata.licence.spdx_id)


def _add_coverage(dataset: etree._Element, metadata: DatasetMetadata) -> None:
    box, period, taxa = metadata.geographic_coverage, metadata.temporal_coverage, metadata.taxonomic_coverage
    if box is None and period is None and not taxa:
        return
    coverage = _add(dataset, "coverage")
    if box is not None:
        geographic = _add(coverage, "geographicCoverage")
        _add(geographic, "geographicDescription", box.description)
        bounds = _add(geographic, "boundingCoordinates")
        _add(bounds, "westBoundingCoordinate", _decimal(box.west))
        _add(bounds, "eastBoundingCoordinate", _decimal(box.east))
        _add(bounds, "northBoundingCoordinate", _decimal(box.north))
        _add(bounds, "southBoundingCoordinate", _decimal(box.south))
    if period is not None:
        dates = _add(_add(coverage, "temporalCoverage"), "rangeOfDates")
        _add(_add(dates, "beginDate"), "calendarDate", _date(period.begin))
        _add(_add(dates, "endDate"), "calendarDate", _date(period.end))
    if taxa:
        taxonomic = _add(coverage, "taxonomicCoverage")
        _add_if(taxonomic, "generalTaxonomicCoverage", metadata.taxonomic_description)
        for taxon in taxa:
            classification = _add(taxonomic, "taxonomicClassification")
            _add_if(classification, "taxonRankName", taxon.rank)
            _add(classification, "taxonRankValue", taxon.name)


def _add_methods(dataset: etree._Element, methods: Methods) -> None:
    # Steps, then one sampling, then quality control: one pass of the profile's repeated
    # (methodStep, sampling?, qualityControl*) and EML 2.2.0's methodStep+ sampling? qualityControl*.
    element = _add(dataset, "methods")
    for step in methods.steps:
        if not _blank(step):
            _add_description(element, "methodStep", step)
    if not _blank(methods.study_extent) and not _blank(methods.sampling_description):
        sampling = _add(element, "sampling")
        _add_description(sampling, "studyExtent", methods.study_extent)
        _add(sampling, "samplingDescription").append(_para(methods.sampling_description))
    for check in methods.quality_control:
        if not _blank(check):
            _add_description(element, "qualityControl", check)


def _add_project(dataset: etree._Element, project: Project) -> None:
    element = _add(dataset, "project", **({"id": project.identifier} if not _blank(project.identifier) else {}))
    _add(element, "title", project.title)
    for person in project.personnel:
        _add_party(element, "personnel", person, with_role=True)
    if not _blank(project.funding):
        _add(element, "funding").append(_para(project.funding))
    if not _blank(project.study_area_description):
        # EML 2.2.0 requires both descriptor attributes; "generic" is what the IPT writes.
        descriptor = _add(
            _add(element, "studyAreaDescription"), "descriptor", name="generic", citableClassificationSystem="false"
        )
        _add(descriptor, "descriptorValue", project.study_area_description)
    if not _blank(project.design_description):
        _add_description(element, "designDescription", project.design_description)


def _build_dataset(root: etree._Element, metadata: DatasetMetadata) -> None:
    dataset = _add(root, "dataset")
    for identifier in metadata.alternate_identifiers:
        _add_if(dataset, "alternateIdentifier", identifier)
    _add(dataset, "title", metadata.title)
    for party in metadata.creators:
        _add_party(dataset, "creator", party)
    for party in metadata.metadata_providers:
        _add_party(dataset, "metadataProvider", party)
    for party in metadata.associated_parties:
        _add_party(dataset, "associatedParty", party, with_role=True)
    _add(dataset, "pubDate", _date(metadata.pub_date))
    _add_if(dataset, "language", metadata.language)
    _add_paragraphs(_add(dataset, "abstract"), metadata.abstract)
    for keyword_set in metadata.keyword_sets:
        element = _add(dataset, "keywordSet")
        for keyword in keyword_set.keywords:
            _add_if(element, "keyword", keyword)
        _add(element, "keywordThesaurus", keyword_set.thesaurus)
    if not _blank(metadata.additional_info):
        _add(dataset, "additionalInfo").append(_para(metadata.additional_info))
    _add_intellectual_rights(dataset, metadata)
    _add_licensed(dataset, metadata)
    if not _blank(metadata.homepage):
        online = _add(_add(dataset, "distribution", scope="document"), "online")
        _add(online, "url", metadata.homepage, function="information")
    _add_coverage(dataset, metadata)
    if not _blank(metadata.purpose):
        _add(dataset, "purpose").append(_para(metadata.purpose))
    for party in metadata.contacts:
        _add_party(dataset, "contact", party)
    if metadata.publisher is not None:
        _add_party(dataset, "publisher", metadata.publisher)
    if metadata.methods is not None:
        _add_methods(dataset, metadata.methods)
    if metadata.project is not None:
        _add_project(dataset, metadata.project)


def _add_citation(root: etree._Element, metadata: DatasetMetadata) -> None:
    """The dataset's citation, in the profile's additionalMetadata (the IPT's place for it)."""
    if _blank(metadata.citation):
        return
    gbif = _add(_add(_add(root, "additionalMetadata"), "metadata"), "gbif")
    stamp = metadata.date_stamp
    _add(gbif, "dateStamp", stamp.isoformat(timespec="seconds") if stamp else f"{_date(metadata.pub_date)}T00:00:00")
    _add(gbif, "hierarchyLevel", "dataset")
    identifier = {} if _blank(metadata.citation_identifier) else {"identifier": metadata.citation_identifier}
    _add(gbif, "citation", metadata.citation, **identifier)


def write_eml(metadata: DatasetMetadata) -> bytes:
    """eml.xml bytes (UTF-8) for `metadata`; IncompleteMetadata if a required part is missing."""
    problems = metadata_problems(metadata)
    if problems:
        raise IncompleteMetadata(problems)
    root = etree.Element(f"{{{EML_NAMESPACE}}}eml", nsmap={"eml": EML_NAMESPACE, "xsi": XSI_NAMESPACE})
    root.set(f"{{{XSI_NAMESPACE}}}schemaLocation", SCHEMA_LOCATION)
    root.set("packageId", _text(metadata.package_id))
    root.set("system", GBIF_SYSTEM)
    root.set("scope", "system")
    if not _blank(metadata.metadata_language):
        root.set(f"{{{XML_NAMESPACE}}}lang", metadata.metadata_language)
    _build_dataset(root, metadata)
    _add_citation(root, metadata)
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8", pretty_print=True)
