"""Every ml model gets its UUID (docs/identity.md). Non-atomic: see ami.base.migration_operations."""
from django.db import migrations

from ami.base.migration_operations import AddUUIDField


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("ml", "0001_initial"),
    ]

    operations = [
        AddUUIDField("algorithmcategorymap"),
        AddUUIDField("algorithm"),
        AddUUIDField("pipeline"),
        AddUUIDField("processingservice"),
        AddUUIDField("projectpipelineconfig"),
    ]
