"""The Antenna core data model (app label `main`), faithful to upstream's field names, types,
nullability, defaults, choices, relations and Meta.

Deliberate differences, each documented in docs/upstream-model.md:
- PostgreSQL ArrayFields and pydantic SchemaFields are JSONFields, so the model also runs on SQLite.
- `save()` has no hidden side effects. Recomputing cached values, regrouping sessions and
  creating role groups are explicit calls (`update_calculated_fields`, `group_images_into_events`,
  `create_roles_for_project`, ...), so that clone and import decide what runs and when.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, F, Max, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from ami.base.bulk import update_rows
from ami.base.expressions import CanonicalJSON
from ami.base.managers import NaturalKeyManager, NaturalKeyManagerMixin
from ami.base.models import BaseModel


def default_feature_flags() -> dict:
    return {
        "tags": False,
        "reprocess_existing_detections": False,
        "default_filters": False,
        "reprocess_all_images": False,
        "async_pipeline_workers": True,
    }


# ---------------------------------------------------------------------------------------------
# Projects, membership, configuration


class Organization(BaseModel):
    """The institution that runs projects (not in upstream yet: the portability plan's owner of
    project names; a project's name is unique within its organization)."""

    name = models.CharField(max_length=255)
    slug = models.SlugField(max_length=255, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]


class ProjectManager(NaturalKeyManagerMixin, models.Manager):
    def create(self, create_defaults: bool = True, create_roles: bool = True, **kwargs) -> Project:
        """Create a project as upstream does: its role groups, the owner as project manager, and
        (unless create_defaults=False) a default device, site, station and capture set."""
        from ami.users.roles import ProjectManager as ProjectManagerRole
        from ami.users.roles import assign_role, create_roles_for_project

        with transaction.atomic(using=self.db):
            project = super().create(**kwargs)
            if create_roles:
                create_roles_for_project(project)
                if project.owner_id:
                    assign_role(project, project.owner, ProjectManagerRole)
            if create_defaults:
                project.create_related_defaults()
        return project


class Project(BaseModel):
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True)
    image = models.ImageField(upload_to="projects", blank=True, null=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="projects")
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="UserProjectMembership", related_name="user_projects", blank=True
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="projects"
    )
    draft = models.BooleanField(default=False, help_text="Private projects are visible to members only")
    feature_flags = models.JSONField(default=default_feature_flags, blank=True)
    active = models.BooleanField(default=True)
    priority = models.IntegerField(default=1)
    # As upstream's feat/dwca-export branch: the dataset licence (SPDX id or URL) and its holder.
    license = models.CharField(max_length=255, blank=True, default="")
    rights_holder = models.CharField(max_length=255, blank=True, default="")

    # ProjectSettingsMixin
    default_processing_pipeline = models.ForeignKey(
        "ml.Pipeline", on_delete=models.SET_NULL, null=True, blank=True, related_name="default_projects"
    )
    session_time_gap_seconds = models.IntegerField(default=60 * 60 * 2)
    default_filters_score_threshold = models.FloatField(default=0.5)
    default_filters_include_taxa = models.ManyToManyField(
        "main.Taxon", blank=True, related_name="include_taxa_default_projects"
    )
    default_filters_exclude_taxa = models.ManyToManyField(
        "main.Taxon", blank=True, related_name="exclude_taxa_default_projects"
    )

    objects = ProjectManager()

    SETTINGS_FIELD_NAMES = (
        "default_processing_pipeline",
        "session_time_gap_seconds",
        "default_filters_score_threshold",
        "default_filters_include_taxa",
        "default_filters_exclude_taxa",
    )

    class Meta:
        ordering = ["-priority", "created_at"]
        # Projects without an organization are not constrained (NULLs are distinct): they are
        # personal projects of different owners, and upstream gives every user a "Scratch Project".
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="unique_project_name_per_organization")
        ]
        permissions = [
            (codename, codename.replace("_", " ").capitalize())
            for codename in sorted(
                {
                    "view_private_data",
                    "star_sourceimage",
                    "create_job",
                    "update_job",
                    "delete_job",
                    "run_single_image_ml_job",
                    "run_ml_job",
                    "run_populate_captures_collection_job",
                    "run_data_storage_sync_job",
                    "run_regroup_events_job",
                    "run_data_export_job",
                    "run_post_processing_job",
                    "sync_deployment",
                    "delete_occurrences",
                    "update_project",
                    "import_data",
                    "create_project",
                    "create_dataexport",
                    "update_dataexport",
                    "delete_dataexport",
                    "create_identification",
                    "update_identification",
                    "delete_identification",
                    "populate_sourceimagecollection",
                    "view_userprojectmembership",
                    "test_s3storagesource",
                    "regroup_sessions_deployment",
                }
                | {
                    f"{action}_{model}"
                    for action in ("create", "update", "delete")
                    for model in (
                        "projectpipelineconfig",
                        "sourceimagecollection",
                        "s3storagesource",
                        "deployment",
                        "site",
                        "device",
                        "sourceimage",
                        "sourceimageupload",
                        "userprojectmembership",
                        "taxalist",
                    )
                }
            )
        ]

    def create_related_defaults(self) -> None:
        """Upstream's defaults for a new project: device, site, a station using both, and a capture set."""
        device = Device.objects.create(name="Default Device", project=self)
        site = Site.objects.create(name="Default Site", project=self)
        if not self.deployments.exists():
            Deployment.objects.create(
                name="Default Station", project=self, latitude=0, longitude=0, research_site=site, device=device
            )
        if not self.sourceimage_collections.exists():
            SourceImageCollection.objects.create(name="All Images", project=self, method="full")

    # -- default filters -------------------------------------------------------------------------

    def default_filter_q(self, occurrence_path: str = "") -> Q:
        """The project's default occurrence filter, as a Q relative to `occurrence_path`
        ("" for Occurrence itself, "occurrence__" for Detection, ...): score at or above the
        threshold, within the include taxa (or their descendants) and outside the exclude taxa."""
        q = Q(**{f"{occurrence_path}determination_score__gte": self.default_filters_score_threshold})
        include, exclude = self.default_filter_taxa()
        if include:
            q &= Q(**{f"{occurrence_path}determination_id__in": include})
        if exclude:
            q &= ~Q(**{f"{occurrence_path}determination_id__in": exclude})
        return q

    def default_filter_taxa(self) -> tuple[set[int], set[int]]:
        """Ids of the include and exclude taxa with their descendants, computed once per instance
        (a recomputation touches every event; the taxa walk is the same for all of them)."""
        if not hasattr(self, "_default_filter_taxa"):
            include = list(self.default_filters_include_taxa.values_list("pk", flat=True))
            exclude = list(self.default_filters_exclude_taxa.values_list("pk", flat=True))
            self._default_filter_taxa = (
                Taxon.objects.with_descendants(include) if include else set(),
                Taxon.objects.with_descendants(exclude) if exclude else set(),
            )
        return self._default_filter_taxa

    # -- calculated data ---------------------------------------------------------------------------

    def deployments_count(self) -> int:
        return self.deployments.count()

    def taxa_count(self) -> int:
        return self.occurrences.filter(self.default_filter_q()).values("determination_id").distinct().count()

    def update_related_calculated_fields(self) -> None:
        """Recompute every cached count of the project: events, deployments, capture detection counts."""
        Event.objects.update_calculated_fields_for_events(Event.objects.filter(project=self))
        for deployment in self.deployments.all():
            deployment.project = self  # share the filter taxa computed once
            deployment.update_calculated_fields(save=True)
        update_detection_counts(SourceImage.objects.filter(project=self), project=self)


