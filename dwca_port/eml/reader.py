"""eml.xml -> DatasetMetadata: reads back what write_eml writes, and tolerates real IPT documents.

Elements the model has no place for (phone, electronicMailAddress, maintenance,
additionalMetadata, ...) are ignored; so are values that cannot be parsed (a bounding box with a
non-numeric edge, a date that is not a date). Whether a document is acceptable is the job of
checks.check_eml; the reader only refuses what is not safe or not EML at all.
"""

from __future__ import annotations

import datetime

from lxml import etree

from . import rights
from .document import EML_2_1_1_NAMESPACE, EML_NAMESPACE, XML_NAMESPACE, EmlError, local_name, parse_document
from .licences import parse_licence
from .model import (
    DatasetMetadata,
    GeographicCoverage,
    KeywordSet,
    Methods,
    Party,
    Project,
    Taxon,
    TemporalCoverage,
    UserId,
)

_SIDES = ("west", "east", "north", "south")
PARAGRAPH_BREAK = "\n\n"  # how several <para> become one string where the model keeps one


def _children(parent: etree._Element | None, name: str) -> list[etree._Element]:
    if parent is None:
        return []
    return [child for child in parent if local_name(child) == name]


def _child(parent: etree._Element | None, name: str) -> etree._Element | None:
    found = _children(parent, name)
    return found[0] if found else None


def _text(element: etree._Element | None) -> str:
    if element is None:
        return ""
    return "".join(element.itertext()).strip()


def _child_text(parent: etree._Element | None, name: str) -> str:
    return _text(_child(parent, name))


def _descendants(element: etree._Element | None, name: str) -> list[etree._Element]:
    if element is None:
        return []
    return [node for node in element.iter() if node is not element and local_name(node) == name]


def _inside_para(node: etree._Element, top: etree._Element) -> bool:
    """True for a para nested in another para's list: its text is already part of the outer one."""
    parent = node.getparent()
    while parent is not None and parent is not top:
        if local_name(parent) == "para":
            return True
        parent = parent.getparent()
    return False


def _paragraphs(element: etree._Element | None) -> list[str]:
    """The texts of the <para> elements inside (sections included), or the element's own text."""
    if element is None:
        return []
    paras = [node for node in _descendants(element, "para") if not _inside_para(node, element)]
    if not paras:
        return [_text(element)] if _text(element) else []
    return [text for text in (_text(para) for para in paras) if text]


def _joined_paragraphs(element: etree._Element | None) -> str:
    return PARAGRAPH_BREAK.join(_paragraphs(element))


def _description(element: etree._Element | None) -> str:
    """methodStep, studyExtent, qualityControl, designDescription: the text of their <description>."""
    description = _child(element, "description")
    return _joined_paragraphs(description if description is not None else element)


def _date_time(text: str) -> datetime.datetime | None:
    try:
        return datetime.datetime.fromisoformat(text.strip()) if text and text.strip() else None
    except ValueError:
        return None


def _date(text: str, year_means_end: bool = False) -> datetime.date | None:
    """An xs:date or xs:gYear (a year stands for its first day, or its last for an end date)."""
    text = text.strip()
    try:
        if len(text) == 4 and text.isdigit():
            return datetime.date(int(text), 12, 31) if year_means_end else datetime.date(int(text), 1, 1)
        return datetime.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _party(element: etree._Element) -> Party:
    name = _child(element, "individualName")
    address = _child(element, "address")
    return Party(
        organisation=_child_text(element, "organizationName"),
        position=_child_text(element, "positionName"),
        given_name=" ".join(_text(given) for given in _children(name, "givenName") if _text(given)),
        surname=_child_text(name, "surName"),
        delivery_point=", ".join(_text(point) for point in _children(address, "deliveryPoint") if _text(point)),
        city=_child_text(address, "city"),
        administrative_area=_child_text(address, "administrativeArea"),
        postal_code=_child_text(address, "postalCode"),
        country=_child_text(address, "country"),
        online_url=_child_text(element, "onlineUrl"),
        user_ids=[UserId(uid.get("directory", "").strip(), _text(uid)) for uid in _children(element, "userId")],
        role=_child_text(element, "role"),
    )


def _parties(parent: etree._Element | None, name: str, with_role: bool = False) -> list[Party]:
    parties = [_party(element) for element in _children(parent, name)]
    if not with_role:
        for party in parties:
            party.role = ""  # a creator's or contact's role is not part of the model
    return parties


def _text_before(para: etree._Element, link: etree._Element) -> str:
    parts = [para.text or ""]
    for child in para:
        if child is link:
            break
        parts.append("".join(child.itertext()) + (child.tail or ""))
    return "".join(parts)


def _read_rights(metadata: DatasetMetadata, dataset: etree._Element) -> None:
    element = _child(dataset, "intellectualRights")
    if element is None:
        return
    link = next(iter(_descendants(element, "ulink")), None)
    licence = parse_licence(link.get("url", "")) if link is not None else None  # the url, as GBIF reads it
    if licence is not None and local_name(link.getparent()) == "para":
        text, holder = rights.decompose(_text_before(link.getparent(), link), link.tail or "")
    else:
        text, holder = rights.decompose(_joined_paragraphs(element), None)
    metadata.licence, metadata.intellectual_rights, metadata.rights_holder = licence, text, holder


