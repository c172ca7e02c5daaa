"""The local checklist: indexing a Taxon-core DwC-A, then matching offline."""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from dwca_port.taxonomy.checklists import BACKBONE, COL_XR
from dwca_port.taxonomy.errors import ChecklistIndexError
from dwca_port.taxonomy.matchers import (
    ChecklistIndex,
    LocalChecklistMatcher,
    MatchType,
    Query,
    build_index,
    build_matcher,
)
from dwca_port.taxonomy.matchers.fuzzy import edit_distance, epithet_stem
from dwca_port.taxonomy.matchers.local_index import default_index_path

from .conftest import LEPIDOPTERA, MOTH_CHECKLIST

DWC = "http://rs.tdwg.org/dwc/terms/"


def write_archive(folder: Path, columns: list[str], rows: list[list[str]], zipped: bool = False) -> Path:
    """A minimal Taxon-core DwC-A: Taxon.tsv and meta.xml (column 0 is the id)."""
    fields = "\n".join(f'<field index="{i}" term="{DWC}{c}"/>' for i, c in enumerate(columns))
    meta = (
        f'<archive xmlns="http://rs.tdwg.org/dwc/text/"><core encoding="UTF-8" fieldsTerminatedBy="\\t" '
        f'linesTerminatedBy="\\n" fieldsEnclosedBy="" ignoreHeaderLines="1" rowType="{DWC}Taxon">'
        f'<files><location>Taxon.tsv</location></files><id index="0"/>{fields}</core></archive>'
    )
    table = "\t".join(columns) + "\n" + "".join("\t".join(row) + "\n" for row in rows)
    if zipped:
        path = folder / "checklist.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("meta.xml", meta)
            archive.writestr("Taxon.tsv", table)
        return path
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta.xml").write_text(meta)
    (folder / "Taxon.tsv").write_text(table)
    return folder


# --- indexing ------------------------------------------------------------------------------


def test_backbone_layout_index(moth_index_path):
    index = ChecklistIndex(moth_index_path)
    assert index.checklist_key == BACKBONE  # from the EML's alternateIdentifier
    assert index.title == "Moth test checklist (GBIF Backbone layout)"
    assert len(index) == int(index.meta["rows"]) > 4000
    usage = index.usage("1797445")
    assert (usage.canonical, usage.rank, usage.status) == ("Catocala ultronia", "SPECIES", "ACCEPTED")
    ranks = [rank for rank, _, _ in index.classification(usage)]
    assert ranks == ["KINGDOM", "PHYLUM", "CLASS", "ORDER", "FAMILY", "GENUS", "SPECIES"]


def test_checklistbank_layout_zip_with_col_keys(tmp_path):
    """A ChecklistBank export: no canonicalName or kingdom..genus columns, authorship inside
    scientificName, alphanumeric keys (real COL XR keys from the recorded v2 answers)."""
    columns = [
        "taxonID",
        "parentNameUsageID",
        "acceptedNameUsageID",
        "taxonomicStatus",
        "taxonRank",
        "scientificName",
        "scientificNameAuthorship",
        "genericName",
        "specificEpithet",
    ]
    rows = [
        ["N", "", "", "accepted", "kingdom", "Animalia", "", "", ""],
        ["RT", "N", "", "accepted", "phylum", "Arthropoda", "", "", ""],
        ["H6", "RT", "", "accepted", "class", "Insecta", "", "", ""],
        ["B6LCL", "H6", "", "accepted", "order", "Odonata", "", "", ""],
        ["9WKK3", "B6LCL", "", "accepted", "family", "Calopterygidae Selys, 1850", "Selys, 1850", "", ""],
        ["9WLSS", "9WKK3", "", "accepted", "genus", "Calopteryx Leach, 1815", "Leach, 1815", "Calopteryx", ""],
        [
            "Q2M4",
            "9WLSS",
            "",
            "accepted",
            "species",
            "Calopteryx splendens (Harris, 1780)",
            "(Harris, 1780)",
            "Calopteryx",
            "splendens",
        ],
    ]
    source = write_archive(tmp_path, columns, rows, zipped=True)
    summary = build_index(source, tmp_path / "col.sqlite", checklist_key="col-xr")
    assert summary["rows"] == 7 and summary["checklist_key"] == COL_XR
    matcher = LocalChecklistMatcher(ChecklistIndex(tmp_path / "col.sqlite"))
    result = matcher.match(Query("Calopteryx splendens", "(Harris, 1780)"))
    assert (result.key, result.checklist_key, result.authorship) == ("Q2M4", COL_XR, "(Harris, 1780)")
    assert [name for _, name, _ in result.classification] == [
        "Animalia",
        "Arthropoda",
        "Insecta",
        "Odonata",
        "Calopterygidae",
        "Calopteryx",
        "Calopteryx splendens",
    ]
    family = matcher.match(Query("Calopterygidae"))
    assert family.key == "9WKK3" and family.rank == "FAMILY"


