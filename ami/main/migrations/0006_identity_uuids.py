"""Every main model gets its UUID (docs/identity.md). Non-atomic: on PostgreSQL the backfill
commits batch by batch and the unique indexes are built concurrently; an interrupted run can
simply be started again."""
from django.db import migrations

from ami.base.migration_operations import AddUUIDField


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("main", "0005_organization"),
    ]

    operations = [
        AddUUIDField("project"),
        AddUUIDField("userprojectmembership"),
        AddUUIDField("device"),
        AddUUIDField("site"),
        AddUUIDField("s3storagesource"),
        AddUUIDField("deployment"),
        AddUUIDField("taxon"),
        AddUUIDField("taxalist"),
        AddUUIDField("tag"),
        AddUUIDField("sourceimagecollection"),
        AddUUIDField("event"),
        AddUUIDField("occurrence"),
        AddUUIDField("identification"),
        AddUUIDField("classification"),
        AddUUIDField("detection"),
        AddUUIDField("sourceimage"),
    ]
