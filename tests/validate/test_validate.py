"""validate_archive beyond the corpus: profiles, warnings, generic archives, caps, identifier sets."""

import datetime as dt

import pytest

from dwca_port.checks.identifiers import IdentifierSet, identifier_key
from dwca_port.checks.syntax import parse_event_date, parse_uri
from dwca_port.findings import Severity
from dwca_port.tables.base import DCTERMS, DWC, ECO, FULL, GBIF_PROFILE, Column, Table
from dwca_port.validate import validate_archive
from dwca_port.values import Kind
from tests.archive_corpus import SAMPLE_TABLES, Editor, build_archive, sample_archive, zip_members


def edited(change, profile=FULL) -> bytes:
    editor = Editor(sample_archive(profile), SAMPLE_TABLES)
    change(editor)
    return editor.build()


def set_term(term, value, row_number=1):
    """Set `term` on a row (row 1: in event.txt the first row with coordinates)."""

    def change(editor):
        table = editor.table_with(term=term)
        editor.set_value(table, table.index_of(term), value, row_number=row_number, only_non_empty=False)

    return change


def findings(archive, **options):
    report = validate_archive(archive, tables=options.pop("tables", SAMPLE_TABLES), **options)
    return report, {(finding.item, finding.code): finding for finding in report.findings}


def test_the_profile_is_detected_from_the_row_types():
    report, found = findings(sample_archive(FULL))
    assert report.ok and found[(15, "UNKNOWN_ROWTYPE")].severity is Severity.WARNING
    report, found = findings(sample_archive(FULL), profile=GBIF_PROFILE)
    assert not report.ok and found[(15, "UNKNOWN_ROWTYPE")].severity is Severity.BLOCKING


def test_an_archive_without_declarations_is_checked_by_its_terms():
    """A foreign archive: no declarations, only meta.xml and the GBIF definitions."""
    report, found = findings(sample_archive(FULL), tables=())
    assert report.ok, report.blocking
    report, found = findings(edited(set_term(DWC + "eventDate", "2024-02-30")), tables=())
    assert found[(33, "RECORDED_DATE_INVALID")].severity is Severity.WARNING  # an undeclared term: GBIF's warning


def test_unknown_profile_is_a_programming_error():
    with pytest.raises(ValueError):
        validate_archive(sample_archive(), profile="ipt")


@pytest.mark.parametrize(
    "term, value, item, code",
    [
        (DWC + "decimalLatitude", "0", 34, "ZERO_COORDINATE"),  # with decimalLongitude 0 below
        (DWC + "geodeticDatum", "", 34, "GEODETIC_DATUM_ASSUMED_WGS84"),
        (DWC + "coordinateUncertaintyInMeters", "0", 34, "COORDINATE_UNCERTAINTY_METERS_INVALID"),
        (DWC + "sampleSizeUnit", "", 35, "PAIRED_TERM_MISSING"),
        (ECO + "samplingEffortUnit", "", 35, "PAIRED_TERM_MISSING"),
        (DWC + "eventDate", "2999-01-01", 33, "RECORDED_DATE_UNLIKELY"),
        (DWC + "dateIdentified", "2999-01-01T00:00:00+00:00", 33, "IDENTIFIED_DATE_UNLIKELY"),
        (DWC + "individualCount", "0", 37, "INDIVIDUAL_COUNT_CONFLICTS_WITH_OCCURRENCE_STATUS"),
        (DWC + "kingdom", "", 38, "TAXON_TERM_MISSING"),
        (DCTERMS + "format", "jpeg", 39, "MULTIMEDIA_FORMAT_INVALID"),
        (DCTERMS + "license", "All rights reserved", 40, "LICENSE_UNSUPPORTED"),
        (DWC + "eventRemarks", "NULL", 23, "LITERAL_NULL"),
        (DWC + "eventRemarks", "caf&eacute;", 23, "HTML_ENTITY"),
    ],
)
def test_gbif_interpretation_issues_are_warnings(term, value, item, code):
    def change(editor):
        set_term(term, value)(editor)
        if code == "ZERO_COORDINATE":
            set_term(DWC + "decimalLongitude", "0")(editor)

    report, found = findings(edited(change))
    assert found[(item, code)].severity is Severity.WARNING
    assert found[(item, code)].line and found[(item, code)].file


