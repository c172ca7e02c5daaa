"""What the tables of one export read: the project, the profile, its selection of rows, and the
facts several tables share (deployments, published occurrences, members' roles, licence)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property

from django.db import connection, models

from ami.main.models import Classification, Deployment, Detection, Event, Identification, Occurrence, SourceImage, Taxon
from ami.ml.models import Algorithm
from ami.users.roles import ROLES
from dwca_port import graph
from dwca_port.eml import Licence, parse_licence
from dwca_port.eml.additions import MetadataAdditions
from dwca_port.selection import Selection
from dwca_port.subset import Subset
from dwca_port.tables.evidence import Evidence

CHUNK = 2000


class ExportContext:
    def __init__(self, project, profile: str, additions: MetadataAdditions | None = None, subset: Subset | None = None):
        self.project = project
        self.subset = subset if subset and not subset.is_whole() else None  # a partial export's choice
        self.profile = profile
        self.additions = additions or MetadataAdditions()  # what the publisher adds to eml.xml
        self.licence: Licence | None = parse_licence(project.license)
        self.licence_url = self.licence.url if self.licence else None

    @cached_property
    def selection(self) -> Selection:
        """The rows of every model the archive holds (built on first use: the full profile's)."""
        return Selection(self.project, self.subset)

    def _narrowed(self, rows: models.QuerySet) -> models.QuerySet:
        """A model's project rows, narrowed to the selection's in a partial export."""
        if self.subset is None:
            return rows
        return rows.filter(pk__in=self.selection.pks(graph.NODES_BY_LABEL[rows.model._meta.label]))

    @cached_property
    def deployments(self) -> list:
        rows = self._narrowed(Deployment.objects.filter(project=self.project))
        return list(rows.select_related("research_site", "device").order_by("uuid"))

    @cached_property
    def deployment_uuids(self) -> dict[int, object]:
        return {d.pk: d.uuid for d in self.deployments}

    # Which rows of the big models the archive describes: every table reads them from here.

    def captures(self) -> models.QuerySet:
        return self._narrowed(SourceImage.objects.filter(project=self.project))

    def sessions(self) -> models.QuerySet:
        return self._narrowed(Event.objects.filter(project=self.project))

    def detections(self) -> models.QuerySet:
        return Detection.objects.filter(source_image__in=self.captures())

    def core_event(self, occurrence) -> object:
        """The core event an occurrence hangs from: its capture session, else its deployment."""
        if occurrence.event_id:
            return occurrence.event.uuid
        return self.deployment_uuids.get(occurrence.deployment_id, self.project.uuid)

    def published_occurrences(self) -> models.QuerySet:
        """The occurrences the project publishes: its default filters, and a determination."""
        occurrences = self._narrowed(Occurrence.objects.filter(project=self.project))
        return occurrences.filter(determination__isnull=False).filter(self.project.default_filter_q())

    def published_occurrence_chunks(self) -> Iterator[list]:
        """Published occurrences in UUID order, a chunk at a time (keyset pagination: flat memory)."""
        rows = self.published_occurrences().select_related("determination", "event").order_by("uuid")
        last = None
        while True:
            page = list((rows.filter(uuid__gt=last) if last else rows)[:CHUNK])
            if not page:
                return
            yield page
            last = page[-1].uuid

    @cached_property
    def roles(self) -> dict[int, str]:
        """Each member's primary role (the one with the most permissions), by user id."""
        held: dict[int, str] = {}
        for role in ROLES:  # fewest to most permissions: the last one written is the primary role
            for user_id in role.get_group(self.project).user_set.values_list("pk", flat=True):
                held[user_id] = role.display_name
        return held

    def evidence(self, occurrences: list) -> Evidence:
        return Evidence.of(occurrences, self.roles)

    @cached_property
    def db_tables(self) -> dict[str, str]:
        """Quoted table names for the SQL forms of the tables."""
        models_by_alias = dict(
            detection=Detection,
            classification=Classification,
            deployment=Deployment,
            event=Event,
            identification=Identification,
            occurrence=Occurrence,
            source_image=SourceImage,
            taxon=Taxon,
            algorithm=Algorithm,
        )
        return {alias: connection.ops.quote_name(model._meta.db_table) for alias, model in models_by_alias.items()}
