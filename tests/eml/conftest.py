"""A realistic Antenna dataset's metadata, and its eml.xml, for the EML tests."""

import datetime
from pathlib import Path

import pytest

from dwca_port.eml import (
    CC_BY_4_0,
    DatasetMetadata,
    GeographicCoverage,
    KeywordSet,
    Methods,
    Party,
    Project,
    Taxon,
    TemporalCoverage,
    UserId,
    write_eml,
)

IPT_EML = Path(__file__).with_name("ipt_eml.xml")


def _lab() -> Party:
    return Party(
        organisation="Rolnick Lab, Mila – Quebec AI Institute",
        delivery_point="6666 rue Saint-Urbain",
        city="Montréal",
        administrative_area="QC",
        postal_code="H2S 3H1",
        country="CA",
        online_url="https://www.rolnicklab.com",
    )


def _consenting_scientist(role: str = "") -> Party:
    return Party(
        given_name="Aurélie",
        surname="Gagnon-Roy",
        organisation="Université de Montréal",
        user_ids=[UserId("https://orcid.org/", "0000-0002-1825-0097")],
        role=role,
    )


@pytest.fixture
def metadata() -> DatasetMetadata:
    return DatasetMetadata(
        package_id="0f8fad5b-d9cb-469f-a165-70867728950e/v3",
        title="Automated light-trap monitoring of moths in Nunavik, 2023",
        abstract=[
            "Nightly images from automated light traps (AMI traps) at four sites in Nunavik, Québec.",
            "Moths were detected and classified by machine-learning models; a subset was verified by experts.",
        ],
        pub_date=datetime.date(2024, 3, 15),
        creators=[_lab(), _consenting_scientist()],
        contacts=[Party(organisation="Rolnick Lab, Mila – Quebec AI Institute", position="Data manager")],
        language="en",
        metadata_language="en",
        metadata_providers=[_lab()],
        associated_parties=[Party(organisation="Kativik Regional Government", role="custodianSteward")],
        publisher=Party(organisation="Mila – Quebec AI Institute", country="CA"),
        keyword_sets=[
            KeywordSet(["Samplingevent"], "GBIF Dataset Type Vocabulary"),
            KeywordSet(["moths", "light trap", "camera trap", "machine learning"]),
        ],
        additional_info="Source images stay on the project's storage; the archive carries their paths.",
        intellectual_rights="Please cite the dataset when you use it.",
        licence=CC_BY_4_0,
        rights_holder="Mila – Quebec AI Institute",
        homepage="https://antenna.insectai.org/projects/23",
        geographic_coverage=GeographicCoverage("Four trap sites in Nunavik, Québec", -78.1, -65.45, 62.42, 55.28),
        temporal_coverage=TemporalCoverage(datetime.date(2023, 6, 20), datetime.date(2023, 9, 2)),
        taxonomic_description="Moths and other night-flying insects",
        taxonomic_coverage=[Taxon("class", "Insecta"), Taxon("order", "Lepidoptera"), Taxon("", "Noctuidae")],
        methods=Methods(
            steps=[
                "An automated trap with a UV light photographs a white sheet every ten minutes from dusk to dawn.",
                "Moths are detected and classified on each image by a machine-learning pipeline.",
            ],
            study_extent="Four sites in Nunavik from June to September 2023.",
            sampling_description="One trap per site; capture sessions are grouped by night.",
            quality_control=["Experts verified a random sample of the machine identifications."],
        ),
        project=Project(
            title="Automated Monitoring of Insects (AMI), Nunavik",
            personnel=[
                _consenting_scientist(role="principalInvestigator"),
                Party(position="Field technician", role="processor"),
            ],
            identifier="antenna-project-23",
            funding="Natural Sciences and Engineering Research Council of Canada.",
            study_area_description="Subarctic tundra and boreal forest edge.",
            design_description="Paired traps at two latitudes to follow the northward shift of species.",
        ),
        alternate_identifiers=["urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e"],
    )


@pytest.fixture
def good_eml(metadata) -> bytes:
    return write_eml(metadata)


@pytest.fixture
def ipt_eml() -> bytes:
    return IPT_EML.read_bytes()
