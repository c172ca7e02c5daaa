"""Every defect of the corpus is flagged with its checklist item and code; the good archives pass."""

import tempfile

import pytest
from dwca.read import DwCAReader

from dwca_port.tables.base import FULL, GBIF_PROFILE
from dwca_port.validate import validate_archive
from tests.archive_corpus import DEFECTS, SAMPLE_ROWS, SAMPLE_TABLES, NotApplicable, sample_archive, sample_tables

PROFILES = (FULL, GBIF_PROFILE)


@pytest.fixture(scope="module", params=PROFILES)
def good(request):
    return request.param, sample_archive(request.param)


def test_the_corpus_is_large_enough():
    assert len(DEFECTS) >= 30
    assert len({defect.name for defect in DEFECTS}) == len(DEFECTS)


@pytest.mark.parametrize("profile", PROFILES)
def test_the_good_archive_passes(profile):
    report = validate_archive(sample_archive(profile), tables=SAMPLE_TABLES)
    assert report.ok, "\n".join(map(str, report.blocking))
    assert all(finding.code == "UNKNOWN_ROWTYPE" for finding in report.findings)  # only the Antenna rowTypes (full)


@pytest.mark.parametrize("defect", DEFECTS, ids=lambda defect: defect.name)
def test_each_defect_is_flagged(defect, good):
    profile, archive = good
    try:
        bad = defect.make(archive, SAMPLE_TABLES)
    except NotApplicable as reason:
        pytest.skip(f"{profile}: {reason}")
    report = validate_archive(bad, profile=defect.profile, tables=SAMPLE_TABLES)
    flagged = [finding for finding in report.findings if (finding.item, finding.code) == (defect.item, defect.code)]
    assert flagged, f"{defect.name} not flagged as #{defect.item} {defect.code}; got:\n" + "\n".join(
        map(str, report.findings)
    )
    assert not report.ok
    assert all(finding.message and (finding.file or finding.item == 1) for finding in report.findings)


@pytest.mark.parametrize("profile", PROFILES)
def test_python_dwca_reader_reads_every_row(profile):
    """python-dwca-reader, the common Python reader, opens the archive and joins every extension row."""
    tables = sample_tables(profile)
    with tempfile.NamedTemporaryFile(suffix=".zip") as handle:
        handle.write(sample_archive(profile))
        handle.flush()
        with DwCAReader(handle.name) as dwca:
            core_rows = list(dwca)
            extension_rows = [extension for row in core_rows for extension in row.extensions]
    core = next(table for table in tables if table.core)
    assert [row.id for row in core_rows] == [values[0] for values in SAMPLE_ROWS[core.file]]
    expected = {table.row_type: SAMPLE_ROWS[table.file] for table in tables if not table.core}
    for row_type, rows in expected.items():
        table = next(table for table in tables if table.row_type == row_type)
        read = [
            [extension.data[column.term] if column.mapped else extension.core_id for column in table.columns]
            for extension in extension_rows
            if extension.rowtype == row_type
        ]
        if profile == FULL:
            assert sorted(read) == sorted(rows)  # lossless, quotes, tabs and newlines included
        else:
            assert len(read) == len(rows)
