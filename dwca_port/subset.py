"""A partial export's choice of data: deployments, a date range, a capture set (combinable).

Parsed from the operator's options against one project (`Subset.parse`, one clear line when an
option is wrong), and carried as plain parameters (`as_params` / `from_params`) by whatever runs
the export later, such as a background job. Which rows of each model it picks is declared on the
graph's nodes (`graph.Slice`); `selection.py` applies it.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils import timezone

from ami.main.models import Deployment, SourceImageCollection
from dwca_port.graph import Slice


class SubsetError(ValueError):
    """An option of a partial export is wrong; the message says which and why, in one line."""


@dataclass(frozen=True)
class Subset:
    deployments: tuple[int, ...] = ()  # primary keys, of the project's deployments
    since: datetime.date | None = None  # first day, inclusive (local time, as every timestamp)
    until: datetime.date | None = None  # last day, inclusive
    collection: int | None = None  # primary key of one of the project's capture sets

    @classmethod
    def parse(cls, project, deployments=None, since=None, until=None, collection=None) -> Subset:
        """From references as an operator gives them: deployments as "ID,ID" or UUIDs (or a list),
        dates as YYYY-MM-DD, a capture set by id or UUID."""
        references = _split(deployments)
        found = {}
        for reference in references:
            deployment = _find(Deployment, project, reference, "deployment")
            found[deployment.pk] = deployment
        first, last = _date(since, "--since"), _date(until, "--until")
        if first and last and first > last:
            raise SubsetError(f"--since {first} is after --until {last}: the date range is empty")
        chosen = _find(SourceImageCollection, project, str(collection), "capture set") if collection else None
        return cls(tuple(sorted(found)), first, last, chosen.pk if chosen else None)

    @classmethod
    def from_params(cls, project, params: dict) -> Subset:
        """The inverse of as_params (checked again: the project may have changed meanwhile)."""
        unknown = set(params) - {"deployments", "since", "until", "collection"}
        if unknown:
            raise SubsetError(f"unknown subset parameter(s): {', '.join(sorted(unknown))}")
        return cls.parse(project, **params)

    def as_params(self) -> dict:
        """Plain JSON values (UUIDs, ISO dates) that a job can carry; empty for a whole project."""
        params: dict = {}
        if self.deployments:
            uuids = Deployment.objects.filter(pk__in=self.deployments).order_by("uuid").values_list("uuid", flat=True)
            params["deployments"] = [str(u) for u in uuids]
        if self.since:
            params["since"] = self.since.isoformat()
        if self.until:
            params["until"] = self.until.isoformat()
        if self.collection:
            params["collection"] = str(SourceImageCollection.objects.get(pk=self.collection).uuid)
        return params

    def is_whole(self) -> bool:
        return not (self.deployments or self.since or self.until or self.collection)

    def describe(self) -> str:
        """In words, for the dataset description: "deployments Station 1; 2022-06-01 to 2022-06-30"."""
        parts = []
        if self.deployments:
            names = Deployment.objects.filter(pk__in=self.deployments).order_by("name").values_list("name", flat=True)
            parts.append("deployment(s) " + ", ".join(names))
        if self.since or self.until:
            parts.append(f"from {self.since or 'the start'} to {self.until or 'the end'}")
        if self.collection:
            parts.append(f"capture set {SourceImageCollection.objects.get(pk=self.collection).name}")
        return "; ".join(parts)

    def condition(self, slice: Slice) -> models.Q | None:
        """The rows of a model with this slice that the subset picks; None when it has no path for
        one of the subset's criteria (its rows come only as references). Rows with no value on a
        criterion's path pass it (_or_unset)."""
        condition = models.Q()
        if self.deployments:
            if slice.deployment is None:
                return None
            condition &= _or_unset(models.Q(**{f"{slice.deployment}__in": self.deployments}), slice.deployment)
        if self.since or self.until:
            if slice.time is None:
                return None
            dated = models.Q()
            if self.since:
                dated &= models.Q(**{f"{slice.time}__gte": _start_of(self.since)})
            if self.until:
                dated &= models.Q(**{f"{slice.time}__lt": _start_of(self.until + datetime.timedelta(days=1))})
            condition &= _or_unset(dated, slice.time)
        if self.collection:
            if slice.capture is None:
                return None
            images = SourceImageCollection._meta.get_field("images")
            links = images.remote_field.through.objects.filter(**{images.m2m_field_name(): self.collection})
            chosen = models.Q(**{f"{slice.capture}__in": links.values(images.m2m_reverse_field_name())})
            condition &= _or_unset(chosen, slice.capture)
        return condition


def _or_unset(condition: models.Q, path: str) -> models.Q:
    """Rows tied to no deployment or capture set (a project-wide job) or undated belong to the
    whole project: every partial archive holds them, so that the parts add up to the whole."""
    return condition if path == "pk" else condition | models.Q(**{f"{path}__isnull": True})


def _split(references) -> list[str]:
    if references is None:
        return []
    if isinstance(references, str):
        references = references.split(",")
    return [str(r).strip() for r in references if str(r).strip()]


def _find(model, project, reference: str, what: str):
    """A row of `project` by primary key or UUID, or a SubsetError naming the reference."""
    reference = reference.strip()
    try:
        key = {"pk": int(reference)} if reference.isdigit() else {"uuid": uuid.UUID(reference)}
    except ValueError:
        raise SubsetError(f"{what} {reference!r} is neither an id nor a UUID") from None
    row = model._base_manager.filter(**key).first()
    if row is None:
        raise SubsetError(f"no {what} with id or UUID {reference!r}")
    if row.project_id != project.pk:
        raise SubsetError(f"{what} {reference!r} belongs to project {row.project_id}, not to project {project.pk}")
    return row


def _date(value, option: str) -> datetime.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        raise SubsetError(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None


def _start_of(day: datetime.date) -> datetime.datetime:
    moment = datetime.datetime.combine(day, datetime.time.min)
    return timezone.make_aware(moment) if settings.USE_TZ else moment