def test_humboldt_flags_must_agree_with_their_details():
    event = Table(
        "event.txt", DWC + "Event", (Column(DWC + "eventID", Kind.UUID),), core=True, identifier_term=DWC + "eventID"
    )
    humboldt = Table(
        "humboldt.txt",
        ECO + "Event",
        (
            Column(DWC + "eventID", Kind.UUID),
            Column(ECO + "hasMaterialSamples", Kind.BOOLEAN),
            Column(ECO + "materialSampleTypes"),
        ),
    )
    night = "00000001-feed-4bee-8cab-000000000001"
    archive = build_archive(
        (event, humboldt), {"event.txt": [[night]], "humboldt.txt": [[night, "false", "pinned specimens"]]}
    )
    report, found = findings(archive, tables=(event, humboldt))
    assert found[(36, "HAS_MATERIAL_SAMPLES_MISMATCH")].severity is Severity.WARNING


def test_media_pairs_are_unique():
    def change(editor):
        table = editor.table_with(row_type="http://rs.gbif.org/terms/1.0/Multimedia")
        editor.append_row(table, editor.first_row(table))

    report, found = findings(edited(change, GBIF_PROFILE))
    assert (31, "MULTIMEDIA_DUPLICATE") in found


def test_a_defect_on_every_row_is_listed_twenty_times_then_counted():
    def change(editor):
        table = editor.core
        header, rows = editor.rows(table)
        index = table.index_of(DWC + "eventDate")
        editor.write_rows(
            table,
            header,
            rows
            + [
                [f"{row[0][:-4]}{n:04x}"] + row[1:index] + ["2024-02-31"] + row[index + 1 :]
                for n in range(100)
                for row in rows[:1]
            ],
        )

    report, found = findings(edited(change))
    dates = [finding for finding in report.findings if finding.code == "RECORDED_DATE_INVALID"]
    assert len(dates) == 21 and "80 more" in dates[-1].message


def test_a_reference_into_an_unreadable_file_is_not_judged():
    """When a referenced file cannot be read to its end, its references are not reported as dangling."""

    def change(editor):
        editor.edit_bytes("sourceimage.txt", lambda data: data + b"\t".join([b"x"] * 2000) + b"\n")

    report, found = findings(edited(change))
    assert (0, "TOO_MANY_COLUMNS") in found
    assert (25, "REFERENCE_NOT_FOUND") not in found


def test_coverage_missing_is_a_warning():
    def change(editor):
        editor.edit_bytes(
            "eml.xml", lambda data: data[: data.index(b"<coverage>")] + data[data.index(b"</coverage>") + 11 :]
        )

    report, found = findings(edited(change))
    assert report.ok and found[(46, "COVERAGE_MISSING")].severity is Severity.WARNING


def test_eml_missing_is_a_warning_and_extra_files_are_local():
    members = [(name, data) for name, data in Editor(sample_archive(GBIF_PROFILE)).members.items() if name != "eml.xml"]
    report, found = findings(zip_members(members + [("notes/readme.txt", b"hello")]))
    assert found[(3, "EML_NOT_FOUND")].severity is Severity.WARNING
    assert found[(4, "EXTRA_FILE")].severity is Severity.LOCAL