class UserProjectMembership(BaseModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_memberships")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="project_memberships")

    class Meta:
        unique_together = ("user", "project")


class Device(BaseModel):
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True)
    project = models.ForeignKey(Project, on_delete=models.SET_NULL, null=True, related_name="devices")

    class Meta:
        verbose_name = "Device Configuration"
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="unique_device_name_per_project")]


class Site(BaseModel):
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True)
    project = models.ForeignKey(Project, on_delete=models.SET_NULL, null=True, related_name="sites")

    class Meta:
        verbose_name = "Research Site"
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="unique_site_name_per_project")]

    def deployments_count(self) -> int:
        return self.deployments.count()

    def boundary_rect(self) -> tuple[float, float, float, float] | None:
        """(min latitude, min longitude, max latitude, max longitude) of the site's deployments."""
        box = self.deployments.aggregate(Min("latitude"), Min("longitude"), Max("latitude"), Max("longitude"))
        values = (box["latitude__min"], box["longitude__min"], box["latitude__max"], box["longitude__max"])
        return None if None in values else values


class S3StorageSource(BaseModel):
    name = models.CharField(max_length=255)
    bucket = models.CharField(max_length=255)
    region = models.CharField(max_length=255, null=True, blank=True)
    prefix = models.CharField(max_length=255, blank=True)
    access_key = models.TextField()  # secret: never exported
    secret_key = models.TextField()  # secret: never exported
    endpoint_url = models.CharField(max_length=255, null=True, blank=True)
    public_base_url = models.CharField(max_length=255, null=True, blank=True)
    total_size = models.BigIntegerField(null=True, blank=True)
    total_files = models.BigIntegerField(null=True, blank=True)
    last_checked = models.DateTimeField(null=True, blank=True)
    project = models.ForeignKey(Project, on_delete=models.SET_NULL, null=True, related_name="storage_sources")

    SECRET_FIELDS = ("access_key", "secret_key")

    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")


