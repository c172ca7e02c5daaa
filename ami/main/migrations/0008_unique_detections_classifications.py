"""De-duplication rules for detections and classifications as unique indexes (docs/identity.md).

Existing duplicates are not merged here: the migration stops before building anything and names
them, and `manage.py merge_duplicate_detections` merges them (re-pointing classifications and
identifications). Non-atomic: on PostgreSQL the indexes are built concurrently."""
import django.db.models.functions.comparison
from django.db import migrations, models

import ami.base.expressions
from ami.base.migration_operations import AddUniqueConstraintConcurrently

HINT = (
    "List them with `python manage.py check_unique_violations`, merge them with "
    "`python manage.py merge_duplicate_detections` (try --dry-run first), then run migrate again."
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("main", "0007_unique_names"),
    ]

    operations = [
        AddUniqueConstraintConcurrently(
            model_name="detection",
            constraint=models.UniqueConstraint(
                models.F("source_image"),
                ami.base.expressions.CanonicalJSON("bbox"),
                condition=models.Q(("bbox__isnull", False)),
                name="unique_detection_bbox",
                violation_error_message="This capture already has a detection with this bounding box.",
            ),
            duplicates_hint=HINT,
        ),
        AddUniqueConstraintConcurrently(
            model_name="detection",
            constraint=models.UniqueConstraint(
                models.F("source_image"),
                django.db.models.functions.comparison.Coalesce(
                    models.F("detection_algorithm"), 0, output_field=models.BigIntegerField()
                ),
                condition=models.Q(("bbox__isnull", True)),
                name="unique_detection_null_marker",
                violation_error_message="This capture already has a null marker (nothing detected) for this algorithm.",
            ),
            duplicates_hint=HINT,
        ),
        AddUniqueConstraintConcurrently(
            model_name="classification",
            constraint=models.UniqueConstraint(
                fields=("detection", "algorithm", "taxon", "score"), name="unique_classification_result"
            ),
            duplicates_hint=HINT,
        ),
    ]
