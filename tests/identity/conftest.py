"""Fixtures for the identity tests: moving the test database between migration states."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from ami.base.unique_violations import DuplicateRowsError

# The last migration of each app before the identity UUIDs.
BEFORE_UUIDS = [
    ("users", "0001_initial"),
    ("main", "0005_organization"),
    ("ml", "0001_initial"),
    ("jobs", "0002_initial"),
    ("exports", "0003_initial"),
]
BEFORE_NAME_CONSTRAINTS = [("main", "0006_identity_uuids")]
BEFORE_DEDUP_CONSTRAINTS = [("main", "0007_unique_names")]


class Migrator:
    def __init__(self):
        self.executor = MigrationExecutor(connection)

    def migrate(self, targets):
        """Migrate to `targets` and return the historical apps of that state."""
        self.executor.loader.build_graph()
        self.executor.migrate(targets)
        self.executor.loader.build_graph()
        applied = [node for node in self.executor.loader.applied_migrations if node in self.executor.loader.graph.nodes]
        return self.executor.loader.project_state(applied).apps

    def migrate_to_latest(self):
        self.executor.loader.build_graph()
        self.executor.migrate(self.executor.loader.graph.leaf_nodes())


@pytest.fixture
def migrator(transactional_db):
    migrator = Migrator()
    yield migrator
    # Leave the schema as every other test expects it (rows a test left behind may stop the
    # de-duplication migration: they go first).
    try:
        migrator.migrate_to_latest()
    except DuplicateRowsError:
        call_command("flush", interactive=False, verbosity=0)
        migrator.migrate_to_latest()
