"""Shared test fixtures. Tests run on SQLite by default and on PostgreSQL when DATABASE_URL points there."""

import pytest
from django.db import connection


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def user(db, django_user_model):
    return django_user_model.objects.create_user(email="owner@example.org", password="x", name="Owner")


# pytest-django refuses the database to a test that asks for none of these: such a test cannot tell
# SQLite from PostgreSQL, so the PostgreSQL half of CI (.ci/run) leaves it to the SQLite half.
DATABASE_FIXTURES = frozenset({"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback"})


def pytest_addoption(parser):
    parser.addoption(
        "--only-database-tests",
        action="store_true",
        help="deselect the tests that cannot reach the database (they ran on the other database already)",
    )


def reaches_database(item) -> bool:
    fixtures = set(getattr(item, "fixturenames", ()))
    return bool(DATABASE_FIXTURES & fixtures) or item.get_closest_marker("django_db") is not None


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--only-database-tests"):
        return
    database_free = [item for item in items if not reaches_database(item)]
    if database_free:
        config.hook.pytest_deselected(items=database_free)
        items[:] = [item for item in items if reaches_database(item)]