def test_index_is_built_once_next_to_the_archive_and_rebuilt_when_it_changes(tmp_path):
    source = write_archive(tmp_path / "a", ["taxonID", "scientificName", "taxonRank"], [["1", "Catocala", "genus"]])
    first = ChecklistIndex.for_source(source)
    assert first.path == default_index_path(source) and len(first) == 1
    built_at = first.meta["built_at"]
    first.close()
    again = ChecklistIndex.for_source(source)
    assert again.meta["built_at"] == built_at  # reused
    again.close()
    (source / "Taxon.tsv").write_text("taxonID\tscientificName\ttaxonRank\n1\tCatocala\tgenus\n2\tZale\tgenus\n")
    rebuilt = ChecklistIndex.for_source(source)
    assert len(rebuilt) == 2
    assert rebuilt.checklist_key == "local:a"  # no EML, no key given: a key that only matches itself


def test_not_a_checklist(tmp_path):
    occurrence_core = tmp_path / "occ"
    write_archive(occurrence_core, ["occurrenceID", "scientificName"], [["o1", "Catocala"]])
    meta = occurrence_core / "meta.xml"
    meta.write_text(meta.read_text().replace(f"{DWC}Taxon", f"{DWC}Occurrence"))
    with pytest.raises(ChecklistIndexError, match="Occurrence core, not a Taxon core"):
        build_index(occurrence_core, tmp_path / "x.sqlite")
    (tmp_path / "plain.txt").write_text("hello")
    with pytest.raises(ChecklistIndexError, match="cannot read"):
        build_index(tmp_path / "plain.txt", tmp_path / "y.sqlite")
    with pytest.raises(ChecklistIndexError, match="not a checklist index"):
        ChecklistIndex(tmp_path / "plain.txt")


def test_build_checklist_index_command(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "build_checklist_index", str(MOTH_CHECKLIST), out=str(tmp_path / "moths.sqlite"), stdout=out, stderr=err
    )
    assert "indexing" in err.getvalue()  # progress goes to stderr
    assert "Indexed 4," in out.getvalue() and "GBIF Backbone Taxonomy" in out.getvalue()
    assert ChecklistIndex(tmp_path / "moths.sqlite").checklist_key == BACKBONE
    with pytest.raises(CommandError, match="does not exist"):
        call_command("build_checklist_index", str(tmp_path / "missing.zip"), stdout=out, stderr=err)
    with pytest.raises(CommandError, match="already an index"):
        call_command("build_checklist_index", str(tmp_path / "moths.sqlite"), stdout=out, stderr=err)


# --- matching ------------------------------------------------------------------------------


def test_exact_with_authorship(local_matcher):
    result = local_matcher.match(Query("Helianthus annuus", "L."))
    assert result.match_type is MatchType.EXACT and result.key == "9206251" and result.confidence == 99
    differing = local_matcher.match(Query("Helianthus annuus", "Smith, 1900"))
    assert differing.key == "9206251" and differing.confidence < 99 and "authorship differs" in differing.note


def test_synonym_is_followed_to_the_accepted_name(local_matcher):
    result = local_matcher.match(Query("Cenopis mesospila"))  # GBIF: synonym of Sparganothis reticulatana
    assert result.synonym
    assert (result.resolved_key, result.resolved_name) == ("1739680", "Sparganothis reticulatana")
    assert result.classification[-2] == ("GENUS", "Sparganothis", "x-genus-Tortricidae-Sparganothis")


@pytest.mark.parametrize(
    "variant, accepted, key",
    [
        ("Olethreutes lacunanum", "Olethreutes lacunana", "1742113"),  # -um/-a
        ("Dichomeris punctidiscella", "Dichomeris punctidiscellus", "1846941"),  # -a/-us
        ("Iodopepla u-album", "Iodopepla ualbum", "1765962"),  # hyphen
        ("Nemophora bellela", "Nemophora bellella", "1860811"),  # doubled letter
        ("Monopis pavlovski", "Monopis pavlovskii", "1857906"),  # -i/-ii
        ("Antispila nysaefoliella", "Antispila nyssaefoliella", "1861314"),
    ],
)
def test_spelling_variants(local_matcher, variant, accepted, key):
    result = local_matcher.match(Query(variant))
    assert result.match_type is MatchType.FUZZY
    assert (result.resolved_name, result.resolved_key) == (accepted, key)
    assert 85 <= result.confidence < 99


def test_edit_distance_and_misspelt_genus(local_matcher):
    one_letter = local_matcher.match(Query("Catocala ultronea"))
    assert one_letter.match_type is MatchType.FUZZY and one_letter.resolved_key == "1797445"
    genus = local_matcher.match(Query("Catocalla ultronia"))
    assert genus.match_type is MatchType.FUZZY and genus.resolved_key == "1797445" and "genus spelt" in genus.note