class Deployment(BaseModel):
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    image = models.ImageField(upload_to="deployments", blank=True, null=True)
    project = models.ForeignKey(Project, on_delete=models.SET_NULL, null=True, related_name="deployments")

    data_source = models.ForeignKey(
        S3StorageSource, on_delete=models.SET_NULL, null=True, blank=True, related_name="deployments"
    )
    data_source_total_files = models.IntegerField(null=True, blank=True)
    data_source_total_size = models.BigIntegerField(null=True, blank=True)
    data_source_subdir = models.CharField(max_length=255, null=True, blank=True)
    data_source_regex = models.CharField(max_length=255, null=True, blank=True)
    data_source_last_checked = models.DateTimeField(null=True, blank=True)

    events_count = models.IntegerField(null=True, blank=True)
    occurrences_count = models.IntegerField(null=True, blank=True)
    captures_count = models.IntegerField(null=True, blank=True)
    detections_count = models.IntegerField(null=True, blank=True)
    taxa_count = models.IntegerField(null=True, blank=True)
    first_capture_timestamp = models.DateTimeField(null=True, blank=True)
    last_capture_timestamp = models.DateTimeField(null=True, blank=True)

    research_site = models.ForeignKey(
        Site, on_delete=models.SET_NULL, null=True, blank=True, related_name="deployments"
    )
    device = models.ForeignKey(Device, on_delete=models.SET_NULL, null=True, blank=True, related_name="deployments")

    CALCULATED_FIELDS = (
        "data_source_total_files",
        "data_source_total_size",
        "events_count",
        "occurrences_count",
        "captures_count",
        "detections_count",
        "taxa_count",
        "first_capture_timestamp",
        "last_capture_timestamp",
    )

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="unique_deployment_name_per_project")]

    def update_calculated_fields(self, save: bool = True) -> None:
        captures = SourceImage.objects.filter(deployment=self)
        totals = captures.aggregate(files=Count("pk"), size=Sum("size"), first=Min("timestamp"), last=Max("timestamp"))
        self.data_source_total_files = totals["files"]
        self.data_source_total_size = totals["size"]
        self.events_count = Event.objects.filter(deployment=self).count()
        self.captures_count = self.data_source_total_files or captures.count()
        self.first_capture_timestamp = totals["first"]
        self.last_capture_timestamp = totals["last"]

        filter_q = self.project.default_filter_q if self.project_id else _no_filter
        self.detections_count = (
            Detection.objects.valid()
            .filter(source_image__deployment=self)
            .filter(filter_q("occurrence__"))
            .distinct()
            .count()
        )
        occurrences = Occurrence.objects.filter(deployment=self, event__isnull=False).filter(filter_q(""))
        self.occurrences_count = occurrences.distinct().count()
        self.taxa_count = occurrences.values("determination_id").distinct().count()
        if save:
            type(self).objects.filter(pk=self.pk).update(
                **{name: getattr(self, name) for name in self.CALCULATED_FIELDS}
            )

    def update_children(self) -> None:
        """Events, occurrences and captures carry a copy of the deployment's project; make it match."""
        for model in (Event, Occurrence, SourceImage):
            model.objects.filter(deployment=self).exclude(project_id=self.project_id).update(project_id=self.project_id)


def _no_filter(occurrence_path: str = "") -> Q:
    return Q()


class EventQuerySet(models.QuerySet):
    def update_calculated_fields_for_events(self, events: Iterable[Event] | models.QuerySet) -> int:
        """Recompute the cached columns of many events and write them with one bulk_update."""
        events = list(events)
        projects = Project.objects.in_bulk({event.project_id for event in events if event.project_id})
        for event in events:
            event.update_calculated_fields(save=False, project=projects.get(event.project_id))
        return self.bulk_update(events, Event.CALCULATED_FIELDS, batch_size=1000) or len(events)


