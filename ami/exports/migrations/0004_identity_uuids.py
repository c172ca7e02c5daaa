"""Data exports get their UUIDs (docs/identity.md). Non-atomic: see ami.base.migration_operations."""
from django.db import migrations

from ami.base.migration_operations import AddUUIDField


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("exports", "0003_initial"),
    ]

    operations = [
        AddUUIDField("dataexport"),
    ]
