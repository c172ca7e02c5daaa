"""event.txt (Event core): the project's root event, one event per deployment (a station over
its period), one per capture session (a night); parentEventID links them."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Max, Min

from dwca_port.tables.base import DCTERMS, DWC, Column, Table, by_name
from dwca_port.tables.context import ExportContext
from dwca_port.tables.darwin_core.common import CHUNK, EVENT, SAMPLING_PROTOCOL, decimal, hours, interval
from dwca_port.tables.darwin_core.country import country_codes
from dwca_port.values import Kind

EVENT_TYPES = ("Project", "Survey", "Sample")  # root, deployment, capture session

COLUMNS = (
    Column(DWC + "eventID", Kind.UUID, required=True, unique=True, doc="UUID of the project, deployment or session."),
    Column(
        DWC + "parentEventID",
        Kind.UUID,
        references=EVENT,
        doc="The deployment of a session; the project of a deployment.",
    ),
    Column(
        DWC + "eventType",
        Kind.TEXT,
        required=True,
        vocabulary=EVENT_TYPES,
        doc="Project (root), Survey (deployment) or Sample (capture session).",
    ),
    Column(DWC + "eventDate", Kind.EVENT_DATE, doc="First to last capture, local time with UTC offset."),
    Column(DWC + "samplingProtocol", Kind.TEXT, required=True),
    Column(DWC + "sampleSizeValue", Kind.DECIMAL, doc="Duration of a session in hours."),
    Column(DWC + "sampleSizeUnit", Kind.TEXT, doc="hour"),
    Column(DWC + "samplingEffort", Kind.TEXT, doc="Captures taken (and nights, for a deployment)."),
    Column(DWC + "locationID", Kind.UUID, doc="The station: UUID of the deployment (of a session's deployment)."),
    Column(DWC + "locality", Kind.TEXT, doc="The station's name, then its research site's: `Station 3, Field site`."),
    Column(
        DWC + "countryCode",
        Kind.TEXT,
        doc="ISO 3166-1 alpha-2 of the station, only where one country lies within 5 km of it (docs/publishing.md).",
    ),
    Column(DWC + "decimalLatitude", Kind.DECIMAL),
    Column(DWC + "decimalLongitude", Kind.DECIMAL),
    Column(DWC + "geodeticDatum", Kind.TEXT, doc="WGS84 when coordinates are given."),
    Column(DWC + "eventRemarks", Kind.TEXT, doc="Deployment description."),
    Column(DCTERMS + "license", Kind.URI, doc="The dataset licence."),
    Column(DCTERMS + "rightsHolder", Kind.TEXT),
)


def _place(deployment, countries: dict) -> dict[str, str | None]:
    site = deployment.research_site
    located = deployment.latitude is not None and deployment.longitude is not None
    return {
        "locationID": str(deployment.uuid),
        "locality": ", ".join(name for name in (deployment.name, site.name if site else "") if name) or None,
        "countryCode": countries.get((deployment.latitude, deployment.longitude)) if located else None,
        "decimalLatitude": decimal(deployment.latitude),
        "decimalLongitude": decimal(deployment.longitude),
        "geodeticDatum": "WGS84" if located else None,
    }


def rows(context: ExportContext) -> Iterator[dict]:
    project = context.project
    rights = {"license": context.licence_url, "rightsHolder": project.rights_holder or None}
    protocol = {"samplingProtocol": SAMPLING_PROTOCOL}
    captures = context.captures()
    span = captures.aggregate(first=Min("timestamp"), last=Max("timestamp"), n=Count("pk"))
    yield {
        "eventID": str(project.uuid),
        "eventType": "Project",
        "eventDate": interval(span["first"], span["last"]),
        **protocol,
        "samplingEffort": f"{span['n']} captures" if span["n"] else None,
        **rights,
    }

    per_deployment = {
        row["deployment"]: row
        for row in captures.values("deployment").annotate(
            first=Min("timestamp"), last=Max("timestamp"), n=Count("pk"), nights=Count("event", distinct=True)
        )
    }
    countries = country_codes(
        (d.latitude, d.longitude) for d in context.deployments if d.latitude is not None and d.longitude is not None
    )
    places = {}
    for deployment in context.deployments:
        stats = per_deployment.get(deployment.pk, {})
        places[deployment.pk] = _place(deployment, countries)
        yield {
            "eventID": str(deployment.uuid),
            "parentEventID": str(project.uuid),
            "eventType": "Survey",
            "eventDate": interval(stats.get("first"), stats.get("last")),
            **protocol,
            "samplingEffort": f"{stats['n']} captures over {stats['nights']} nights" if stats.get("n") else None,
            **places[deployment.pk],
            "eventRemarks": deployment.description or None,
            **rights,
        }

    sessions = context.sessions().order_by("uuid").annotate(n=Count("captures"))
    for event in sessions.iterator(chunk_size=CHUNK):
        duration = hours(event.start, event.end)
        yield {
            "eventID": str(event.uuid),
            "parentEventID": str(context.deployment_uuids.get(event.deployment_id, project.uuid)),
            "eventType": "Sample",
            "eventDate": interval(event.start, event.end),
            **protocol,
            "sampleSizeValue": duration,
            "sampleSizeUnit": "hour" if duration else None,
            "samplingEffort": f"{event.n} captures",
            **places.get(event.deployment_id, {}),
            **rights,
        }


TABLE = Table(
    "event.txt",
    EVENT,
    COLUMNS,
    core=True,
    identifier_term=DWC + "eventID",
    rows=by_name(COLUMNS, rows),
    doc="Event core: the project, its deployments and capture sessions.",
)
