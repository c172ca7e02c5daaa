"""The abstract parent of (almost) every Antenna model, as upstream's ami/base/models.py, plus the
identity every exported row needs: a stable UUID and a natural key."""

import uuid

from django.db import models

from ami.base.managers import NaturalKeyManager


class BaseModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The identity that travels between instances; integer keys stay internal (docs/identity.md).
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    objects = NaturalKeyManager()

    # Lookup paths of the natural key, in order. Most rows are identified by their UUID; shared
    # references (Taxon, Pipeline, Algorithm) and rows keyed by a parent (Event, SourceImage, Tag)
    # override this.
    natural_key_fields: tuple[str, ...] = ("uuid",)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        name = getattr(self, "name", None) or ""
        return f"#{self.pk} {name}".strip()

    def natural_key(self) -> tuple:
        values = tuple(_follow(self, path) for path in self.natural_key_fields)
        if None in values:
            # A parent link is empty (e.g. an event whose deployment was deleted): the composite
            # is then not unique, so the row's UUID is appended and decides.
            values += (str(self.uuid),)
        return values

    def update_calculated_fields(self, save: bool = True) -> None:
        """Recompute cached columns. A no-op here; models with cached values override it."""


def _follow(obj, path: str):
    """The value at a lookup path such as "deployment__uuid", or None past an empty link."""
    for attribute in path.split("__"):
        obj = getattr(obj, attribute)
        if obj is None:
            return None
    return str(obj) if isinstance(obj, uuid.UUID) else obj
