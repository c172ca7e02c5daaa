"""The UUID migrations on a database that already holds data (and after an interruption)."""

import uuid

import pytest
from django.apps import apps as live_apps
from django.core.management import call_command
from django.db import DatabaseError, connection

from tests.identity.conftest import BEFORE_UUIDS
from tests.identity.graph import UUID_MODELS, build_graph


def assert_unique_non_null_uuids(label):
    model = live_apps.get_model(label)
    values = list(model._base_manager.values_list("uuid", flat=True))
    assert values, f"{label}: no rows to check"
    assert None not in values, f"{label}: a row has no UUID"
    assert len(set(values)) == len(values), f"{label}: UUIDs are not distinct"
    with connection.cursor() as cursor:
        column = next(
            c for c in connection.introspection.get_table_description(cursor, model._meta.db_table) if c.name == "uuid"
        )
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    assert not column.null_ok, f"{label}: uuid column is nullable"
    assert any(c["unique"] and c["columns"] == ["uuid"] for c in constraints.values()), f"{label}: uuid not unique"


@pytest.mark.django_db(transaction=True)
def test_every_existing_row_gets_a_distinct_uuid(migrator, settings):
    settings.UUID_BACKFILL_BATCH_SIZE = 2  # several batches per table
    old_apps = migrator.migrate(BEFORE_UUIDS)
    build_graph(old_apps, "a")
    build_graph(old_apps, "b", captures=7)
    SourceImage = old_apps.get_model("main", "SourceImage")
    SourceImage.objects.filter(
        pk__in=list(SourceImage.objects.order_by("pk").values_list("pk", flat=True))[2:5]
    ).delete()  # gaps in the ids

    migrator.migrate_to_latest()

    for label in UUID_MODELS:
        assert_unique_non_null_uuids(label)


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_migration_resumes(migrator, settings):
    """A first run stopped after adding the column and filling part of it (and, on PostgreSQL,
    after a failed concurrent index build): the second run keeps what was written."""
    settings.UUID_BACKFILL_BATCH_SIZE = 3
    old_apps = migrator.migrate(BEFORE_UUIDS)
    build_graph(old_apps, "a", captures=8)
    first, second = old_apps.get_model("main", "SourceImage").objects.order_by("pk").values_list("pk", flat=True)[:2]
    kept = uuid.uuid4()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE main_sourceimage ADD COLUMN uuid uuid NULL")
            cursor.execute("UPDATE main_sourceimage SET uuid = %s WHERE id IN (%s, %s)", [kept, first, second])
            with pytest.raises(DatabaseError):  # duplicate values: leaves an INVALID index behind
                cursor.execute("CREATE UNIQUE INDEX CONCURRENTLY main_sourceimage_uuid_key ON main_sourceimage (uuid)")
            cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = 'main_sourceimage_uuid_key'::regclass")
            assert cursor.fetchone()[0] is False
            cursor.execute("UPDATE main_sourceimage SET uuid = NULL WHERE id = %s", [second])
        else:
            cursor.execute("ALTER TABLE main_sourceimage ADD COLUMN uuid char(32) NULL")
            cursor.execute("UPDATE main_sourceimage SET uuid = %s WHERE id = %s", [kept.hex, first])

    migrator.migrate_to_latest()

    SourceImage = live_apps.get_model("main", "SourceImage")
    assert SourceImage.objects.get(pk=first).uuid == kept
    assert_unique_non_null_uuids("main.SourceImage")


@pytest.mark.django_db(transaction=True)
def test_backwards_and_forwards_again(migrator):
    migrator.migrate(BEFORE_UUIDS)
    with connection.cursor() as cursor:
        columns = [c.name for c in connection.introspection.get_table_description(cursor, "main_detection")]
    assert "uuid" not in columns
    migrator.migrate_to_latest()
    build_graph(live_apps, "c")
    assert_unique_non_null_uuids("main.Detection")


@pytest.mark.django_db
def test_model_state_matches_the_models():
    """The custom operations leave Django's state exactly as the models declare it."""
    call_command("makemigrations", "users", "main", "ml", "jobs", "exports", "--check", "--dry-run", verbosity=0)
