"""Names unique within their scope: deployments, devices and sites within a project; projects
within an organization (projects without one stay unconstrained). Existing duplicates are
renamed first ("Trap", "Trap (2)", ... by primary key) and every rename is printed, so this
never fails on real data. The tables are small: plain constraints, one transaction."""
from django.db import migrations, models

from ami.base.migration_operations import RenameDuplicateNames


class Migration(migrations.Migration):

    dependencies = [
        ("main", "0006_identity_uuids"),
    ]

    operations = [
        RenameDuplicateNames("deployment", scope="project"),
        RenameDuplicateNames("device", scope="project"),
        RenameDuplicateNames("site", scope="project"),
        RenameDuplicateNames("project", scope="organization"),
        migrations.AddConstraint(
            model_name="deployment",
            constraint=models.UniqueConstraint(fields=("project", "name"), name="unique_deployment_name_per_project"),
        ),
        migrations.AddConstraint(
            model_name="device",
            constraint=models.UniqueConstraint(fields=("project", "name"), name="unique_device_name_per_project"),
        ),
        migrations.AddConstraint(
            model_name="site",
            constraint=models.UniqueConstraint(fields=("project", "name"), name="unique_site_name_per_project"),
        ),
        migrations.AddConstraint(
            model_name="project",
            constraint=models.UniqueConstraint(
                fields=("organization", "name"), name="unique_project_name_per_organization"
            ),
        ),
    ]
