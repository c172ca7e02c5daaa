"""deployments.csv: each station (deployment) that has captures in the package, located by its
coordinates, from its first to its last capture. A few rows per project: Python only."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Max, Min

from dwca_port.tables.base import Table, by_name
from dwca_port.tables.camtrap.common import field, instant, packaged_media, schema_url
from dwca_port.tables.context import ExportContext
from dwca_port.tables.darwin_core.common import decimal
from dwca_port.values import Kind

# An AMI trap attracts insects with light (not bait): said once, as a tag of every deployment.
ATTRACTANT_TAG = "attractant:light"

COLUMNS = (
    field("deploymentID", Kind.UUID, "UUID of the deployment.", required=True, unique=True),
    field("locationID", Kind.UUID, "The station: UUID of the deployment (as event.txt's locationID)."),
    field("locationName", doc="The deployment's name, then its research site's: `Station 3, Field site`."),
    field("latitude", Kind.DECIMAL, "The deployment's latitude (WGS84).", required=True),
    field("longitude", Kind.DECIMAL, "The deployment's longitude (WGS84).", required=True),
    field("coordinateUncertainty", Kind.INTEGER, "Not recorded by Antenna: empty."),
    field("deploymentStart", Kind.DATETIME, "Its first packaged capture, local time with UTC offset.", required=True),
    field("deploymentEnd", Kind.DATETIME, "Its last packaged capture, local time with UTC offset.", required=True),
    field("setupBy", doc="Empty: the toolkit never publishes a person's name."),
    field("cameraID", Kind.UUID, "UUID of the deployment's device, when it has one."),
    field("cameraModel", doc="Name of the deployment's device (trap and camera)."),
    field("cameraDelay", Kind.INTEGER),
    field("cameraHeight", Kind.DECIMAL),
    field("cameraDepth", Kind.DECIMAL),
    field("cameraTilt", Kind.INTEGER),
    field("cameraHeading", Kind.INTEGER),
    field("detectionDistance", Kind.DECIMAL),
    field("timestampIssues", Kind.BOOLEAN),
    field("baitUse", Kind.BOOLEAN, "false: a light trap attracts with light, not bait (see deploymentTags)."),
    field("featureType", doc="Empty: none of the standard's features (roads, trails, burrows...) applies."),
    field("habitat", doc="The research site's description, when it has one."),
    field("deploymentGroups", doc="`site:<research site name>`, when the deployment has a site."),
    field("deploymentTags", doc=f"`{ATTRACTANT_TAG}`."),
    field("deploymentComments", doc="The deployment's description."),
)


def rows(context: ExportContext) -> Iterator[dict]:
    spans = {
        row["deployment"]: row
        for row in packaged_media(context).values("deployment").annotate(first=Min("timestamp"), last=Max("timestamp"))
    }
    for deployment in context.deployments:  # (in UUID order)
        span = spans.get(deployment.pk)
        if span is None:
            continue
        site, device = deployment.research_site, deployment.device
        yield {
            "deploymentID": str(deployment.uuid),
            "locationID": str(deployment.uuid),
            "locationName": ", ".join(name for name in (deployment.name, site.name if site else "") if name) or None,
            "latitude": decimal(deployment.latitude),
            "longitude": decimal(deployment.longitude),
            "deploymentStart": instant(span["first"]),
            "deploymentEnd": instant(span["last"]),
            "cameraID": str(device.uuid) if device else None,
            "cameraModel": device.name or None if device else None,
            "baitUse": "false",
            "habitat": (site.description or None) if site else None,
            "deploymentGroups": f"site:{site.name}" if site and site.name else None,
            "deploymentTags": ATTRACTANT_TAG,
            "deploymentComments": deployment.description or None,
        }


TABLE = Table(
    "deployments.csv",
    schema_url("deployments"),
    COLUMNS,
    identifier_term=COLUMNS[0].term,
    rows=by_name(COLUMNS, rows),
    doc="Deployments (stations) with coordinates and captures.",
)