def test_identifier_sets_hold_16_bytes_per_identifier_and_find_repeats():
    identifiers = IdentifierSet()
    uuids = [f"{n:08x}-aaaa-4bbb-8ccc-{n:012x}" for n in range(1000)]
    for value in uuids + [uuids[7], "FISHES:1", "fishes:1", uuids[3].upper()]:
        identifiers.add(value)
    identifiers.finalize()
    assert len(identifiers._keys) == 16 * 1004
    assert identifiers.duplicate_keys == {
        identifier_key(uuids[7]),
        identifier_key("FISHES:1"),
        identifier_key(uuids[3]),
    }
    assert identifier_key(uuids[3]) == bytes.fromhex(uuids[3].replace("-", ""))  # a UUID is its own key
    queries = [uuids[0], uuids[999].upper(), "00000000-0000-4000-8000-000000000000", "Fishes:1", "other"]
    assert identifiers.contains_many(queries) == [True, True, False, True, False]


def test_repeats_are_named_with_the_line_they_repeat():
    def change(editor):
        table = editor.table_with(row_type=DWC + "Occurrence")
        header, rows = editor.rows(table)
        index = table.index_of(DWC + "occurrenceID")
        rows[1][index] = rows[0][index].upper()
        rows[2][index] = rows[0][index]
        editor.write_rows(table, header, rows)

    report, _ = findings(edited(change))
    repeats = [finding for finding in report.findings if finding.code == "OCCURRENCE_NOT_UNIQUELY_IDENTIFIED"]
    assert [(finding.line, finding.severity) for finding in repeats] == [(3, Severity.BLOCKING), (4, Severity.BLOCKING)]
    assert "but for case" in repeats[0].message and "first on line 2" in repeats[1].message


def test_empty_identifier_sets_answer_no():
    identifiers = IdentifierSet()
    identifiers.finalize()
    assert identifiers.contains_many(["x", "00000000-0000-4000-8000-000000000000"]) == [False, False]


@pytest.mark.parametrize(
    "value, start, end",
    [
        ("2024-06-15", "2024-06-15", "2024-06-15"),
        ("2024-06", "2024-06-01", "2024-06-30"),
        ("2024", "2024-01-01", "2024-12-31"),
        ("2024-06-15/16", "2024-06-15", "2024-06-16"),
        ("2024-06-15T20:00:00-04:00/2024-06-16T06:00:00-04:00", "2024-06-15", "2024-06-16"),
        ("2024-06-15T20:00-04:00", "2024-06-15", "2024-06-15"),
    ],
)
def test_event_dates(value, start, end):
    parsed = parse_event_date(value)
    assert (parsed.start, parsed.end) == (dt.date.fromisoformat(start), dt.date.fromisoformat(end))


@pytest.mark.parametrize(
    "value", ["2024-02-30", "2024-13", "15/06/2024", "2024-06-16/2024-06-15", "2024-06-15/", "P1D", "2024-06-15T25:00"]
)
def test_bad_event_dates(value):
    with pytest.raises(ValueError):
        parse_event_date(value)


@pytest.mark.parametrize(
    "value, good",
    [
        ("https://example.org/a.jpg", True),
        ("urn:uuid:1234", True),
        ("example.org/a.jpg", False),
        ("https://exa mple.org", False),
        ("http:///x", False),
    ],
)
def test_uris(value, good):
    if good:
        parse_uri(value)
    else:
        with pytest.raises(ValueError):
            parse_uri(value)


def test_two_extension_files_of_one_row_type_are_refused():
    """Readers keep one extension per rowType: the second file's rows would be lost silently."""
    import io
    import re
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(sample_archive(FULL)))
    meta = source.read("meta.xml").decode()
    extension = re.search(r"<extension\b.*?</extension>", meta, re.S).group(0)
    location = re.search(r"<location>(.*?)</location>", extension).group(1)
    copy = extension.replace(f"<location>{location}</location>", "<location>again.txt</location>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, meta.replace(extension, extension + copy) if name == "meta.xml" else data)
        target.writestr("again.txt", source.read(location))
    report, found = findings(out.getvalue())
    finding = found[(0, "ROWTYPE_REPEATED")]
    assert not report.ok and finding.severity is Severity.BLOCKING and finding.file == "meta.xml"
    assert "again.txt" in finding.message and location in finding.message
    report, found = findings(sample_archive(FULL))
    assert (0, "ROWTYPE_REPEATED") not in found
