"""The PostgreSQL half of CI (.ci/run) passes --only-database-tests (tests/conftest.py): a test that
cannot reach the database ran in the SQLite half already, one that can runs again."""

from __future__ import annotations

from pathlib import Path

pytest_plugins = ["pytester"]

SAMPLE = """
import pytest

def test_without_the_database():
    pass

def test_with_db(db):
    pass

@pytest.mark.django_db
def test_marked():
    pass
"""


def _run(pytester, *options):
    pytester.makeconftest((Path(__file__).parents[1] / "conftest.py").read_text())
    pytester.makepyfile(test_sample=SAMPLE)
    return pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--ds", "config.settings", "--nomigrations", "-q", *options
    )


def test_only_database_tests_deselects_the_tests_that_cannot_reach_it(pytester):
    _run(pytester, "--only-database-tests").assert_outcomes(passed=2, deselected=1)


def test_without_the_option_every_test_runs(pytester):
    _run(pytester).assert_outcomes(passed=3)
