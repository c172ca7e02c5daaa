"""Data exports (app label `exports`): a record of a user's export of project data, as upstream."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ami.base.models import BaseModel


class DataExport(BaseModel):
    class Format(models.TextChoices):
        OCCURRENCES_API_JSON = "occurrences_api_json"
        OCCURRENCES_SIMPLE_CSV = "occurrences_simple_csv"
        DWCA = "dwca"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports")
    project = models.ForeignKey("main.Project", on_delete=models.CASCADE, related_name="exports")
    format = models.CharField(max_length=255, choices=Format.choices)
    filters = models.JSONField(null=True, blank=True)
    filters_display = models.JSONField(null=True, blank=True)
    file_url = models.URLField(null=True, blank=True)
    record_count = models.PositiveIntegerField(default=0)
    file_size = models.PositiveBigIntegerField(default=0)
