"""Name parsing on the moth-list edge cases."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dwca_port.taxonomy.names import NameKind, authorship_agrees, name_key, parse_name

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "verbatim, taxon_name, authorship",
    [
        ("Baileya ophthalmica (Guenée, 1852)", "Baileya ophthalmica", "(Guenée, 1852)"),
        ("Mythimna obsoleta Hb.", "Mythimna obsoleta", "Hb."),
        ("Cydia discretana Wcke.", "Cydia discretana", "Wcke."),
        ("Lithophane  innominata Smith 1893", "Lithophane innominata", "Smith, 1893"),
        ("  Palpita   magniferalis ", "Palpita magniferalis", ""),
        ("Xestia (Megasema) c-nigrum", "Xestia c-nigrum", ""),
    ],
)
def test_canonical_name_and_authorship(verbatim, taxon_name, authorship):
    parsed = parse_name(verbatim)
    assert parsed.kind is NameKind.SCIENTIFIC
    assert (parsed.taxon_name, parsed.match_name, parsed.authorship) == (taxon_name, taxon_name, authorship)
    assert parsed.rank == "SPECIES"


@pytest.mark.parametrize(
    "verbatim, qualifier",
    [("Catocala cf. ultronia", "cf."), ("Catocala aff. ultronia", "aff."), ("Catocala cf ultronia", "cf.")],
)
def test_identification_qualifier_is_kept_apart_from_the_taxon(verbatim, qualifier):
    parsed = parse_name(verbatim)
    assert parsed.kind is NameKind.QUALIFIED
    assert parsed.taxon_name == parsed.match_name == "Catocala ultronia"
    assert parsed.qualifier == qualifier


@pytest.mark.parametrize(
    "verbatim, taxon, rank, marker",
    [
        ("Acronicta sp.", "Acronicta", "GENUS", "sp."),
        ("Acronicta spp.", "Acronicta", "GENUS", "spp."),
        ("Noctuidae sp.", "Noctuidae", "FAMILY", "sp."),  # the parser alone would call it a genus
        ("Noctuinae sp.", "Noctuinae", "SUBFAMILY", "sp."),
    ],
)
def test_sp_stands_for_the_higher_taxon(verbatim, taxon, rank, marker):
    parsed = parse_name(verbatim)
    assert parsed.kind is NameKind.HIGHER
    assert (parsed.taxon_name, parsed.match_name, parsed.rank, parsed.marker) == (taxon, taxon, rank, marker)


@pytest.mark.parametrize(
    "verbatim, marker",
    [
        ("Ancylis subaequana complex", "complex"),
        ("Probole alienaria-amicaria complex", "complex"),
        ("Idia concisa of authors", "of authors"),
        ("Odontosia (prov. plcmt.) elegans", "prov. plcmt."),
        ("Resapamea (prov. plcmt. group 2) stipata", "prov. plcmt. group 2"),
    ],
)
def test_informal_concepts_are_their_own_taxa_placed_by_genus(verbatim, marker):
    parsed = parse_name(verbatim)
    assert parsed.kind is NameKind.CONCEPT
    assert parsed.taxon_name == verbatim  # Antenna names these taxa this way
    assert parsed.marker == marker
    assert parsed.match_name == verbatim.split(" ")[0] and parsed.match_rank == "GENUS"
    assert parsed.match_is_placement_only


def test_provisional_placement_epithet_is_not_read_as_an_author():
    parsed = parse_name("Oligia (prov. plcmt.) egens")
    assert (parsed.genus, parsed.epithet, parsed.authorship) == ("Oligia", "egens", "")


@pytest.mark.parametrize("verbatim", ["Hypoprepia fucosa x miniata", "Hypoprepia fucosa × Hypoprepia miniata"])
def test_hybrid_formula_has_its_own_branch(verbatim):
    parsed = parse_name(verbatim)  # gbif-name-parser raises UnparsableNameError(FORMULA) on these
    assert parsed.kind is NameKind.HYBRID
    assert parsed.hybrid_parents == ("Hypoprepia fucosa", "Hypoprepia miniata")
    assert parsed.taxon_name == "Hypoprepia fucosa × Hypoprepia miniata"
    assert (parsed.match_name, parsed.match_rank) == ("Hypoprepia", "GENUS")


def test_intergeneric_hybrid_has_no_name_to_match():
    parsed = parse_name("Catocala ultronia x Baileya ophthalmica")
    assert parsed.kind is NameKind.HYBRID and parsed.match_name == ""


@pytest.mark.parametrize("verbatim", ["Unknown", "Not a moth", "", "123"])
def test_labels_that_are_not_names(verbatim):
    parsed = parse_name(verbatim)
    assert parsed.kind is NameKind.UNPARSED
    assert parsed.match_name == ""
    assert parsed.taxon_name == verbatim


def test_uninomials():
    assert parse_name("Noctuidae").rank == "FAMILY"
    assert parse_name("Eucosmini").rank == "TRIBE"
    assert parse_name("Catocala").rank == "UNKNOWN"  # genus names end in anything
    assert parse_name("Catocala").taxon_name == "Catocala"


def test_name_key_folds_case_accents_and_spaces():
    assert name_key(" Catocala  ULTRONIA ") == name_key("catocala ultronia")
    assert name_key("Guenée") == "guenee"


@pytest.mark.parametrize(
    "first, second, agrees",
    [
        ("Hb.", "Hübner, 1808", True),
        ("(Guenée, 1852)", "Guenée 1852", True),
        ("Wcke.", "Wocke", True),
        ("D.& S.", "Denis & Schiffermüller, 1775", True),
        ("HS.", "Herrich-Schäffer", True),
        ("L.", "Linnaeus, 1758", True),
        ("Smith 1893", "Grote 1873", False),
        ("Smith, 1893", "Smith, 1910", False),
        ("L.", "", None),
    ],
)
def test_authorship_comparison_allows_abbreviations(first, second, agrees):
    assert authorship_agrees(first, second) is agrees


def test_wrong_nameparser_package_is_detected(tmp_path):
    """PyPI's `nameparser` (human names) shadowing gbif-name-parser gives a clear message."""
    fake = tmp_path / "nameparser"
    fake.mkdir()
    (fake / "__init__.py").write_text("class HumanName:\n    pass\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    script = (
        "from dwca_port.taxonomy.names import parse_name\n"
        "from dwca_port.taxonomy.errors import NameParserUnavailable\n"
        "try:\n    parse_name('Catocala ultronia')\n"
        "except NameParserUnavailable as error:\n    print(error)\n    raise SystemExit(3)\n"
    )
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, cwd=REPO, timeout=60)
    assert run.returncode == 3, run.stderr
    assert "human-name parser" in run.stdout
    assert "pip uninstall -y nameparser" in run.stdout