class Event(BaseModel):
    group_by = models.CharField(max_length=255, db_index=True)
    start = models.DateTimeField(db_index=True)
    end = models.DateTimeField(null=True, blank=True)
    project = models.ForeignKey(Project, on_delete=models.SET_NULL, null=True, related_name="events")
    deployment = models.ForeignKey(Deployment, on_delete=models.SET_NULL, null=True, related_name="events")

    captures_count = models.IntegerField(null=True, blank=True)
    detections_count = models.IntegerField(null=True, blank=True)
    occurrences_count = models.IntegerField(null=True, blank=True)
    calculated_fields_updated_at = models.DateTimeField(null=True, blank=True)

    objects = NaturalKeyManager.from_queryset(EventQuerySet)()

    # Upstream's session identity (unique_event); a deployment is identified by its UUID.
    natural_key_fields = ("deployment__uuid", "group_by")

    CALCULATED_FIELDS = (
        "group_by",
        "project",
        "start",
        "end",
        "captures_count",
        "detections_count",
        "occurrences_count",
        "calculated_fields_updated_at",
    )

    class Meta:
        ordering = ["start"]
        constraints = [models.UniqueConstraint(fields=["deployment", "group_by"], name="unique_event")]

    def natural_key(self) -> tuple:
        return super().natural_key()

    natural_key.dependencies = ["main.deployment"]

    def update_calculated_fields(self, save: bool = True, project: Project | None = None) -> None:
        if not self.group_by and self.start:
            self.group_by = str(self.start.date())
        if not self.project_id and self.deployment_id:
            self.project_id = (
                Deployment.objects.filter(pk=self.deployment_id).values_list("project_id", flat=True).first()
            )
        if self.pk:
            captures = SourceImage.objects.filter(event=self)
            span = captures.aggregate(first=Min("timestamp"), last=Max("timestamp"), count=Count("pk", distinct=True))
            if span["first"]:
                self.start = span["first"]
                self.end = span["last"]
            self.captures_count = span["count"]
            if project is None and self.project_id:
                project = Project.objects.filter(pk=self.project_id).first()
            filter_q = project.default_filter_q if project else _no_filter
            self.detections_count = (
                Detection.objects.valid()
                .filter(source_image__event=self)
                .filter(filter_q("occurrence__"))
                .distinct()
                .count()
            )
            self.occurrences_count = Occurrence.objects.filter(event=self).filter(filter_q("")).distinct().count()
            self.calculated_fields_updated_at = datetime.datetime.now()
        if save:
            self.save()


