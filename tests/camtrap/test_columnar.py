"""The fast path of the package check proves good packages clean, and leaves every broken one to
frictionless, whose findings are then exactly those of a check without the fast path."""

from __future__ import annotations

import csv
import json

import duckdb
import frictionless
import pytest
from django.test import override_settings

from dwca_port.formats.camtrap_dp import validate
from dwca_port.formats.camtrap_dp.cell_sql import cell_passes
from dwca_port.formats.camtrap_dp.columnar import prove_clean
from dwca_port.formats.camtrap_dp.validate import CAMTRAP_DIR, validate_package
from dwca_port.tables.camtrap.common import RESOURCES
from tests.camtrap.helpers import EXAMPLE, copy_package, edit_csv

MEDIA_ROWS = 8  # the small package: the example's first captures and their observations


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The standard's example cut to a few captures (a few milliseconds to check either way)."""
    package = copy_package(EXAMPLE, tmp_path_factory.mktemp("small") / "package")
    with (package / "media.csv").open(newline="") as stream:
        media = list(csv.reader(stream))[: MEDIA_ROWS + 1]
    kept = {row[0] for row in media[1:]}
    edit_csv(package / "media.csv", lambda rows: media)

    def observations_of_kept_media(rows):
        header, body = rows[0], rows[1:]
        media_id, event_id = header.index("mediaID"), header.index("eventID")
        events = {row[event_id] for row in body if row[media_id] in kept}
        return [
            header,
            *(row for row in body if row[media_id] in kept or not row[media_id] and row[event_id] in events),
        ]

    edit_csv(package / "observations.csv", observations_of_kept_media)
    return package


def test_the_standards_example_is_proven_clean_past_the_threshold(small):
    with override_settings(DWCA_CAMTRAP_COLUMNAR_ABOVE_BYTES=0):
        report = validate_package(EXAMPLE)
    assert report.columnar and report.findings == []
    with override_settings(DWCA_CAMTRAP_COLUMNAR_ABOVE_BYTES=10**12):
        report = validate_package(small)
    assert not report.columnar and report.findings == []


def test_the_demo_package_is_proven_clean(demo, package):
    report = validate_package(package(demo, "demo/", validate=False), columnar=True)
    assert report.columnar and report.findings == []


def _cell(file, column, value, line=2):
    """A change of one cell (line 1 is the header)."""

    def change(package):
        def edit(rows):
            rows[line - 1][rows[0].index(column)] = value
            return rows

        edit_csv(package / file, edit)

    return change


def _rows(file, edit):
    return lambda package: edit_csv(package / file, edit)


def _raw(file, old, new):
    """A change of the file's bytes, for what the csv module would not write."""

    def change(package):
        path = package / file
        content = path.read_bytes()
        assert old in content
        path.write_bytes(content.replace(old, new, 1))

    return change


def _copy_first_id(rows):
    rows[2][0] = rows[1][0]
    return rows


