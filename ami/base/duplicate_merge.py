"""Merge duplicate detections and classifications (the rows the de-duplication constraints of
migration main.0008 refuse), keeping the lowest primary key of each group.

Detections: a duplicate's classifications move to the kept detection; fields empty on the kept
row are filled from the duplicates (first non-empty, by id). Classifications (looked for after
the detections are merged, since moving classifications can create new duplicates): human
identifications that agreed with a duplicate, and classifications derived from one, point at
the kept row. Duplicates are then deleted, and the cached values that depend on them are
recomputed: occurrence determinations, capture detection counts, event and deployment counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.db import transaction

from ami.base.unique_violations import declared_unique_constraints, find_violations

DETECTION_FILLABLE = (
    "occurrence_id",
    "path",
    "timestamp",
    "frame_num",
    "detection_algorithm_id",
    "detection_time",
    "detection_score",
    "similarity_vector",
)
CLASSIFICATION_FILLABLE = ("scores", "logits", "category_map_id", "applied_to_id")


@dataclass
class MergedGroup:
    constraint: str
    kept: int
    removed: list[int]


@dataclass
class MergeReport:
    detection_groups: list[MergedGroup] = field(default_factory=list)
    classification_groups: list[MergedGroup] = field(default_factory=list)
    classifications_moved: int = 0
    identifications_repointed: int = 0
    derived_repointed: int = 0
    # (kept detection, its occurrence, removed detection, the removed one's other occurrence)
    occurrence_conflicts: list[tuple[int, int, int, int]] = field(default_factory=list)
    occurrences_without_detections: list[int] = field(default_factory=list)
    occurrences_recomputed: int = 0
    captures_recomputed: int = 0

    @property
    def detections_removed(self) -> int:
        return sum(len(g.removed) for g in self.detection_groups)

    @property
    def classifications_removed(self) -> int:
        return sum(len(g.removed) for g in self.classification_groups)


def merge_duplicate_detections(using: str = "default", dry_run: bool = False) -> MergeReport:
    """Merge every duplicate group in one transaction (rolled back when dry_run)."""
    Detection = apps.get_model("main", "Detection")
    Classification = apps.get_model("main", "Classification")
    report = MergeReport()
    occurrences: set[int] = set()
    captures: set[int] = set()
    with transaction.atomic(using=using):
        for constraint in declared_unique_constraints(Detection):
            for group in find_violations(Detection, constraint, using):
                _merge_detections(group.ids[0], group.ids[1:], using, report, occurrences, captures)
                report.detection_groups.append(MergedGroup(constraint.name, group.ids[0], group.ids[1:]))
        for constraint in declared_unique_constraints(Classification):
            for group in find_violations(Classification, constraint, using):
                _merge_classifications(group.ids[0], group.ids[1:], using, report)
                report.classification_groups.append(MergedGroup(constraint.name, group.ids[0], group.ids[1:]))
        _refresh_caches(using, report, occurrences, captures)
        if dry_run:
            transaction.set_rollback(True, using=using)
    return report


def _merge_detections(keep: int, remove: list[int], using, report, occurrences: set, captures: set) -> None:
    Detection = apps.get_model("main", "Detection")
    Classification = apps.get_model("main", "Classification")
    detections = Detection._base_manager.db_manager(using)
    kept = detections.get(pk=keep)
    removed = list(detections.filter(pk__in=remove).order_by("pk"))
    changes = _fill_empty(kept, removed, DETECTION_FILLABLE)
    for duplicate in removed:
        occurrences.add(duplicate.occurrence_id)
        if duplicate.occurrence_id and duplicate.occurrence_id != kept.occurrence_id:
            report.occurrence_conflicts.append((keep, kept.occurrence_id, duplicate.pk, duplicate.occurrence_id))
    occurrences.add(kept.occurrence_id)
    captures.add(kept.source_image_id)
    if changes:
        detections.filter(pk=keep).update(**changes)
    report.classifications_moved += (
        Classification._base_manager.db_manager(using).filter(detection_id__in=remove).update(detection_id=keep)
    )
    detections.filter(pk__in=remove).delete()


def _merge_classifications(keep: int, remove: list[int], using, report) -> None:
    Classification = apps.get_model("main", "Classification")
    Identification = apps.get_model("main", "Identification")
    classifications = Classification._base_manager.db_manager(using)
    kept = classifications.get(pk=keep)
    removed = list(classifications.filter(pk__in=remove).order_by("pk"))
    changes = _fill_empty(kept, removed, CLASSIFICATION_FILLABLE)
    if kept.applied_to_id in remove:
        changes["applied_to_id"] = None  # derived from its own duplicate: no longer meaningful
    if changes:
        classifications.filter(pk=keep).update(**changes)
    report.identifications_repointed += (
        Identification._base_manager.db_manager(using)
        .filter(agreed_with_prediction_id__in=remove)
        .update(agreed_with_prediction_id=keep)
    )
    report.derived_repointed += (
        classifications.filter(applied_to_id__in=remove).exclude(pk=keep).update(applied_to_id=keep)
    )
    classifications.filter(pk__in=remove).delete()


def _fill_empty(kept, removed, attnames) -> dict:
    changes = {}
    for attname in attnames:
        if getattr(kept, attname) is None:
            value = next((getattr(d, attname) for d in removed if getattr(d, attname) is not None), None)
            if value is not None:
                setattr(kept, attname, value)
                changes[attname] = value
    return changes


def _refresh_caches(using, report: MergeReport, occurrence_ids: set, capture_ids: set) -> None:
    Occurrence = apps.get_model("main", "Occurrence")
    SourceImage = apps.get_model("main", "SourceImage")
    Event = apps.get_model("main", "Event")
    Deployment = apps.get_model("main", "Deployment")
    Project = apps.get_model("main", "Project")
    from ami.main.models import update_detection_counts

    occurrence_ids.discard(None)
    for occurrence in Occurrence.objects.using(using).filter(pk__in=occurrence_ids):
        occurrence.update_determination(save=True)
        report.occurrences_recomputed += 1
    report.occurrences_without_detections = sorted(
        Occurrence.objects.using(using)
        .filter(pk__in=occurrence_ids, detections__isnull=True)
        .values_list("pk", flat=True)
    )
    captures = SourceImage.objects.using(using).filter(pk__in=capture_ids)
    for project_id in set(captures.values_list("project_id", flat=True)):
        project = Project.objects.using(using).filter(pk=project_id).first() if project_id else None
        report.captures_recomputed += update_detection_counts(captures.filter(project_id=project_id), project=project)
    Event.objects.using(using).update_calculated_fields_for_events(
        Event.objects.using(using).filter(captures__in=capture_ids).distinct()
    )
    for deployment in Deployment.objects.using(using).filter(captures__in=capture_ids).distinct():
        deployment.update_calculated_fields(save=True)
