"""observations.csv: each published occurrence (the DwC-A's occurrence.txt) seen on the package's
media, once at event level (its determination, from its first to its last capture) and once per
detection at media level (the detection's box and its top classification). eventID is the
occurrence's UUID on both, which links a detection to its individual.

Who classified follows the evidence rule (tables/evidence.py): at event level the standing human
identification (named by role), else the best machine classification; at media level the
detection's top classification.

Each column's `sql` reads r, one row of observations_sql's union of both levels.
"""

from __future__ import annotations

from collections.abc import Iterator

from dwca_port.postgres.cells import compiled, text_sql
from dwca_port.tables.base import Statement, Table, by_name
from dwca_port.tables.camtrap.common import (
    SMALLEST_BOX,
    field,
    instant,
    instant_sql,
    packaged_media,
    probability,
    probability_sql,
    schema_url,
)
from dwca_port.tables.camtrap.deployments import TABLE as DEPLOYMENTS
from dwca_port.tables.camtrap.media import TABLE as MEDIA
from dwca_port.tables.context import ExportContext
from dwca_port.tables.darwin_core.common import published_ctes
from dwca_port.values import Kind, format_float, local_instant

LEVELS = ("event", "media")
TYPES = ("animal", "unclassified")  # of the standard's: a determination, else no name yet
METHODS = ("human", "machine")

COLUMNS = (
    field(
        "observationID",
        Kind.UUID,
        "UUID of the occurrence (event level) or of the detection (media level).",
        required=True,
        unique=True,
        sql="r.id::text",
    ),
    field(
        "deploymentID",
        Kind.UUID,
        "The deployment of the capture (event level: of its first capture).",
        required=True,
        references=DEPLOYMENTS.row_type,
        sql="r.deployment::text",
    ),
    field(
        "mediaID",
        Kind.UUID,
        "Media level: UUID of the detection's capture.",
        references=MEDIA.row_type,
        sql="r.media::text",
    ),
    field("eventID", Kind.UUID, "UUID of the occurrence, on both levels.", sql="r.event::text"),
    field(
        "eventStart",
        Kind.DATETIME,
        "Event level: the first capture it was detected on; media level: the capture's time.",
        required=True,
        sql=instant_sql("r.first"),
    ),
    field(
        "eventEnd",
        Kind.DATETIME,
        "Event level: the last capture it was detected on; media level: the capture's time.",
        required=True,
        sql=instant_sql("r.last"),
    ),
    field("observationLevel", doc="`event` or `media`.", required=True, vocabulary=LEVELS, sql="r.level"),
    field(
        "observationType",
        doc="`animal` when named; `unclassified` for a detection without a classification.",
        required=True,
        vocabulary=TYPES,
        sql="r.type",
    ),
    field("cameraSetupType", sql="NULL"),
    field(
        "scientificName",
        doc="Event level: the determination; media level: the top classification's taxon.",
        sql=text_sql("r.name"),
    ),
    field("count", Kind.INTEGER, "1: an occurrence is one individual, a detection shows one.", sql="'1'"),
    field("lifeStage", sql="NULL"),
    field("sex", sql="NULL"),
    field("behavior", sql="NULL"),
    field("individualID", sql="NULL"),
    field("individualPositionRadius", Kind.DECIMAL, sql="NULL"),
    field("individualPositionAngle", Kind.DECIMAL, sql="NULL"),
    field("individualSpeed", Kind.DECIMAL, sql="NULL"),
    *(
        field(
            name,
            Kind.DECIMAL,
            f"Media level: {meaning} of the detection's box as a fraction of the capture's {side}; "
            "the four only when the box and the capture's size are known and every fraction is in range.",
            sql=f"(r.{alias})::text",
        )
        for name, alias, meaning, side in (
            ("bboxX", "x", "left edge", "width"),
            ("bboxY", "y", "top edge", "height"),
            ("bboxWidth", "w", "width", "width"),
            ("bboxHeight", "h", "height", "height"),
        )
    ),
    field(
        "classificationMethod",
        doc="`human` for a standing identification by a project member, else `machine` when a classifier named it.",
        vocabulary=METHODS,
        sql="r.method",
    ),
    field(
        "classifiedBy",
        doc="The classifier (name and version), or the identifier's role: never a person's name.",
        sql=text_sql("r.classifier"),
    ),
    field(
        "classificationTimestamp",
        Kind.DATETIME,
        "When the identification or classification was made, local time with UTC offset.",
        sql=instant_sql("r.classified"),
    ),
    field(
        "classificationProbability",
        Kind.DECIMAL,
        "A machine's score, when it is between 0 and 1 (event level: the determination score).",
        sql=probability_sql("r.score"),
    ),
    field("observationTags", sql="NULL"),
    field("observationComments", sql="NULL"),
)