# One of each kind of breakage in the rows: each alone must keep the package from being proven clean.
BROKEN = {
    "missing required value": _cell("media.csv", "timestamp", ""),
    "value outside an enum": _cell("observations.csv", "observationLevel", "frame"),
    "bad pattern": _cell("media.csv", "filePath", "../outside.jpg"),
    "bbox outside 0..1": _cell("observations.csv", "bboxX", "1.5"),
    "non-unique primary key": _rows("deployments.csv", _copy_first_id),
    "foreign key to no deployment": _cell("media.csv", "deploymentID", "nowhere"),
    "foreign key to no media": _cell("observations.csv", "mediaID", "no-such-capture", line=3),
    "text in a number column": _cell("deployments.csv", "longitude", "east"),
    "bad datetime": _cell("observations.csv", "eventStart", "yesterday", line=4),
    "a row one cell short": _rows("media.csv", lambda rows: [*rows[:3], rows[3][:-1], *rows[4:]]),
    "an embedded newline inside quotes": _cell("deployments.csv", "deploymentComments", "two\nlines"),
    # what frictionless reads without a finding, but DuckDB might read otherwise (changed last: bytes)
    "a quote inside a bare value": _raw("deployments.csv", b"Reconyx-HF2X", b'Recon"yx'),
    "a blank line": _raw("observations.csv", b"\n", b"\n\n"),
    "a carriage return": _raw("media.csv", b"\n", b"\r\n"),
}
# Breakages of a header: named by validate.py before frictionless reads a row.
HEADERS = {
    "missing column": _rows("media.csv", lambda rows: [row[:-1] for row in rows]),
    "extra column": _rows("observations.csv", lambda rows: [[*row, "x"] for row in rows]),
}
# Cells on the edge of a rule, or past it, for every field of the standard's schemas.
EDGES = [
    *("", "NA", "NaN", "nan", "None", " ", "x"),
    *("0", "-0", "1", "1.0", "1.5", "-1", "+1", " 1", "1 ", "1_0", ".5", "5.", "1e3", "1E-15", "1e-15", "1e-16"),
    *("0.000000000000001", "0.0000000000000009999999999999999", "1.0000000000000001", "inf", "-Infinity", "1e999"),
    *("90", "90.0000000000000001", "-90.5", "180", "360", "361", "\u0661", "12345678901234567890"),
    *("1e9999999999999999999", "1e-9999999999999999999"),
    *("true", "True", "TRUE", "false", "0", "yes", "t"),
    *("2020-05-30T04:57:37+02:00", "2020-05-30T04:57:37Z", "2020-05-30T04:57:37+0200", "2020-05-30t04:57:37Z"),
    *("2020-05-30T04:57:37", "2020-5-30T04:57:37Z", "2020-05-30T24:00:00Z", "2020-05-30T04:57:60Z"),
    *("2020-05-30T04:57:37+24:00", "2020-05-30T04:57:37-23:59", "2020-02-29T00:00:00Z", "2021-02-29T00:00:00Z"),
    *("2020-04-31T00:00:00Z", "0999-01-01T00:00:00Z", "2020-05-30T04:57:37.5Z", "2020-05-30 04:57:37Z"),
    *("event", "media", "frame", "animal", "timeLapse", "image/jpeg", "video/", "text/plain", "image/jpeg\n"),
    *("a/b.jpg", "../b.jpg", ".b.jpg", "~/b.jpg", "a/../b.jpg", "https://example.org/a.jpg", "female", "adult"),
]


@pytest.mark.parametrize("breakage", [*BROKEN.values(), *HEADERS.values()], ids=[*BROKEN, *HEADERS])
def test_a_broken_package_is_not_proven(small, tmp_path, monkeypatch, breakage):
    package = copy_package(small, tmp_path / "broken")
    breakage(package)
    monkeypatch.setattr(validate, "check_tables", lambda folder, resources: [])  # the fast path's answer alone
    assert not validate_package(package, columnar=True).columnar, "the fast path proved a broken package clean"


def test_the_fast_path_checks_the_header_itself(small, tmp_path):
    """validate.py names a wrong header before; the fast path does not rely on it."""
    descriptor = json.loads((small / "datapackage.json").read_text())
    resources = [
        {**resource, "schema": json.loads((CAMTRAP_DIR / f"{resource['name']}-table-schema.json").read_text())}
        for resource in descriptor["resources"]
        if resource["name"] in RESOURCES
    ]
    assert prove_clean(small, resources)
    package = copy_package(small, tmp_path / "swapped")
    edit_csv(package / "media.csv", lambda rows: [[rows[0][1], rows[0][0], *rows[0][2:]], *rows[1:]])
    assert not prove_clean(package, resources)


@pytest.mark.parametrize("breakages", [BROKEN, HEADERS], ids=["rows", "headers"])
def test_frictionless_finds_the_same_either_way(small, tmp_path, breakages):
    """Every breakage above in one package (frictionless takes a third of a second on the smallest)."""
    package = copy_package(small, tmp_path / "broken")
    for breakage in breakages.values():
        breakage(package)
    fast, precise = validate_package(package, columnar=True), validate_package(package, columnar=False)
    assert not fast.columnar
    assert fast.findings == precise.findings
    assert len({(finding.file, finding.code) for finding in precise.findings}) >= len(breakages) // 2


@pytest.mark.parametrize("name", ["deployments", "media", "observations"])
def test_a_cell_the_sql_vouches_for_passes_frictionless(name):
    """Each field's SQL condition is one-sided: where it holds, frictionless's cell reader finds nothing."""
    schema = frictionless.Schema.from_descriptor(str(CAMTRAP_DIR / f"{name}-table-schema.json"))
    connection = duckdb.connect()
    connection.execute("CREATE TABLE edges AS SELECT unnest(?::VARCHAR[]) AS c", [EDGES])
    vouched_somewhere = set()
    for field in schema.fields:
        condition = cell_passes(field, "c")
        if condition is None:
            continue
        read = field.create_cell_reader()
        for (value,) in connection.execute(f"SELECT c FROM edges WHERE {condition}").fetchall():
            assert not read(value)[1], (field.name, value, read(value)[1])
            vouched_somewhere.add(value)
    assert vouched_somewhere  # the conditions are not merely false
