"""Merge duplicate detections and classifications, keeping the lowest id of each group
(ami.base.duplicate_merge has the rules). Needed before migration main.0008 can add the
de-duplication constraints to a database that holds duplicates."""

from django.core.management.base import BaseCommand

from ami.base.duplicate_merge import merge_duplicate_detections


class Command(BaseCommand):
    help = "Merge duplicate detections and classifications (re-pointing their references), keeping the lowest id."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="report what would be merged, change nothing")
        parser.add_argument("--database", default="default", help="database alias (default: default)")

    def handle(self, *args, **options):
        report = merge_duplicate_detections(using=options["database"], dry_run=options["dry_run"])
        write = self.stdout.write
        write(
            f"Detections: {len(report.detection_groups)} duplicate group(s), {report.detections_removed} row(s) "
            "merged away."
        )
        for group in report.detection_groups:
            write(f"  {group.constraint}: kept {group.kept}, merged {', '.join(map(str, group.removed))}")
        write(
            f"Classifications: {report.classifications_moved} moved to kept detections; "
            f"{len(report.classification_groups)} duplicate group(s), {report.classifications_removed} row(s) merged "
            "away."
        )
        for group in report.classification_groups:
            write(f"  {group.constraint}: kept {group.kept}, merged {', '.join(map(str, group.removed))}")
        write(
            f"Re-pointed {report.identifications_repointed} identification(s) and "
            f"{report.derived_repointed} derived classification(s) to kept rows."
        )
        for kept, kept_occurrence, removed, other in report.occurrence_conflicts:
            write(
                f"  Note: detection {removed} (occurrence {other}) merged into detection {kept} "
                f"(occurrence {kept_occurrence}); its classifications now count for occurrence {kept_occurrence}."
            )
        if report.occurrences_without_detections:
            write(
                "  Occurrences left without detections (not deleted): "
                + ", ".join(map(str, report.occurrences_without_detections))
            )
        write(
            f"Recomputed {report.occurrences_recomputed} occurrence determination(s) and "
            f"{report.captures_recomputed} capture detection count(s)."
        )
        if options["dry_run"]:
            write(self.style.WARNING("Dry run: nothing was changed."))
        elif report.detection_groups or report.classification_groups:
            write(self.style.SUCCESS("Merged. `manage.py migrate` can now add the de-duplication constraints."))
        else:
            write(self.style.SUCCESS("No duplicates."))