class SourceImage(BaseModel):
    path = models.CharField(max_length=255, blank=True, default="")
    public_base_url = models.CharField(max_length=255, null=True, blank=True)
    timestamp = models.DateTimeField(null=True, blank=True, db_index=True)
    width = models.IntegerField(null=True, blank=True)
    height = models.IntegerField(null=True, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    last_modified = models.DateTimeField(null=True, blank=True)
    checksum = models.CharField(max_length=255, null=True, blank=True)
    checksum_algorithm = models.CharField(max_length=255, null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    test_image = models.BooleanField(default=False)
    detections_count = models.IntegerField(null=True, blank=True)
    project = models.ForeignKey(Project, on_delete=models.SET_NULL, null=True, related_name="captures")
    deployment = models.ForeignKey(Deployment, on_delete=models.SET_NULL, null=True, related_name="captures")
    event = models.ForeignKey(
        Event, on_delete=models.SET_NULL, null=True, blank=True, db_index=True, related_name="captures"
    )

    # Upstream's sync identity (unique_deployment_path).
    natural_key_fields = ("deployment__uuid", "path")

    class Meta:
        ordering = ("deployment", "event", "timestamp")
        constraints = [models.UniqueConstraint(fields=["deployment", "path"], name="unique_deployment_path")]
        indexes = [
            models.Index(fields=["deployment", "timestamp"]),
            models.Index(fields=["event", "timestamp"]),
            models.Index(fields=["timestamp"]),
            models.Index(F("project"), F("timestamp").desc(), name="main_source_proj_ts_desc_idx"),
        ]

    def natural_key(self) -> tuple:
        return super().natural_key()

    natural_key.dependencies = ["main.deployment"]

    def public_url(self) -> str | None:
        if not self.public_base_url:
            return None
        return f"{self.public_base_url.rstrip('/')}/{self.path.lstrip('/')}"

    def update_calculated_fields(self, save: bool = True) -> None:
        if self.timestamp is None:
            self.timestamp = timestamp_from_filename(self.path)
        deployment = Deployment.objects.select_related("data_source", "project").filter(pk=self.deployment_id).first()
        if deployment:
            if not self.public_base_url and deployment.data_source:
                self.public_base_url = deployment.data_source.public_base_url
            if not self.project_id:
                self.project_id = deployment.project_id
        if self.pk:
            project = Project.objects.filter(pk=self.project_id).first() if self.project_id else None
            filter_q = project.default_filter_q if project else _no_filter
            self.detections_count = (
                Detection.objects.valid().filter(source_image=self).filter(filter_q("occurrence__")).count()
            )
        if save:
            self.save()


def update_detection_counts(queryset: models.QuerySet, project: Project | None = None) -> int:
    """Set SourceImage.detections_count for many captures with one UPDATE (valid detections that
    pass the project's default filters; all valid detections without a project). Returns the
    number of captures whose count changed."""
    filter_q = project.default_filter_q("occurrence__") if project else Q()
    counts = (
        Detection.objects.valid()
        .filter(filter_q, source_image=OuterRef("pk"))
        .order_by()
        .values("source_image")
        .annotate(n=Count("pk"))
        .values("n")
    )
    count = Coalesce(Subquery(counts), 0)
    # Only the rows whose count changes: rewriting a million unchanged rows (and their indexes)
    # would dominate an import, whose archive normally carries the right counts.
    return queryset.alias(new_count=count).exclude(detections_count=F("new_count")).update(detections_count=count)


def timestamp_from_filename(path: str) -> datetime.datetime | None:
    """Capture times are in the file name (e.g. 20220621052300-301-snapshot.jpg), in local time."""
    import re

    name = path.rsplit("/", 1)[-1]
    match = re.search(r"(\d{4})(\d{2})(\d{2})[T_-]?(\d{2})(\d{2})(\d{2})", name)
    if not match:
        return None
    try:
        return datetime.datetime(*(int(part) for part in match.groups()))
    except ValueError:
        return None


class DetectionQuerySet(models.QuerySet):
    def valid(self):
        """Real detections: a null bbox is upstream's "null marker" (the detector found nothing)."""
        return self.exclude(bbox__isnull=True)

    def null_markers(self):
        return self.filter(bbox__isnull=True)


class Detection(BaseModel):
    source_image = models.ForeignKey(SourceImage, on_delete=models.CASCADE, related_name="detections")
    bbox = models.JSONField(null=True, blank=True)
    timestamp = models.DateTimeField(null=True, blank=True)
    path = models.CharField(max_length=255, null=True, blank=True)
    occurrence = models.ForeignKey(
        "Occurrence", on_delete=models.SET_NULL, null=True, blank=True, related_name="detections"
    )
    frame_num = models.IntegerField(null=True, blank=True)
    detection_algorithm = models.ForeignKey("ml.Algorithm", on_delete=models.SET_NULL, null=True, blank=True)
    detection_time = models.DateTimeField(null=True, blank=True)
    detection_score = models.FloatField(null=True, blank=True)
    similarity_vector = models.JSONField(null=True, blank=True)

    objects = NaturalKeyManager.from_queryset(DetectionQuerySet)()

    project_accessor = "source_image__project"

    class Meta:
        ordering = ["frame_num", "timestamp"]
        indexes = [models.Index(F("source_image"), F("created_at").desc(), name="det_srcimg_created_idx")]
        # Upstream's get_or_create_detection as database rules: one real detection per
        # (capture, box) whatever the algorithm; one null marker per (capture, algorithm).
        constraints = [
            models.UniqueConstraint(
                F("source_image"),
                CanonicalJSON("bbox"),
                condition=Q(bbox__isnull=False),
                name="unique_detection_bbox",
                violation_error_message="This capture already has a detection with this bounding box.",
            ),
            models.UniqueConstraint(
                F("source_image"),
                Coalesce(F("detection_algorithm"), 0, output_field=models.BigIntegerField()),
                condition=Q(bbox__isnull=True),
                name="unique_detection_null_marker",
                violation_error_message="This capture already has a null marker (nothing detected) for this algorithm.",
            ),
        ]


class Classification(BaseModel):
    detection = models.ForeignKey(Detection, on_delete=models.SET_NULL, null=True, related_name="classifications")
    taxon = models.ForeignKey("Taxon", on_delete=models.SET_NULL, null=True, related_name="classifications")
    score = models.FloatField(null=True)
    timestamp = models.DateTimeField()
    terminal = models.BooleanField(default=True)
    logits = models.JSONField(null=True)  # upstream: ArrayField(FloatField)
    scores = models.JSONField(null=True)  # upstream: ArrayField(FloatField)
    category_map = models.ForeignKey("ml.AlgorithmCategoryMap", on_delete=models.PROTECT, null=True)
    algorithm = models.ForeignKey("ml.Algorithm", on_delete=models.SET_NULL, null=True, related_name="classifications")
    applied_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="derived_classifications"
    )

    project_accessor = "detection__source_image__project"

    class Meta:
        ordering = ["-created_at", "-score"]
        # One stored result per (detection, algorithm, taxon, top score): re-running a classifier
        # that gives a different score adds a row, as upstream keeps; writing the same result
        # twice does not. scores/logits are left out (docs/identity.md).
        constraints = [
            models.UniqueConstraint(
                fields=["detection", "algorithm", "taxon", "score"], name="unique_classification_result"
            )
        ]


class OccurrenceQuerySet(models.QuerySet):
    def valid(self):
        """At least one real detection, and a determination."""
        return self.filter(determination__isnull=False, detections__bbox__isnull=False).distinct()


class OccurrenceManager(NaturalKeyManagerMixin, models.Manager.from_queryset(OccurrenceQuerySet)):
    def get_queryset(self):
        return super().get_queryset().select_related("determination", "deployment", "project")


class Occurrence(BaseModel):
    determination = models.ForeignKey("Taxon", on_delete=models.SET_NULL, null=True, related_name="occurrences")
    determination_score = models.FloatField(null=True, blank=True)
    event = models.ForeignKey(Event, on_delete=models.SET_NULL, null=True, related_name="occurrences")
    deployment = models.ForeignKey(Deployment, on_delete=models.SET_NULL, null=True, related_name="occurrences")
    project = models.ForeignKey(Project, on_delete=models.SET_NULL, null=True, related_name="occurrences")

    objects = OccurrenceManager()

    class Meta:
        ordering = ["-determination_score"]
        indexes = [
            models.Index(
                fields=["determination", "project", "event", "determination_score"], name="occur_det_proj_evt_score"
            ),
            models.Index(fields=["determination", "project", "event"], name="occur_det_proj_evt"),
            models.Index(F("project"), F("updated_at").desc(), name="occur_proj_updated_desc_idx"),
            models.Index(F("project"), F("determination_score").desc(), name="occur_proj_score_desc_idx"),
        ]

    def update_determination(self, save: bool = True) -> None:
        """Upstream's rule: the newest standing human identification wins (score 1.0); otherwise
        the best machine prediction (per-algorithm top score; terminal first, then highest)."""
        identification = (
            Identification.objects.filter(occurrence=self, withdrawn=False).order_by("-created_at", "-pk").first()
        )
        if identification:
            self.determination_id, self.determination_score = identification.taxon_id, Identification.score
        else:
            prediction = self.best_prediction()
            self.determination_id = prediction.taxon_id if prediction else None
            self.determination_score = prediction.score if prediction else None
        if save:
            type(self).objects.filter(pk=self.pk).update(
                determination_id=self.determination_id, determination_score=self.determination_score
            )

    def best_prediction(self) -> Classification | None:
        classifications = Classification.objects.filter(detection__occurrence=self)
        top_per_algorithm = (
            Classification.objects.filter(detection__occurrence=self, algorithm_id=OuterRef("algorithm_id"))
            .order_by("-score")
            .values("score")[:1]
        )
        return (
            classifications.filter(score=Subquery(top_per_algorithm))
            .order_by("-terminal", "-score", "-created_at", "-pk")
            .first()
        )


class Identification(BaseModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="identifications"
    )
    taxon = models.ForeignKey("Taxon", on_delete=models.SET_NULL, null=True, related_name="identifications")
    occurrence = models.ForeignKey(Occurrence, on_delete=models.CASCADE, related_name="identifications")
    withdrawn = models.BooleanField(default=False)
    agreed_with_identification = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="agreed_identifications"
    )
    agreed_with_prediction = models.ForeignKey(
        Classification, on_delete=models.SET_NULL, null=True, blank=True, related_name="agreed_identifications"
    )
    comment = models.TextField(blank=True)

    score = 1.0  # a class constant upstream, not a column
    project_accessor = "occurrence__project"

    class Meta:
        ordering = ["-created_at"]

    def withdraw_others(self) -> int:
        """Upstream does this on saving a new identification: the same user's earlier ones on the
        occurrence are withdrawn."""
        return (
            Identification.objects.filter(occurrence_id=self.occurrence_id, user_id=self.user_id, withdrawn=False)
            .exclude(pk=self.pk)
            .update(withdrawn=True)
        )


