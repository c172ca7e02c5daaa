"""Natural-key lookup for every model manager (serializers: dumpdata --natural-foreign / loaddata).

A model declares its natural key as lookup paths in `natural_key_fields` (see BaseModel); the
manager resolves a key tuple with those paths. Models with their own managers mix this in.
"""

from __future__ import annotations

from django.db import models


class NaturalKeyManagerMixin:
    def get_by_natural_key(self, *key):
        fields = self.model.natural_key_fields
        if len(key) == len(fields) + 1:
            # A key whose parent link was empty carries the row's UUID last (BaseModel.natural_key).
            return self.get(uuid=key[-1])
        if len(key) != len(fields):
            raise self.model.DoesNotExist(
                f"{self.model._meta.label} natural key needs {len(fields)} values {fields}, got {key!r}"
            )
        return self.get(**dict(zip(fields, key)))


class NaturalKeyManager(NaturalKeyManagerMixin, models.Manager):
    pass
