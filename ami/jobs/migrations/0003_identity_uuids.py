"""Jobs and their log lines get their UUIDs (docs/identity.md). Non-atomic: see ami.base.migration_operations."""
from django.db import migrations

from ami.base.migration_operations import AddUUIDField


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("jobs", "0002_initial"),
    ]

    operations = [
        AddUUIDField("job"),
        AddUUIDField("joblog"),
    ]
