"""Machine-learning configuration (app label `ml`): category maps, algorithms, pipelines,
processing services and per-project pipeline configs, as upstream."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.text import slugify

from ami.base.models import BaseModel


def default_stages() -> list[dict]:
    return [{"key": "default", "name": "Default Stage", "params": []}]


class AlgorithmCategoryMap(BaseModel):
    data = models.JSONField()  # [{index, label, gbif_key?, taxon_rank?, ...}]
    labels = models.JSONField(default=list)  # upstream: ArrayField(CharField(255)), in model-output order
    labels_hash = models.BigIntegerField(null=True)
    version = models.CharField(max_length=255, null=True, blank=True)
    description = models.TextField(null=True, blank=True)
    uri = models.CharField(max_length=255, null=True, blank=True)

    def __str__(self) -> str:
        return f"#{self.pk} {len(self.labels)} labels"


class Algorithm(BaseModel):
    class TaskType(models.TextChoices):
        DETECTION = "detection"
        LOCALIZATION = "localization"
        SEGMENTATION = "segmentation"
        CLASSIFICATION = "classification"
        EMBEDDING = "embedding"
        TRACKING = "tracking"
        TAGGING = "tagging"
        REGRESSION = "regression"
        CAPTIONING = "captioning"
        GENERATION = "generation"
        TRANSLATION = "translation"
        SUMMARIZATION = "summarization"
        QUESTION_ANSWERING = "question_answering"
        DEPTH_ESTIMATION = "depth_estimation"
        POSE_ESTIMATION = "pose_estimation"
        SIZE_ESTIMATION = "size_estimation"
        POST_PROCESSING = "post_processing"
        OTHER = "other"
        UNKNOWN = "unknown"

    name = models.CharField(max_length=255)
    key = models.SlugField(max_length=255, unique=True)
    task_type = models.CharField(max_length=255, choices=TaskType.choices, null=True, default=TaskType.UNKNOWN)
    description = models.TextField(blank=True)
    version = models.IntegerField(default=1)
    version_name = models.CharField(max_length=255, null=True, blank=True)
    uri = models.CharField(max_length=255, null=True, blank=True)
    category_map = models.ForeignKey(
        AlgorithmCategoryMap, on_delete=models.CASCADE, null=True, blank=True, default=None, related_name="algorithms"
    )

    natural_key_fields = ("name", "version")  # shared between projects and instances

    class Meta:
        ordering = ["name", "version"]
        unique_together = [("name", "version")]

    def save(self, *args, **kwargs):
        # Derived identifiers, filled only when empty (upstream does the same).
        if not self.key:
            self.key = f"{slugify(self.name)}-{self.version}"
        if not self.version_name:
            self.version_name = str(self.version)
        super().save(*args, **kwargs)


class Pipeline(BaseModel):
    name = models.CharField(max_length=255)
    slug = models.SlugField(max_length=255, unique=True)
    description = models.TextField(blank=True)
    version = models.IntegerField(default=1)
    version_name = models.CharField(max_length=255, blank=True, default="")
    algorithms = models.ManyToManyField(Algorithm, related_name="pipelines")
    stages = models.JSONField(default=default_stages)  # upstream: SchemaField(list[ConfigurableStage])
    projects = models.ManyToManyField(
        "main.Project", through="ProjectPipelineConfig", related_name="pipelines", blank=True
    )
    default_config = models.JSONField(default=dict, blank=True)  # upstream: SchemaField(dict)

    natural_key_fields = ("name", "version")  # shared between projects and instances

    class Meta:
        ordering = ["name", "version"]
        unique_together = [("name", "version")]

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = f"{slugify(self.name)}-v{self.version}-{uuid.uuid4().hex[:8]}"
        super().save(*args, **kwargs)

    def get_config(self, project_id: int | None = None) -> dict:
        """The pipeline's default config with the project's overrides merged on top."""
        config = dict(self.default_config or {})
        if project_id is not None:
            override = (
                ProjectPipelineConfig.objects.filter(pipeline=self, project_id=project_id)
                .values_list("config", flat=True)
                .first()
            )
            config.update(override or {})
        return config


class ProcessingService(BaseModel):
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    projects = models.ManyToManyField("main.Project", related_name="processing_services", blank=True)
    endpoint_url = models.CharField(max_length=1024, null=True, blank=True)
    pipelines = models.ManyToManyField(Pipeline, related_name="processing_services", blank=True)
    last_seen = models.DateTimeField(null=True)
    last_seen_live = models.BooleanField(null=True)
    last_seen_latency = models.FloatField(null=True)

    class Meta:
        verbose_name = "Processing Service"
        verbose_name_plural = "Processing Services"


class ProjectPipelineConfig(BaseModel):
    project = models.ForeignKey("main.Project", on_delete=models.CASCADE, related_name="project_pipeline_configs")
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="project_pipeline_configs")
    enabled = models.BooleanField(default=True)
    config = models.JSONField(default=dict, null=True, blank=True)

    class Meta:
        unique_together = ("pipeline", "project")