def box(bbox, width, height) -> dict[str, str]:
    """A detection's box [x1, y1, x2, y2] in pixels as fractions of the capture's size; nothing
    unless all four are known and in the standard's ranges."""
    numbers = isinstance(bbox, list) and len(bbox) == 4
    numbers = numbers and all(isinstance(v, int | float) and not isinstance(v, bool) for v in bbox)
    if not numbers or not width or not height or width <= 0 or height <= 0:
        return {}
    x1, y1, x2, y2 = (float(v) for v in bbox)
    x, y, w, h = x1 / width, y1 / height, (x2 - x1) / width, (y2 - y1) / height
    if not (0 <= x <= 1 and 0 <= y <= 1 and SMALLEST_BOX <= w <= 1 and SMALLEST_BOX <= h <= 1):
        return {}
    return {
        "bboxX": format_float(x),
        "bboxY": format_float(y),
        "bboxWidth": format_float(w),
        "bboxHeight": format_float(h),
    }


def rows(context: ExportContext) -> Iterator[dict]:
    media = packaged_media(context)
    for chunk in context.published_occurrence_chunks():
        evidence = context.evidence(chunk)
        deployment_of = {
            str(capture): str(deployment)
            for capture, deployment in media.filter(detections__occurrence__in=[o.pk for o in chunk])
            .values_list("uuid", "deployment__uuid")
            .distinct()
        }
        for occurrence in chunk:
            seen = [d for d in evidence.detections.get(occurrence.pk, ()) if d.capture.uuid in deployment_of]
            if not seen:
                continue
            first = min(seen, key=lambda d: (local_instant(d.capture.timestamp), d.uuid))  # (as timestamptz orders)
            human = evidence.identifications.get(occurrence.pk)
            best = evidence.best.get(occurrence.pk)
            event = str(occurrence.uuid)
            row = {
                "observationID": event,
                "deploymentID": deployment_of[first.capture.uuid],
                "eventID": event,
                "eventStart": instant(first.capture.timestamp),
                "eventEnd": instant(max((d.capture.timestamp for d in seen), key=local_instant)),
                "observationLevel": "event",
                "observationType": "animal",
                "scientificName": occurrence.determination.name or None,
                "count": "1",
            }
            if human:
                row.update(classificationMethod="human", classifiedBy=human.role)
                row["classificationTimestamp"] = instant(human.created_at)
            elif best:
                row.update(classificationMethod="machine", classifiedBy=best.algorithm)
                row["classificationTimestamp"] = instant(best.timestamp)
                row["classificationProbability"] = probability(occurrence.determination_score)
            yield row
            for detection in seen:
                top = evidence.top_classification.get(detection.pk)
                label = top.label if top else None
                yield {
                    "observationID": detection.uuid,
                    "deploymentID": deployment_of[detection.capture.uuid],
                    "mediaID": detection.capture.uuid,
                    "eventID": event,
                    "eventStart": instant(detection.capture.timestamp),
                    "eventEnd": instant(detection.capture.timestamp),
                    "observationLevel": "media",
                    "observationType": "animal" if label else "unclassified",
                    "scientificName": label or None,
                    "count": "1",
                    **box(detection.bbox, detection.capture.width, detection.capture.height),
                    "classificationMethod": "machine" if top else None,
                    "classifiedBy": top.algorithm if top else None,
                    "classificationTimestamp": instant(top.timestamp) if top else None,
                    "classificationProbability": probability(top.score) if top else None,
                }


def _fraction(index: int, size: str, start: int | None = None) -> str:
    """SQL of box()'s fractions (the caller checks the box's shape first)."""
    value = f"(s.bbox->>{index})::float8"
    return f"({value} - (s.bbox->>{start})::float8) / s.{size}" if start is not None else f"{value} / s.{size}"


