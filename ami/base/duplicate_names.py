"""Make names unique within their scope by suffixing later duplicates: "Trap", "Trap (2)", ...

The first row (lowest primary key) keeps its name; the others get the lowest free suffix, cut
to the column's max_length. Used by the migration that adds the name constraints, so it never
fails on a database that already holds duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.db.models import Count


@dataclass
class Rename:
    model: str
    pk: int
    scope: str
    scope_id: object
    old: str
    new: str

    def __str__(self) -> str:
        return f'{self.model} #{self.pk} ({self.scope} #{self.scope_id}): "{self.old}" -> "{self.new}"'


def rename_duplicate_names(
    model: type[models.Model], scope: str, field: str = "name", using: str = "default"
) -> list[Rename]:
    """Rename rows so that `field` is unique among rows with the same `scope` (a foreign key).
    Rows without a scope are left alone: the constraint does not cover them (NULLs are distinct)."""
    manager = model._base_manager.db_manager(using)
    max_length = model._meta.get_field(field).max_length
    groups = (
        manager.filter(**{f"{scope}__isnull": False})
        .values_list(scope, field)
        .annotate(count=Count("pk"))
        .filter(count__gt=1)
        .order_by(scope, field)
    )
    renames = []
    for scope_id, name, _ in list(groups):
        in_scope = manager.filter(**{scope: scope_id})
        taken = set(in_scope.values_list(field, flat=True))
        duplicates = in_scope.filter(**{field: name}).order_by("pk").values_list("pk", flat=True)
        for pk in list(duplicates)[1:]:
            new_name = free_name(name, taken, max_length)
            taken.add(new_name)
            manager.filter(pk=pk).update(**{field: new_name})
            renames.append(Rename(model._meta.label, pk, scope, scope_id, name, new_name))
    return renames


def free_name(name: str, taken: set[str], max_length: int | None) -> str:
    number = 2
    while True:
        suffix = f" ({number})"
        base = name if max_length is None else name[: max_length - len(suffix)].rstrip()
        candidate = base + suffix
        if candidate not in taken:
            return candidate
        number += 1