# ---------------------------------------------------------------------------------------------
# Taxonomy


class TaxonRank(models.TextChoices):
    KINGDOM = "KINGDOM"
    PHYLUM = "PHYLUM"
    CLASS = "CLASS"
    ORDER = "ORDER"
    SUPERFAMILY = "SUPERFAMILY"
    FAMILY = "FAMILY"
    SUBFAMILY = "SUBFAMILY"
    TRIBE = "TRIBE"
    SUBTRIBE = "SUBTRIBE"
    GENUS = "GENUS"
    SPECIES = "SPECIES"
    UNKNOWN = "UNKNOWN"


RANK_ORDER = {rank: position for position, rank in enumerate(TaxonRank.values)}


class TaxonQuerySet(models.QuerySet):
    def with_descendants(self, taxon_ids: Iterable[int]) -> set[int]:
        """The given taxa and everything below them, walking `parent` one level per query
        (portable; upstream uses JSON containment on parents_json, PostgreSQL only)."""
        found = set(taxon_ids)
        frontier = set(found)
        while frontier:
            children = set(self.model.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - found
            found |= children
            frontier = children
        return found

    def root(self):
        parentless = self.filter(parent__isnull=True)
        return min(parentless, key=lambda taxon: RANK_ORDER.get(taxon.rank, len(RANK_ORDER)), default=None)

    def update_all_calculated_fields(self, taxa: Iterable[Taxon] | None = None) -> int:
        """Rebuild display_name, parents_json and search_names of many taxa (changed rows only).
        Ancestors are read from one query of every taxon's (id, name, rank, parent)."""
        index = {
            pk: (name, rank, parent)
            for pk, name, rank, parent in Taxon.objects.values_list("pk", "name", "rank", "parent_id")
        }
        fields = ("display_name", "parents_json", "search_names")
        changed = []
        for taxon in taxa if taxa is not None else Taxon.objects.all():
            before = [getattr(taxon, name) for name in fields]
            taxon.update_calculated_fields(save=False, index=index)
            if [getattr(taxon, name) for name in fields] != before:
                changed.append(taxon)
        return update_rows(Taxon, changed, fields)


class TaxonManager(NaturalKeyManagerMixin, models.Manager.from_queryset(TaxonQuerySet)):
    def get_queryset(self):
        return super().get_queryset().select_related("parent")


class Taxon(BaseModel):
    name = models.CharField(max_length=255, unique=True)
    display_name = models.CharField(max_length=255, null=True, blank=True, unique=True)
    rank = models.CharField(max_length=255, choices=TaxonRank.choices, default=TaxonRank.SPECIES)
    parent = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="direct_children")
    parents_json = models.JSONField(default=list, blank=True)  # cached [{id, name, rank}], top rank first
    active = models.BooleanField(default=True)
    synonym_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="synonyms")
    common_name_en = models.CharField(max_length=255, null=True, blank=True)
    search_names = models.JSONField(null=True, blank=True)  # upstream: ArrayField(CharField(255))
    gbif_taxon_key = models.BigIntegerField(null=True, blank=True)
    # Upstream's integer field cannot hold Catalogue of Life XR keys ("Q2M4"): the key as a string,
    # with the GBIF checklist (dataset key) it belongs to.
    gbif_key = models.CharField(max_length=64, null=True, blank=True, db_index=True)
    gbif_checklist_key = models.CharField(max_length=64, blank=True, default="")
    bold_taxon_bin = models.CharField(max_length=255, null=True, blank=True)
    inat_taxon_id = models.BigIntegerField(null=True, blank=True)
    fieldguide_id = models.CharField(max_length=255, null=True, blank=True)
    cover_image_url = models.URLField(max_length=255, null=True, blank=True)
    cover_image_credit = models.CharField(max_length=255, null=True, blank=True)
    notes = models.TextField(blank=True)
    projects = models.ManyToManyField(Project, related_name="taxa")
    author = models.CharField(max_length=255, blank=True, default="")
    authorship_date = models.DateField(null=True, blank=True)
    ordering = models.IntegerField(null=True, blank=True)
    sort_phylogeny = models.BigIntegerField(null=True, blank=True)
    tags = models.ManyToManyField("Tag", blank=True, related_name="taxa")

    objects = TaxonManager()

    natural_key_fields = ("name",)  # shared between projects; name is globally unique

    class Meta:
        ordering = ["ordering", "name"]
        verbose_name_plural = "Taxa"
        indexes = [models.Index(fields=["ordering", "name"])]

    def ancestors(self, index: dict | None = None) -> list[dict]:
        """[{id, name, rank}] from the top rank down, following `parent` (cycle-safe)."""
        chain, seen, parent_id = [], {self.pk}, self.parent_id
        while parent_id and parent_id not in seen:
            seen.add(parent_id)
            if index is not None:
                name, rank, next_parent = index[parent_id]
            else:
                name, rank, next_parent = (
                    Taxon.objects.filter(pk=parent_id).values_list("name", "rank", "parent_id").get()
                )
            chain.append({"id": parent_id, "name": name, "rank": rank})
            parent_id = next_parent
        return sorted(chain, key=lambda p: RANK_ORDER.get(p["rank"], len(RANK_ORDER)))

    def update_calculated_fields(self, save: bool = True, index: dict | None = None) -> None:
        self.display_name = f"{self.name} sp." if self.rank == TaxonRank.GENUS else self.name
        self.parents_json = self.ancestors(index)
        if self.common_name_en:
            names = list(self.search_names or [])
            if self.common_name_en not in names:
                names.append(self.common_name_en)
            self.search_names = names
        if save:
            self.save()


