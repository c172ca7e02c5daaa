"""What the Darwin Core tables share: their row types, the sampling protocol, value helpers."""

from __future__ import annotations

import datetime

from django.core.exceptions import EmptyResultSet

from dwca_port.postgres.cells import compiled
from dwca_port.tables.base import DWC, Column, Statement
from dwca_port.tables.context import ExportContext
from dwca_port.tables.evidence import evidence_ctes
from dwca_port.values import Kind, format_float, local_instant, with_offset

EVENT = DWC + "Event"
OCCURRENCE = DWC + "Occurrence"
CHUNK = 2000

SAMPLING_PROTOCOL = (
    "Automated light trap with a time-lapse camera; insects detected and classified by machine learning (Antenna)"
)


# The key column of the extensions whose definitions lack dwc:eventID (Humboldt, eMoF, Simple
# Multimedia): named eventID in the header, so that readers join files by name, and mapped in
# meta.xml as the coreid only.
EXTENSION_KEY = Column(
    DWC + "eventID",
    Kind.UUID,
    required=True,
    references=EVENT,
    mapped=False,
    doc="The core event (coreid; header only: the extension does not define dwc:eventID).",
)


def publisher_name(project) -> str:
    """Who publishes the project's data: its rights holder, else its organisation, else the project."""
    if project.rights_holder.strip():
        return project.rights_holder.strip()
    if project.organization_id:
        return project.organization.name
    return f"Antenna project {project.name}"


def utc_instant(value: datetime.datetime | None) -> str | None:
    """When something was done (not observed): UTC to the second, e.g. 2022-06-25T13:00:00Z.
    One offset for every row, so readers parse the column without mixing offsets."""
    if value is None:
        return None
    return local_instant(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_instant_sql(expression: str) -> str:
    """utc_instant in SQL (to_char truncates the fraction, as strftime does)."""
    return f"""to_char(({expression}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""


def moments(start, end) -> tuple:
    """The span from `start` to `end` as its distinct moments: none, one (the same instant, or no
    end) or both. Instants, not wall times, say whether they are one (the autumn hour repeats)."""
    if start is None:
        return ()
    if end is None or local_instant(end) == local_instant(start):
        return (start,)
    return (start, end)


def interval(start, end) -> str | None:
    """An ISO 8601 instant or interval, local time with its UTC offset."""
    return "/".join(with_offset(moment) for moment in moments(start, end)) or None


def decimal(value) -> str | None:
    return None if value is None else format_float(float(value))


def hours(start, end) -> str | None:
    if start is None or end is None:
        return None
    return format_float(round((end - start).total_seconds() / 3600, 2))


def published_ctes(context: ExportContext) -> Statement:
    """SQL common table expressions over the published occurrences: the evidence rule's (pub,
    human, ranked, top, best; tables/evidence.py) and occ, each published occurrence with the
    core event it hangs from (its session, else its deployment, else the project)."""
    try:
        published = compiled(context.published_occurrences().values("pk"))
    except EmptyResultSet:
        published = ("SELECT NULL::bigint WHERE false", [])
    t = context.db_tables
    ctes, params = evidence_ctes(published, context.roles, t)
    occ = f""",
        occ AS (
            SELECT o.id, o.uuid, o.determination_id, o.determination_score,
                   COALESCE(e.uuid, dep.uuid, %s::uuid)::text AS event_id
            FROM {t["occurrence"]} o JOIN pub ON pub.id = o.id
                 LEFT JOIN {t["event"]} e ON e.id = o.event_id
                 LEFT JOIN {t["deployment"]} dep ON dep.id = o.deployment_id AND dep.project_id = %s)
    """
    return ctes + occ, [*params, str(context.project.uuid), context.project.pk]
