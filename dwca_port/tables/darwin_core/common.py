"""What the Darwin Core tables share: their row types, the sampling protocol, value helpers."""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet

from dwca_port.postgres.cells import compiled
from dwca_port.tables.base import DWC, Statement
from dwca_port.tables.context import ExportContext
from dwca_port.tables.evidence import evidence_ctes
from dwca_port.values import format_float, with_offset

EVENT = DWC + "Event"
OCCURRENCE = DWC + "Occurrence"
CHUNK = 2000

SAMPLING_PROTOCOL = (
    "Automated light trap with a time-lapse camera; insects detected and classified by machine learning (Antenna)"
)


def interval(start, end) -> str | None:
    """An ISO 8601 instant or interval, local time with its UTC offset."""
    if start is None:
        return None
    if end is None or end == start:
        return with_offset(start)
    return f"{with_offset(start)}/{with_offset(end)}"


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
