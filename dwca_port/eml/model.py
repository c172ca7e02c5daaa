"""What a dataset's metadata says, as plain data: the EML writer's input and the reader's output.

No Django here: the exporter fills a DatasetMetadata from a project, the importer and the archive
validator read one back from eml.xml. Empty strings and empty lists mean "not given".

Privacy (reference dwca-standards.md item 47, DESIGN.md section 5): a Party has no e-mail field
at all, and a personal name is only written for a person who consented, which the document
expresses by a user id on the same party (see Party.name_consented and docs/eml.md).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import NamedTuple

from .licences import Licence


class UserId(NamedTuple):
    directory: str  # e.g. "https://orcid.org/"
    value: str  # e.g. "0000-0002-1825-0097"


class Taxon(NamedTuple):
    rank: str  # e.g. "order"; may be empty
    name: str  # e.g. "Lepidoptera"


@dataclass
class Party:
    """A creator, contact, metadata provider, associated party, publisher or project member."""

    organisation: str = ""
    position: str = ""
    given_name: str = ""  # personal names: only with the person's consent, see name_consented
    surname: str = ""
    delivery_point: str = ""
    city: str = ""
    administrative_area: str = ""
    postal_code: str = ""
    country: str = ""  # ISO 3166-1 alpha-2 code, as the IPT writes it
    online_url: str = ""
    user_ids: list[UserId] = field(default_factory=list)
    role: str = ""  # required for associated parties and project personnel, ignored elsewhere

    @property
    def has_personal_name(self) -> bool:
        return bool(self.given_name.strip() or self.surname.strip())

    @property
    def name_consented(self) -> bool:
        """A person who gave a public identifier (ORCID iD or the like) for this dataset chose to be credited."""
        return any(uid.directory.strip() and uid.value.strip() for uid in self.user_ids)

    @property
    def citation_name(self) -> str:
        """What GBIF can cite: a surname (with given name) or else the organisation; "" if neither."""
        if self.surname.strip():
            return " ".join(part for part in (self.given_name.strip(), self.surname.strip()) if part)
        return self.organisation.strip()

    @property
    def has_address(self) -> bool:
        return any((self.delivery_point, self.city, self.administrative_area, self.postal_code, self.country))


@dataclass
class KeywordSet:
    keywords: list[str]
    thesaurus: str = "N/A"  # the GBIF profile requires a thesaurus; "N/A" is the IPT's word for none


@dataclass
class GeographicCoverage:
    description: str
    west: float
    east: float
    north: float
    south: float

    def contains(self, latitude: float, longitude: float) -> bool:
        """True if the point lies in the box (a box whose west edge exceeds its east crosses the antimeridian)."""
        if not self.south <= latitude <= self.north:
            return False
        if self.west <= self.east:
            return self.west <= longitude <= self.east
        return longitude >= self.west or longitude <= self.east


@dataclass
class TemporalCoverage:
    begin: datetime.date
    end: datetime.date

    def contains(self, day: datetime.date) -> bool:
        return self.begin <= day <= self.end


@dataclass
class Methods:
    steps: list[str]  # one paragraph per method step; at least one when methods are given
    study_extent: str = ""  # sampling is written only with both study extent and sampling description
    sampling_description: str = ""
    quality_control: list[str] = field(default_factory=list)


@dataclass
class Project:
    title: str
    personnel: list[Party]  # each with a role; at least one
    identifier: str = ""
    funding: str = ""
    study_area_description: str = ""
    design_description: str = ""


@dataclass
class DatasetMetadata:
    package_id: str  # unique per document version, e.g. "<uuid>/v3"
    title: str
    abstract: list[str]  # paragraphs
    pub_date: datetime.date | None  # None only when read from a document without one
    creators: list[Party]
    contacts: list[Party]
    language: str = "en"  # language of the data
    metadata_language: str = "en"  # xml:lang of the document
    metadata_providers: list[Party] = field(default_factory=list)
    associated_parties: list[Party] = field(default_factory=list)
    publisher: Party | None = None
    keyword_sets: list[KeywordSet] = field(default_factory=list)
    additional_info: str = ""
    intellectual_rights: str = ""  # free text before the licence sentence
    licence: Licence | None = None
    rights_holder: str = ""
    homepage: str = ""  # written as distribution/online/url function="information"
    geographic_coverage: GeographicCoverage | None = None
    temporal_coverage: TemporalCoverage | None = None
    taxonomic_description: str = ""  # generalTaxonomicCoverage
    taxonomic_coverage: list[Taxon] = field(default_factory=list)
    methods: Methods | None = None
    project: Project | None = None
    alternate_identifiers: list[str] = field(default_factory=list)
    purpose: str = ""  # one paragraph: why the data were gathered
    citation: str = ""  # how to cite the dataset (additionalMetadata/metadata/gbif/citation)
    citation_identifier: str = ""  # its DOI or URL, when it has one
    date_stamp: datetime.datetime | None = None  # when the document was written (gbif/dateStamp); else pubDate

    @property
    def bounding_box(self) -> tuple[float, float, float, float] | None:
        """(west, east, north, south), for checking the data against the declared coverage."""
        box = self.geographic_coverage
        return None if box is None else (box.west, box.east, box.north, box.south)

    @property
    def temporal_range(self) -> tuple[datetime.date, datetime.date] | None:
        period = self.temporal_coverage
        return None if period is None else (period.begin, period.end)
