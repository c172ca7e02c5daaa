"""The columnar fast path reports exactly what the precise reader reports: on the good archives (which
it proves clean), on every defect of the hostile corpus and on real exports."""

import pytest

from dwca_port.tables.base import FULL, GBIF_PROFILE
from dwca_port.validate import validate_archive
from tests.archive_corpus import DEFECTS, SAMPLE_TABLES, NotApplicable, sample_archive

PROFILES = (FULL, GBIF_PROFILE)


def both(archive, **options):
    precise = validate_archive(archive, columnar=False, **options)
    columnar = validate_archive(archive, columnar=True, **options)
    assert not precise.columnar
    return precise, columnar


@pytest.mark.parametrize("profile", PROFILES)
def test_the_good_archive_is_proven_clean_with_the_same_findings(profile):
    precise, columnar = both(sample_archive(profile), tables=SAMPLE_TABLES)
    assert columnar.columnar, "the fast path could not prove the good archive clean"
    assert columnar.findings == precise.findings


@pytest.fixture(scope="module", params=PROFILES)
def good(request):
    return request.param, sample_archive(request.param)


@pytest.mark.parametrize("defect", DEFECTS, ids=lambda defect: defect.name)
def test_each_defect_gets_the_same_findings(defect, good):
    profile, archive = good
    try:
        bad = defect.make(archive, SAMPLE_TABLES)
    except NotApplicable as reason:
        pytest.skip(f"{profile}: {reason}")
    precise, columnar = both(bad, profile=defect.profile, tables=SAMPLE_TABLES)
    assert [str(finding) for finding in columnar.findings] == [str(finding) for finding in precise.findings]
    assert columnar.findings == precise.findings


def test_the_threshold_setting_chooses_the_path(settings):
    archive = sample_archive(FULL)
    settings.DWCA_COLUMNAR_ABOVE_BYTES = 10**12
    assert not validate_archive(archive, tables=SAMPLE_TABLES).columnar
    settings.DWCA_COLUMNAR_ABOVE_BYTES = 0
    assert validate_archive(archive, tables=SAMPLE_TABLES).columnar