class TaxaList(BaseModel):
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    taxa = models.ManyToManyField(Taxon, related_name="lists")
    projects = models.ManyToManyField(Project, related_name="taxa_lists")

    class Meta:
        ordering = ["-created_at"]


class Tag(BaseModel):
    name = models.CharField(max_length=255)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, null=True, blank=True, related_name="tags")

    natural_key_fields = ("project__uuid", "name")

    class Meta:
        unique_together = ("name", "project")

    def natural_key(self) -> tuple:
        return super().natural_key()

    natural_key.dependencies = ["main.project"]


class SourceImageCollection(BaseModel):
    class Method(models.TextChoices):
        FULL = "full"
        RANDOM = "random"
        STRATIFIED_RANDOM = "stratified_random"
        INTERVAL = "interval"
        MANUAL = "manual"
        STARRED = "starred"
        RANDOM_FROM_EACH_EVENT = "random_from_each_event"
        LAST_AND_RANDOM_FROM_EACH_EVENT = "last_and_random_from_each_event"
        GREATEST_FILE_SIZE_FROM_EACH_EVENT = "greatest_file_size_from_each_event"
        DETECTIONS_ONLY = "detections_only"
        COMMON_COMBINED = "common_combined"

    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    images = models.ManyToManyField(SourceImage, related_name="collections", blank=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="sourceimage_collections")
    method = models.CharField(max_length=255, choices=Method.choices, default=Method.FULL)
    kwargs = models.JSONField("Arguments", null=True, blank=True, default=dict)


