"""users.User gets its UUID (docs/identity.md). Non-atomic: on PostgreSQL the backfill commits
batch by batch and the unique index is built concurrently."""
from django.db import migrations

from ami.base.migration_operations import AddUUIDField


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("users", "0001_initial"),
    ]

    operations = [
        AddUUIDField("user"),
    ]