def _geographic(coverages: list[etree._Element]) -> GeographicCoverage | None:
    """One box around all declared boxes, so that checking the data against it stays meaningful."""
    boxes = []
    for coverage in coverages:
        bounds = _child(coverage, "boundingCoordinates")
        try:
            edges = [float(_child_text(bounds, f"{side}BoundingCoordinate")) for side in _SIDES]
        except ValueError:
            continue
        boxes.append(GeographicCoverage(_child_text(coverage, "geographicDescription"), *edges))
    if not boxes:
        return None
    if len(boxes) == 1:
        return boxes[0]
    return GeographicCoverage(
        description="; ".join(box.description for box in boxes if box.description),
        west=min(box.west for box in boxes),
        east=max(box.east for box in boxes),
        north=max(box.north for box in boxes),
        south=min(box.south for box in boxes),
    )


def _temporal(coverages: list[etree._Element]) -> TemporalCoverage | None:
    """One period from the earliest begin to the latest end of all declared ranges and single dates."""
    begins, ends = [], []
    for coverage in coverages:
        dates = _child(coverage, "rangeOfDates")
        if dates is not None:
            begin = _date(_child_text(_child(dates, "beginDate"), "calendarDate"))
            end = _date(_child_text(_child(dates, "endDate"), "calendarDate"), year_means_end=True)
        else:
            single = _child_text(_child(coverage, "singleDateTime"), "calendarDate")
            begin, end = _date(single), _date(single, year_means_end=True)
        if begin is not None and end is not None:
            begins.append(begin)
            ends.append(end)
    return TemporalCoverage(min(begins), max(ends)) if begins else None


def _read_coverage(metadata: DatasetMetadata, dataset: etree._Element) -> None:
    coverage = _child(dataset, "coverage")
    metadata.geographic_coverage = _geographic(_children(coverage, "geographicCoverage"))
    metadata.temporal_coverage = _temporal(_children(coverage, "temporalCoverage"))
    taxonomic = _children(coverage, "taxonomicCoverage")
    metadata.taxonomic_description = "; ".join(
        text for element in taxonomic if (text := _child_text(element, "generalTaxonomicCoverage"))
    )
    metadata.taxonomic_coverage = [
        Taxon(_child_text(node, "taxonRankName"), _child_text(node, "taxonRankValue"))
        for element in taxonomic
        for node in _descendants(element, "taxonomicClassification")
        if _child_text(node, "taxonRankValue")
    ]


def _methods(element: etree._Element | None) -> Methods | None:
    if element is None:
        return None
    sampling = _child(element, "sampling")
    return Methods(
        steps=[text for step in _children(element, "methodStep") if (text := _description(step))],
        study_extent=_description(_child(sampling, "studyExtent")) if sampling is not None else "",
        sampling_description=_joined_paragraphs(_child(sampling, "samplingDescription")),
        quality_control=[text for check in _children(element, "qualityControl") if (text := _description(check))],
    )


def _project(element: etree._Element | None) -> Project | None:
    if element is None:
        return None
    return Project(
        title=_child_text(element, "title"),
        personnel=_parties(element, "personnel", with_role=True),
        identifier=element.get("id", "").strip(),
        funding=_joined_paragraphs(_child(element, "funding")),
        study_area_description="; ".join(
            text
            for value in _descendants(_child(element, "studyAreaDescription"), "descriptorValue")
            if (text := _text(value))
        ),
        design_description=_description(_child(element, "designDescription")),
    )


def _homepage(dataset: etree._Element) -> str:
    for distribution in _children(dataset, "distribution"):
        url = _child(_child(distribution, "online"), "url")
        if url is not None and url.get("function", "information") == "information" and _text(url):
            return _text(url)
    return ""


def read_eml(data: bytes) -> DatasetMetadata:
    """The metadata in an eml.xml document; EmlError if it is unsafe, not XML, or not EML."""
    root = parse_document(data).getroot()
    if etree.QName(root).namespace not in (EML_NAMESPACE, EML_2_1_1_NAMESPACE) or local_name(root) != "eml":
        raise EmlError(f"the root element is {root.tag!r}, not eml:eml", line=root.sourceline)
    dataset = _child(root, "dataset")
    if dataset is None:
        raise EmlError("the document has no dataset element", line=root.sourceline)
    publisher = _parties(dataset, "publisher")
    metadata = DatasetMetadata(
        package_id=root.get("packageId", "").strip(),
        title=_child_text(dataset, "title"),
        abstract=_paragraphs(_child(dataset, "abstract")),
        pub_date=_date(_child_text(dataset, "pubDate")),
        creators=_parties(dataset, "creator"),
        contacts=_parties(dataset, "contact"),
        language=_child_text(dataset, "language"),
        metadata_language=root.get(f"{{{XML_NAMESPACE}}}lang", "").strip(),
        metadata_providers=_parties(dataset, "metadataProvider"),
        associated_parties=_parties(dataset, "associatedParty", with_role=True),
        publisher=publisher[0] if publisher else None,
        keyword_sets=[
            KeywordSet(
                keywords=[_text(word) for word in _children(element, "keyword") if _text(word)],
                thesaurus=_child_text(element, "keywordThesaurus") or "N/A",
            )
            for element in _children(dataset, "keywordSet")
        ],
        additional_info=_joined_paragraphs(_child(dataset, "additionalInfo")),
        homepage=_homepage(dataset),
        methods=_methods(_child(dataset, "methods")),
        project=_project(_child(dataset, "project")),
        alternate_identifiers=[_text(alt) for alt in _children(dataset, "alternateIdentifier") if _text(alt)],
        purpose=_joined_paragraphs(_child(dataset, "purpose")),
    )
    gbif = _child(_child(_child(root, "additionalMetadata"), "metadata"), "gbif")
    citation = _child(gbif, "citation")
    metadata.date_stamp = _date_time(_child_text(gbif, "dateStamp"))
    if citation is not None:
        metadata.citation, metadata.citation_identifier = _text(citation), (citation.get("identifier") or "").strip()
    _read_rights(metadata, dataset)
    _read_coverage(metadata, dataset)
    return metadata