# ---------------------------------------------------------------------------------------------
# Sessions


@transaction.atomic
def group_images_into_events(
    deployment: Deployment, max_span: datetime.timedelta = datetime.timedelta(hours=24)
) -> list[Event]:
    """Upstream's session grouping: sort the captures' timestamps, start a new group when the gap
    exceeds the project's session_time_gap_seconds (2 h by default) or a group would pass 24 h;
    one Event per group, keyed (deployment, start date). Occurrences follow the event of their
    earliest detection's capture; empty events are deleted; counts are refreshed."""
    gap_seconds = deployment.project.session_time_gap_seconds if deployment.project_id else 0
    gap = datetime.timedelta(seconds=gap_seconds if gap_seconds and gap_seconds > 0 else 7200)
    timestamps = list(
        SourceImage.objects.filter(deployment=deployment, timestamp__isnull=False)
        .order_by("timestamp")
        .values_list("timestamp", flat=True)
        .distinct()
    )
    groups: list[list[datetime.datetime]] = []
    for ts in timestamps:
        if groups and ts - groups[-1][-1] <= gap and ts - groups[-1][0] <= max_span:
            groups[-1].append(ts)
        else:
            groups.append([ts])

    events = []
    for group in groups:
        event, _ = Event.objects.get_or_create(
            deployment=deployment,
            group_by=str(group[0].date()),
            defaults={"start": group[0], "end": group[-1], "project_id": deployment.project_id},
        )
        SourceImage.objects.filter(deployment=deployment, timestamp__gte=group[0], timestamp__lte=group[-1]).update(
            event=event
        )
        events.append(event)

    earliest_capture_event = (
        Detection.objects.filter(occurrence=OuterRef("pk"))
        .order_by("source_image__timestamp", "pk")
        .values("source_image__event")[:1]
    )
    Occurrence.objects.filter(deployment=deployment).update(event=Subquery(earliest_capture_event))
    Event.objects.filter(deployment=deployment).exclude(pk__in=[e.pk for e in events]).filter(
        captures__isnull=True
    ).delete()
    Event.objects.update_calculated_fields_for_events(Event.objects.filter(deployment=deployment))
    deployment.update_calculated_fields(save=True)
    return events
