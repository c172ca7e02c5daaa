"""Find rows that break a unique constraint, before the database is asked to enforce it.

Used by `manage.py check_unique_violations`, by the constraint migrations (which refuse with a
clear message instead of failing half-way in CREATE UNIQUE INDEX) and by the duplicate merge.
Works on live and on historical (migration) models alike.

The grouping follows the database's rules for a unique index: only rows matching the
constraint's condition count, and a key with a NULL part never conflicts (NULLs are distinct).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from django.core.management.base import CommandError
from django.db import connections, models
from django.db.models import Count, F, Window


class DuplicateRowsError(CommandError):
    """Existing rows break a constraint a migration is about to add. A CommandError, so that
    `manage.py migrate` prints the message on one line and exits non-zero without a traceback."""


@dataclass
class ViolationGroup:
    key: dict[str, object]
    ids: list[int]


@dataclass
class ConstraintViolations:
    model: type[models.Model]
    constraint: models.UniqueConstraint
    groups: list[ViolationGroup] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.constraint.name}"


def key_parts(model: type[models.Model], constraint: models.UniqueConstraint) -> list[tuple[str, object]]:
    """(label, expression) for each part of the constraint's key."""
    if constraint.fields:
        return [(name, F(name)) for name in constraint.fields]
    return [(_describe_expression(expression), expression) for expression in constraint.expressions]


def describe_key(model: type[models.Model], constraint: models.UniqueConstraint) -> str:
    text = "(" + ", ".join(label for label, _ in key_parts(model, constraint)) + ")"
    if constraint.condition is not None:
        text += f" where {_describe_condition(constraint.condition)}"
    return text


def find_violations(
    model: type[models.Model], constraint: models.UniqueConstraint, using: str = "default"
) -> list[ViolationGroup]:
    """Every group of two or more rows sharing the constraint's key, ids ascending, in key order.
    One query: a window count over the key, keeping rows whose group has more than one member."""
    parts = key_parts(model, constraint)
    aliases = [f"_key{position}" for position in range(len(parts))]
    rows = model._base_manager.db_manager(using).all()
    if constraint.condition is not None:
        rows = rows.filter(constraint.condition)
    rows = rows.annotate(**{alias: expression for alias, (_, expression) in zip(aliases, parts)})
    rows = rows.filter(**{f"{alias}__isnull": False for alias in aliases})
    rows = rows.annotate(_group_size=Window(Count("pk"), partition_by=[F(alias) for alias in aliases])).filter(
        _group_size__gt=1
    )
    ordered = rows.order_by(*aliases, "pk").values_list(*aliases, "pk")

    labels = [label for label, _ in parts]
    groups = []
    for key, members in itertools.groupby(ordered.iterator(), key=lambda row: row[:-1]):
        groups.append(ViolationGroup(key=dict(zip(labels, key)), ids=[row[-1] for row in members]))
    return groups


def declared_unique_constraints(model: type[models.Model]) -> list[models.UniqueConstraint]:
    return [c for c in model._meta.constraints if isinstance(c, models.UniqueConstraint)]


def is_enforced(model: type[models.Model], constraint: models.UniqueConstraint, using: str = "default") -> bool:
    """True when the database already holds this constraint (by name) as a valid constraint or
    index; its rows then cannot violate it and need no scan."""
    connection = connections[using]
    with connection.cursor() as cursor:
        existing = connection.introspection.get_constraints(cursor, model._meta.db_table)
    if constraint.name not in existing:
        return False
    if connection.vendor == "postgresql" and existing[constraint.name].get("index"):
        from ami.base.postgres import index_state

        return index_state(connection, constraint.name) == "valid"
    return True


def refuse_duplicates(
    model: type[models.Model], constraint: models.UniqueConstraint, hint: str, using: str = "default"
) -> None:
    """Raise DuplicateRowsError naming the duplicate rows and what to do about them."""
    groups = find_violations(model, constraint, using)
    if not groups:
        return
    shown = "; ".join(", ".join(str(pk) for pk in group.ids) for group in groups[:5])
    more = f" and {len(groups) - 5} more" if len(groups) > 5 else ""
    raise DuplicateRowsError(
        f"Cannot add unique constraint {constraint.name} to {model._meta.label}: "
        f"{len(groups)} group(s) of rows share its key {describe_key(model, constraint)} "
        f"(ids {shown}{more}). {hint}"
    )


def _describe_expression(expression) -> str:
    if isinstance(expression, F):
        return expression.name
    inner = [_describe_expression(e) for e in expression.get_source_expressions() if not _is_literal(e)]
    if type(expression).__name__ == "Coalesce" and inner:
        return f"{inner[0]} (NULL counts as one value)"
    return inner[0] if len(inner) == 1 else f"{type(expression).__name__}({', '.join(inner)})"


def _is_literal(expression) -> bool:
    return isinstance(expression, models.Value)


def _describe_condition(condition: models.Q) -> str:
    terms = []
    for child in condition.children:
        if isinstance(child, models.Q):
            terms.append(f"({_describe_condition(child)})")
            continue
        lookup, value = child
        name, _, operator = lookup.rpartition("__")
        if operator == "isnull":
            terms.append(f"{name} is {'null' if value else 'not null'}")
        else:
            terms.append(f"{lookup}={value!r}")
    return " and ".join(terms)
