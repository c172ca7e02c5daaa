"""The abstract parent of (almost) every Antenna model, as upstream's ami/base/models.py."""
from django.db import models


class BaseModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        name = getattr(self, "name", None) or ""
        return f"#{self.pk} {name}".strip()

    def update_calculated_fields(self, save: bool = True) -> None:
        """Recompute cached columns. A no-op here; models with cached values override it."""