def test_higher_rank_fallback_and_strict(local_matcher, moth_index_path):
    result = local_matcher.match(Query("Xanthorhoe ferrugata", hints=LEPIDOPTERA))
    assert (
        result.match_type is MatchType.HIGHERRANK and result.canonical_name == "Xanthorhoe" and result.rank == "GENUS"
    )
    family = local_matcher.match(Query("Nonexistus fictus", hints=(("FAMILY", "Noctuidae"),)))
    assert family.match_type is MatchType.HIGHERRANK and family.canonical_name == "Noctuidae"
    strict = LocalChecklistMatcher(ChecklistIndex(moth_index_path), strict=True)
    assert strict.match(Query("Xanthorhoe ferrugata")).match_type is MatchType.NONE


def test_no_match(local_matcher):
    result = local_matcher.match(Query("Nonexistus fictus"))
    assert result.match_type is MatchType.NONE and result.note == "no match"
    assert local_matcher.match(Query("")).match_type is MatchType.NONE


def test_archive_key_of_the_same_checklist_is_used(local_matcher):
    """A species moved to another genus: the name is unknown, the Backbone key is not."""
    result = local_matcher.match(Query("Cenopsis reticulatana", identifier=(BACKBONE, "1739680")))
    assert result.match_type is MatchType.EXACT and result.key == "1739680" and "archive's key" in result.note
    other_checklist = local_matcher.match(Query("Cenopsis reticulatana", identifier=(COL_XR, "1739680")))
    assert other_checklist.key != "1739680"


def test_homonyms_across_kingdoms_are_told_apart_by_hints(tmp_path):
    """Amorpha is a sphinx-moth genus and a legume genus. Test-local ids, real classification."""
    columns = [
        "taxonID",
        "parentNameUsageID",
        "taxonomicStatus",
        "taxonRank",
        "scientificName",
        "scientificNameAuthorship",
    ]
    rows = [
        ["a1", "", "accepted", "kingdom", "Animalia", ""],
        ["a2", "a1", "accepted", "phylum", "Arthropoda", ""],
        ["a3", "a2", "accepted", "order", "Lepidoptera", ""],
        ["a4", "a3", "accepted", "family", "Sphingidae", ""],
        ["a5", "a4", "accepted", "genus", "Amorpha Hübner, 1809", "Hübner, 1809"],
        ["p1", "", "accepted", "kingdom", "Plantae", ""],
        ["p2", "p1", "accepted", "order", "Fabales", ""],
        ["p3", "p2", "accepted", "family", "Fabaceae", ""],
        ["p4", "p3", "accepted", "genus", "Amorpha L.", "L."],
    ]
    source = write_archive(tmp_path / "homonyms", columns, rows)
    matcher = LocalChecklistMatcher(source)
    ambiguous = matcher.match(Query("Amorpha", rank="GENUS"))
    assert ambiguous.match_type is MatchType.NONE and "Multiple equal matches" in ambiguous.note
    assert "Animalia" in ambiguous.note and "Plantae" in ambiguous.note
    assert matcher.match(Query("Amorpha", rank="GENUS", hints=(("KINGDOM", "Animalia"),))).key == "a5"
    assert matcher.match(Query("Amorpha", rank="GENUS", hints=(("KINGDOM", "Plantae"),))).key == "p4"
    assert matcher.match(Query("Amorpha", "Hübner", "GENUS")).key == "a5"  # authorship decides too
    assert matcher.match(Query("Amorpha", rank="GENUS", hints=(("KINGDOM", "Fungi"),))).match_type is MatchType.NONE


def test_build_matcher_options(moth_index_path, replay, tmp_path):
    local = build_matcher(str(moth_index_path))
    assert isinstance(local, LocalChecklistMatcher)
    api = build_matcher("col-xr", gbif_url=replay.url, cache_path=tmp_path / "c.sqlite")
    assert api.checklist_key == COL_XR and api.version == "v2"
    chained = build_matcher(
        "backbone", gbif_url=replay.url + "/v1", cache_path=tmp_path / "c.sqlite", fallback=moth_index_path
    )
    assert chained.primary.version == "v1" and chained.fallback.checklist_key == BACKBONE
    with pytest.raises(ValueError, match="does not exist"):
        build_matcher(str(tmp_path / "nope.zip"))


@pytest.mark.parametrize(
    "a, b",
    [
        ("lacunanum", "lacunana"),
        ("punctidiscella", "punctidiscellus"),
        ("servitus", "servita"),
        ("conspersarius", "conspersaria"),
        ("niger", "nigra"),
        ("viridis", "viride"),
        ("u-album", "ualbum"),
        ("bellela", "bellella"),
        ("pavlovski", "pavlovskii"),
    ],
)
def test_epithet_stems(a, b):
    assert epithet_stem(a) == epithet_stem(b)


def test_edit_distance():
    assert edit_distance("ultronia", "ultronea", 2) == 1
    assert edit_distance("ultronia", "ultorn", 2) == 3  # beyond the limit
    assert edit_distance("abcd", "abdc", 1) == 1  # a transposition is one edit
