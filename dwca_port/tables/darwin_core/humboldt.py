"""humboldt.txt (Humboldt eco:Event): the protocol, taxonomic scope and effort of every event.

Humboldt values are not inherited by child events, so the scope and protocol are written on the
project, on each deployment and on each capture session; effort and duration on the sessions,
the events that were actually sampled (a deployment's effort is not the sum of its nights').
"""

from __future__ import annotations

from collections.abc import Iterator

from dwca_port.tables.base import ECO, Column, Table, by_name
from dwca_port.tables.context import ExportContext
from dwca_port.tables.darwin_core.common import (
    CHUNK,
    EXTENSION_KEY,
    SAMPLING_PROTOCOL,
    hours,
    publisher_name,
)
from dwca_port.values import Kind

PROTOCOL_NAMES = "lightTrapping | timeLapsePhotography"
TARGET_LIFE_STAGE = "adult"
VERBATIM_TARGET_SCOPE = "nocturnal flying insects attracted to light, photographed on the trap's screen"
EFFORT_UNIT = "trapHours"
DURATION_UNIT = "hour"  # GBIF's unit vocabulary, as dwc:sampleSizeUnit in event.txt

COLUMNS = (
    EXTENSION_KEY,
    Column(ECO + "siteCount", Kind.INTEGER, doc="Stations in the event: all the project's; 1 for a station or night."),
    Column(ECO + "siteNestingDescription", Kind.TEXT, doc="Project: how stations and sites nest."),
    Column(ECO + "verbatimSiteNames", Kind.TEXT, doc="The station's name (deployment), ` | `-separated."),
    Column(ECO + "verbatimTargetScope", Kind.TEXT, doc=VERBATIM_TARGET_SCOPE),
    Column(ECO + "targetTaxonomicScope", Kind.TEXT, doc="The project's include taxa (its default filter)."),
    Column(ECO + "excludedTaxonomicScope", Kind.TEXT, doc="The project's exclude taxa (real taxa only)."),
    Column(
        ECO + "isTaxonomicScopeFullyReported",
        Kind.BOOLEAN,
        doc="false while a determination-score threshold withholds occurrences; true without one.",
    ),
    Column(ECO + "targetLifeStageScope", Kind.TEXT, doc=f"{TARGET_LIFE_STAGE}: the trap photographs flying insects."),
    Column(ECO + "isLifeStageScopeFullyReported", Kind.BOOLEAN, doc="As isTaxonomicScopeFullyReported."),
    Column(ECO + "isAbsenceReported", Kind.BOOLEAN, doc="false: only what was detected is reported."),
    Column(ECO + "isAbundanceReported", Kind.BOOLEAN, doc="true: one occurrence per individual."),
    Column(ECO + "hasNonTargetTaxa", Kind.BOOLEAN, doc="false: only taxa in scope are published."),
    Column(ECO + "protocolNames", Kind.TEXT, doc=PROTOCOL_NAMES),
    Column(ECO + "protocolDescriptions", Kind.TEXT, doc="The protocol, with the station's trap and camera."),
    Column(ECO + "samplingPerformedBy", Kind.TEXT, doc="The organisation that ran the traps (the publisher)."),
    Column(ECO + "isSamplingEffortReported", Kind.BOOLEAN, doc="true on the nights, which carry the effort."),
    Column(ECO + "samplingEffortProtocol", Kind.TEXT),
    Column(ECO + "samplingEffortValue", Kind.DECIMAL, doc="Night: hours between its first and last capture."),
    Column(ECO + "samplingEffortUnit", Kind.TEXT, doc=EFFORT_UNIT),
    Column(ECO + "eventDurationValue", Kind.DECIMAL, doc="Night: hours between its first and last capture."),
    Column(ECO + "eventDurationUnit", Kind.TEXT, doc=DURATION_UNIT),
    Column(ECO + "hasVouchers", Kind.BOOLEAN),
    Column(ECO + "hasMaterialSamples", Kind.BOOLEAN),
)

EFFORT_PROTOCOL = (
    "One automated light trap per station; effort is the hours between the night's first and last capture."
)


def _names(taxa) -> str | None:
    """Real taxa only: a pseudo-taxon ("Not a moth", rank UNKNOWN) is no taxonomic scope."""
    return " | ".join(sorted(taxa.exclude(rank="UNKNOWN").values_list("name", flat=True))) or None


def _protocol(device_name: str | None) -> str:
    return SAMPLING_PROTOCOL + (f"; trap and camera: {device_name}" if device_name else "") + "."


def rows(context: ExportContext) -> Iterator[dict]:
    project = context.project
    filtered = bool(project.default_filters_score_threshold and project.default_filters_score_threshold > 0)
    scope = {
        "verbatimTargetScope": VERBATIM_TARGET_SCOPE,
        "targetTaxonomicScope": _names(project.default_filters_include_taxa),
        "excludedTaxonomicScope": _names(project.default_filters_exclude_taxa),
        "isTaxonomicScopeFullyReported": "false" if filtered else "true",
        "targetLifeStageScope": TARGET_LIFE_STAGE,
        "isLifeStageScopeFullyReported": "false" if filtered else "true",
        "isAbsenceReported": "false",
        "isAbundanceReported": "true",
        "hasNonTargetTaxa": "false",
        "protocolNames": PROTOCOL_NAMES,
        "samplingPerformedBy": publisher_name(project),
        "hasVouchers": "false",
        "hasMaterialSamples": "false",
    }
    deployments = context.deployments
    sites = {d.research_site_id for d in deployments if d.research_site_id}
    yield {
        **scope,
        "eventID": str(project.uuid),
        "siteCount": str(len(deployments)),
        "siteNestingDescription": f"{len(deployments)} light-trap station(s) at {len(sites)} research site(s), "
        "each sampled through the night; a station's nights are its capture sessions.",
        "verbatimSiteNames": " | ".join(sorted(d.name for d in deployments)) or None,
        "protocolDescriptions": _protocol(None),
    }
    per_deployment = {}
    for deployment in deployments:
        per_deployment[deployment.pk] = {
            "siteCount": "1",
            "verbatimSiteNames": deployment.name or None,
            "protocolDescriptions": _protocol(deployment.device.name if deployment.device else None),
        }
        yield {**scope, "eventID": str(deployment.uuid), **per_deployment[deployment.pk]}
    sessions = context.sessions().order_by("uuid")
    for event in sessions.iterator(chunk_size=CHUNK):
        duration = hours(event.start, event.end)
        yield {
            **scope,
            **per_deployment.get(event.deployment_id, {"protocolDescriptions": _protocol(None)}),
            "eventID": str(event.uuid),
            "isSamplingEffortReported": "true",
            "samplingEffortProtocol": EFFORT_PROTOCOL,
            "samplingEffortValue": duration,
            "samplingEffortUnit": EFFORT_UNIT if duration else None,
            "eventDurationValue": duration,
            "eventDurationUnit": DURATION_UNIT if duration else None,
        }


TABLE = Table(
    "humboldt.txt",
    ECO + "Event",
    COLUMNS,
    rows=by_name(COLUMNS, rows),
    doc="Humboldt extension: protocol and taxonomic scope of every event, effort of each capture session.",
)
