"""humboldt.txt (Humboldt eco:Event): the sampling effort and taxonomic scope of each capture
session, in its own file because GBIF reads eco: terms only from the extension."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count

from dwca_port.tables.base import DWC, ECO, Column, Table, by_name
from dwca_port.tables.context import ExportContext
from dwca_port.tables.darwin_core.common import CHUNK, EVENT, SAMPLING_PROTOCOL, hours
from dwca_port.values import Kind

COLUMNS = (
    Column(DWC + "eventID", Kind.UUID, required=True, references=EVENT),
    Column(ECO + "targetTaxonomicScope", Kind.TEXT, doc="The project's include taxa (its default filter)."),
    Column(ECO + "excludedTaxonomicScope", Kind.TEXT, doc="The project's exclude taxa."),
    Column(ECO + "isAbsenceReported", Kind.BOOLEAN, doc="false: only what was detected is reported."),
    Column(ECO + "isAbundanceReported", Kind.BOOLEAN, doc="true: one occurrence per individual."),
    Column(ECO + "protocolNames", Kind.TEXT),
    Column(ECO + "samplingPerformedBy", Kind.TEXT, doc="The trap's device configuration."),
    Column(ECO + "isSamplingEffortReported", Kind.BOOLEAN),
    Column(ECO + "samplingEffortValue", Kind.DECIMAL, doc="Captures taken during the session."),
    Column(ECO + "samplingEffortUnit", Kind.TEXT, doc="captures"),
    Column(ECO + "eventDurationValue", Kind.DECIMAL),
    Column(ECO + "eventDurationUnit", Kind.TEXT, doc="hours"),
    Column(ECO + "hasVouchers", Kind.BOOLEAN),
    Column(ECO + "hasMaterialSamples", Kind.BOOLEAN),
)


def rows(context: ExportContext) -> Iterator[dict]:
    project = context.project
    scope = {
        "targetTaxonomicScope": " | ".join(sorted(project.default_filters_include_taxa.values_list("name", flat=True)))
        or None,
        "excludedTaxonomicScope": " | ".join(
            sorted(project.default_filters_exclude_taxa.values_list("name", flat=True))
        )
        or None,
        "isAbsenceReported": "false",
        "isAbundanceReported": "true",
        "protocolNames": SAMPLING_PROTOCOL,
        "isSamplingEffortReported": "true",
        "samplingEffortUnit": "captures",
        "hasVouchers": "false",
        "hasMaterialSamples": "false",
    }
    devices = {d.pk: d.device.name if d.device else None for d in context.deployments}
    sessions = context.sessions().order_by("uuid").annotate(n=Count("captures"))
    for event in sessions.iterator(chunk_size=CHUNK):
        duration = hours(event.start, event.end)
        yield {
            **scope,
            "eventID": str(event.uuid),
            "samplingPerformedBy": devices.get(event.deployment_id),
            "samplingEffortValue": str(event.n),
            "eventDurationValue": duration,
            "eventDurationUnit": "hours" if duration else None,
        }


TABLE = Table(
    "humboldt.txt",
    ECO + "Event",
    COLUMNS,
    rows=by_name(COLUMNS, rows),
    doc="Humboldt extension: effort and taxonomic scope of each capture session.",
)
