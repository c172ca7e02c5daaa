"""The publisher's metadata file (export_project --metadata): read, checked, and written to eml.xml."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from dwca_port.eml import read_eml
from dwca_port.eml.additions import MetadataError, read_additions
from tests.portability.helpers import members

GOOD = """\
title: Vermont moths
homepage: https://antenna.insectai.org/projects/18
purpose: Long-term monitoring of nocturnal insects.
keyword_sets:
  - thesaurus: "GBIF Dataset Subtype Vocabulary: http://rs.gbif.org/vocabulary/gbif/dataset_subtype.xml"
    keywords: [Observation]
contacts:
  - organisation: Antenna demo consortium
    position: Data manager
    url: https://example.org/consortium
    ror: 02mhbdp94
  - given_name: Ada
    surname: Lovelace
    orcid: https://orcid.org/0000-0002-1825-0097
associated_parties:
  - organisation: Vermont field station
    role: custodianSteward
citation:
  text: Antenna demo consortium (2026). Vermont moths.
  identifier: https://doi.org/10.1234/demo
project:
  title: Vermont moth monitoring
  funding: A demo grant.
  personnel:
    - organisation: Antenna demo consortium
      role: principalInvestigator
methods:
  steps: The lamp is a 15 W UV LED.
  quality_control: [Every Noctuidae record was checked by an expert.]
"""


def write(tmp_path, text: str):
    path = tmp_path / "metadata.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("titel: x\n", "line 1, titel: unknown field; expected one of title"),
        ("contacts:\n  - organisation: Lab\n    email: a@b.org\n", "line 3, contacts[1].email: e-mail addresses"),
        (
            "contacts:\n  - given_name: Ada\n    surname: Lovelace\n",
            "line 2, contacts[1]: names a person without an ORCID",
        ),
        ("contacts:\n  - surname: Lovelace\n    orcid: 1234\n", "line 3, contacts[1].orcid: expected an ORCID iD"),
        ("associated_parties:\n  - organisation: Lab\n", "line 2, associated_parties[1]: needs a role"),
        ("associated_parties:\n  - organisation: Lab\n    role: boss\n", "line 3, associated_parties[1].role: 'boss'"),
        ("homepage: antenna.org\n", "line 1, homepage: 'antenna.org' is not an http(s) URL"),
        ("project:\n  title: P\n", "line 2, project: needs personnel"),
        ("title: [\n", "not valid YAML"),
        ("title:\n", "line 1, title: expected a text"),
        ("title: x\ntitle: y\n", "line 2, title: given twice"),
    ],
)
def test_a_bad_file_is_refused_naming_its_line_field_and_rule(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(MetadataError) as caught:
        read_additions(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and expected in message and "\n" not in message


def test_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(MetadataError, match="cannot read it"):
        read_additions(tmp_path / "nope.yaml")


def test_an_empty_file_adds_nothing(tmp_path):
    assert read_additions(write(tmp_path, "")) == read_additions(write(tmp_path, "# nothing\n"))


@pytest.mark.django_db
def test_the_additions_reach_eml_xml(demo, export, tmp_path):
    path = export(demo, "gbif", metadata=write(tmp_path, GOOD))
    metadata = read_eml(members(path)["eml.xml"])
    assert metadata.title == "Vermont moths" and metadata.homepage == "https://antenna.insectai.org/projects/18"
    assert metadata.purpose == "Long-term monitoring of nocturnal insects."
    assert [k.keywords for k in metadata.keyword_sets][0] == ["Samplingevent"]
    assert ["Observation"] in [k.keywords for k in metadata.keyword_sets]
    assert "Lepidoptera" in metadata.keyword_sets[1].keywords
    [lab, ada] = metadata.contacts
    assert lab.online_url == "https://example.org/consortium" and lab.user_ids[0].directory == "https://ror.org/"
    assert (ada.surname, ada.user_ids[0].value) == ("Lovelace", "0000-0002-1825-0097")
    assert metadata.associated_parties[0].role == "custodianSteward"
    assert metadata.project.title == "Vermont moth monitoring" and metadata.project.personnel[0].role == (
        "principalInvestigator"
    )
    assert metadata.citation == "Antenna demo consortium (2026). Vermont moths."
    assert metadata.citation_identifier == "https://doi.org/10.1234/demo"
    assert metadata.methods.steps[-1] == "The lamp is a 15 W UV LED."
    assert metadata.methods.quality_control[-1] == "Every Noctuidae record was checked by an expert."


@pytest.mark.django_db
def test_without_a_file_the_eml_still_has_project_methods_and_citation(demo, export):
    metadata = read_eml(members(export(demo, "gbif"))["eml.xml"])
    assert metadata.project.title == demo.name and metadata.project.personnel[0].role == "pointOfContact"
    assert "Vermont field station" in metadata.project.study_area_description
    assert "US" in metadata.project.study_area_description
    steps = " ".join(metadata.methods.steps)
    assert "Fasterrcnn for AMI Moth Traps 2021 (version 1)" in steps
    assert "Quebec & Vermont Species Classifier (version 1)" in steps
    assert "AMI trap with Raspberry Pi camera" in steps
    assert "verification required" in metadata.methods.quality_control[0]
    assert metadata.citation.startswith(f"{demo.rights_holder} (")


@pytest.mark.django_db
def test_the_command_refuses_a_bad_file_in_one_line_and_writes_nothing(demo, tmp_path):
    output = tmp_path / "out.zip"
    with pytest.raises(CommandError) as caught:
        call_command(
            "export_project",
            "--project",
            str(demo.pk),
            "--output",
            str(output),
            "--profile",
            "gbif",
            "--metadata",
            str(write(tmp_path, "contacts:\n  - organisation: Lab\n    role: boss\n")),
            "--quiet",
        )
    assert "line 3, contacts[1].role" in str(caught.value) and "\n" not in str(caught.value)
    assert not output.exists() and not list(tmp_path.glob("*.partial"))