def observations_sql(context: ExportContext) -> list[Statement]:
    ctes, params = published_ctes(context)
    packaged, packaged_params = compiled(packaged_media(context).values("pk"))
    t = context.db_tables
    shape = " AND ".join(
        ["jsonb_array_length(s.bbox) = 4", *(f"jsonb_typeof(s.bbox->{i}) = 'number'" for i in range(4))]
    )
    fractions = {"x": _fraction(0, "width"), "y": _fraction(1, "height")}
    fractions |= {"w": _fraction(2, "width", 0), "h": _fraction(3, "height", 1)}
    boxed = ", ".join(
        f"CASE WHEN jsonb_typeof(s.bbox) = 'array' THEN CASE WHEN {shape} AND s.width > 0 AND s.height > 0 "
        f"THEN {expression} END END AS {alias}"
        for alias, expression in fractions.items()
    )
    in_range = (
        f"b.x BETWEEN 0 AND 1 AND b.y BETWEEN 0 AND 1 AND b.w BETWEEN {SMALLEST_BOX} AND 1 "
        f"AND b.h BETWEEN {SMALLEST_BOX} AND 1"
    )
    human, machine = "h.occurrence_id IS NOT NULL", "b.occurrence_id IS NOT NULL"
    sql = f"""
        WITH {ctes},
        packaged(id) AS ({packaged}),
        shots AS (
            SELECT d.id, d.uuid, d.occurrence_id, d.bbox, si.uuid AS media, si.timestamp AS at,
                   si.width, si.height, dep.uuid AS deployment
            FROM {t["detection"]} d JOIN pub ON pub.id = d.occurrence_id
                 JOIN {t["source_image"]} si ON si.id = d.source_image_id JOIN packaged p ON p.id = si.id
                 JOIN {t["deployment"]} dep ON dep.id = si.deployment_id),
        span AS (
            SELECT occurrence_id, min(at) AS first, max(at) AS last,
                   (array_agg(deployment ORDER BY at, uuid))[1] AS deployment
            FROM shots GROUP BY occurrence_id),
        boxes AS (SELECT s.id, {boxed} FROM shots s),
        r AS (
            SELECT occ.uuid AS k, 0 AS level_order, occ.uuid AS id, span.deployment, NULL::uuid AS media,
                   occ.uuid AS event, span.first, span.last, 'event' AS level, 'animal' AS type, tx.name,
                   CASE WHEN {human} THEN 'human' WHEN {machine} THEN 'machine' END AS method,
                   CASE WHEN {human} THEN h.role ELSE b.algorithm END AS classifier,
                   CASE WHEN {human} THEN h.created_at ELSE b.timestamp END AS classified,
                   CASE WHEN {human} THEN NULL WHEN {machine} THEN occ.determination_score END AS score,
                   NULL::float8 AS x, NULL::float8 AS y, NULL::float8 AS w, NULL::float8 AS h
            FROM occ JOIN span ON span.occurrence_id = occ.id JOIN {t["taxon"]} tx ON tx.id = occ.determination_id
                 LEFT JOIN human h ON h.occurrence_id = occ.id LEFT JOIN best b ON b.occurrence_id = occ.id
            UNION ALL
            SELECT occ.uuid, 1, s.uuid, s.deployment, s.media, occ.uuid, s.at, s.at, 'media',
                   CASE WHEN top.label IS NOT NULL THEN 'animal' ELSE 'unclassified' END, top.label,
                   CASE WHEN top.detection_id IS NOT NULL THEN 'machine' END, top.algorithm, top.timestamp, top.score,
                   CASE WHEN {in_range} THEN b.x END, CASE WHEN {in_range} THEN b.y END,
                   CASE WHEN {in_range} THEN b.w END, CASE WHEN {in_range} THEN b.h END
            FROM shots s JOIN occ ON occ.id = s.occurrence_id JOIN boxes b ON b.id = s.id
                 LEFT JOIN top ON top.detection_id = s.id)
        SELECT {", ".join(column.sql for column in COLUMNS)}
        FROM r ORDER BY r.k, r.level_order, r.id
    """
    return [(sql, [*params, *packaged_params])]


TABLE = Table(
    "observations.csv",
    schema_url("observations"),
    COLUMNS,
    identifier_term=COLUMNS[0].term,
    rows=by_name(COLUMNS, rows),
    sql=observations_sql,
    doc="Published occurrences at event level and their detections at media level.",
)
