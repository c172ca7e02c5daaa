"""measurementorfact.txt (OBIS extended MeasurementOrFact): the scores and bounding boxes of
published occurrences and their detections, each row with its occurrenceID."""

from __future__ import annotations

from collections.abc import Iterator

from dwca_port.postgres.cells import offset_datetime_sql as offset
from dwca_port.postgres.cells import text_sql
from dwca_port.tables.base import DWC, OBIS, Column, Statement, Table, by_name
from dwca_port.tables.context import ExportContext
from dwca_port.tables.darwin_core.common import EVENT, OCCURRENCE, published_ctes
from dwca_port.tables.evidence import algorithm_label_sql
from dwca_port.values import Kind, canonical_json, format_float, with_offset

COLUMNS = (
    Column(DWC + "eventID", Kind.UUID, required=True, references=EVENT),
    Column(
        DWC + "measurementID",
        Kind.TEXT,
        required=True,
        unique=True,
        doc="The occurrence's or detection's UUID with the measurement's name: stable.",
    ),
    Column(DWC + "occurrenceID", Kind.UUID, required=True, references=OCCURRENCE),
    Column(
        DWC + "measurementType",
        Kind.TEXT,
        required=True,
        vocabulary=("determination score", "bounding box", "detection score", "classification score"),
    ),
    Column(DWC + "measurementValue", Kind.TEXT, required=True),
    Column(DWC + "measurementUnit", Kind.TEXT),
    Column(DWC + "measurementDeterminedDate", Kind.DATETIME),
    Column(DWC + "measurementMethod", Kind.TEXT),
    Column(DWC + "measurementRemarks", Kind.TEXT),
)
DETERMINATION_REMARKS = "Score of the occurrence's determination (1 for a human identification)."
BBOX_REMARKS = "x1, y1, x2, y2 on the capture, origin top left"


def rows(context: ExportContext) -> Iterator[dict]:
    for chunk in context.published_occurrence_chunks():
        evidence = context.evidence(chunk)
        for occurrence in chunk:
            occurrence_id = str(occurrence.uuid)
            common = {"eventID": str(context.core_event(occurrence)), "occurrenceID": occurrence_id}
            best = evidence.best.get(occurrence.pk)
            if occurrence.determination_score is not None:
                machine = best and occurrence.pk not in evidence.identifications
                yield {
                    **common,
                    "measurementID": f"{occurrence_id}:determination-score",
                    "measurementType": "determination score",
                    "measurementValue": format_float(occurrence.determination_score),
                    "measurementMethod": best.algorithm if machine else "human identification",
                    "measurementRemarks": DETERMINATION_REMARKS,
                }
            for detection in evidence.detections.get(occurrence.pk, ()):
                when = with_offset(detection.timestamp) if detection.timestamp else None
                by_detector = {**common, "measurementDeterminedDate": when, "measurementMethod": detection.algorithm}
                if detection.bbox is not None:
                    yield {
                        **by_detector,
                        "measurementID": f"{detection.uuid}:bbox",
                        "measurementType": "bounding box",
                        "measurementValue": canonical_json(detection.bbox),
                        "measurementUnit": "pixels",
                        "measurementRemarks": BBOX_REMARKS,
                    }
                if detection.detection_score is not None:
                    yield {
                        **by_detector,
                        "measurementID": f"{detection.uuid}:detection-score",
                        "measurementType": "detection score",
                        "measurementValue": format_float(detection.detection_score),
                    }
                top = evidence.top_classification.get(detection.pk)
                if top is not None and top.score is not None:
                    yield {
                        **common,
                        "measurementID": f"{detection.uuid}:classification-score",
                        "measurementType": "classification score",
                        "measurementValue": format_float(top.score),
                        "measurementDeterminedDate": with_offset(top.timestamp),
                        "measurementMethod": top.algorithm,
                        "measurementRemarks": f"top label: {top.label}",
                    }


def measurement_sql(context: ExportContext) -> list[Statement]:
    ctes, params = published_ctes(context)
    t = context.db_tables
    # Sort keys: occurrence, then its determination score (0) before its detections (1) in
    # UUID order, each with its bounding box (0), detection score (1), classification score (2).
    sql = f"""
        WITH {ctes},
        dets AS (
            SELECT d.id, d.uuid, d.occurrence_id, d.bbox, d.detection_score, {offset("d.timestamp")} AS at,
                   {algorithm_label_sql("a")} AS algorithm
            FROM {t["detection"]} d JOIN pub ON pub.id = d.occurrence_id
                 LEFT JOIN {t["algorithm"]} a ON a.id = d.detection_algorithm_id)
        SELECT event_id, id, occurrence_id, kind, value, unit, at, {text_sql("method")}, remarks FROM (
            SELECT occ.uuid AS k0, 0 AS k1, NULL::uuid AS k2, 0 AS k3, occ.event_id,
                   occ.uuid::text || ':determination-score' AS id, occ.uuid::text AS occurrence_id,
                   'determination score' AS kind, occ.determination_score::text AS value, NULL AS unit, NULL AS at,
                   CASE WHEN b.occurrence_id IS NOT NULL AND h.occurrence_id IS NULL
                        THEN b.algorithm ELSE 'human identification' END AS method,
                   '{DETERMINATION_REMARKS.replace("'", "''")}' AS remarks
            FROM occ LEFT JOIN best b ON b.occurrence_id = occ.id LEFT JOIN human h ON h.occurrence_id = occ.id
            WHERE occ.determination_score IS NOT NULL
          UNION ALL
            SELECT occ.uuid, 1, dets.uuid, 0, occ.event_id, dets.uuid::text || ':bbox', occ.uuid::text,
                   'bounding box', dets.bbox::text, 'pixels', dets.at, dets.algorithm, '{BBOX_REMARKS}'
            FROM dets JOIN occ ON occ.id = dets.occurrence_id
            WHERE dets.bbox IS NOT NULL AND jsonb_typeof(dets.bbox) <> 'null'
          UNION ALL
            SELECT occ.uuid, 1, dets.uuid, 1, occ.event_id, dets.uuid::text || ':detection-score', occ.uuid::text,
                   'detection score', dets.detection_score::text, NULL, dets.at, dets.algorithm, NULL
            FROM dets JOIN occ ON occ.id = dets.occurrence_id
            WHERE dets.detection_score IS NOT NULL
          UNION ALL
            SELECT occ.uuid, 1, dets.uuid, 2, occ.event_id, dets.uuid::text || ':classification-score',
                   occ.uuid::text, 'classification score', top.score::text, NULL, {offset("top.timestamp")},
                   top.algorithm, 'top label: ' || COALESCE(top.label, 'None')
            FROM dets JOIN occ ON occ.id = dets.occurrence_id JOIN top ON top.detection_id = dets.id
            WHERE top.score IS NOT NULL
        ) m
        ORDER BY k0, k1, k2, k3
    """
    return [(sql, params)]


TABLE = Table(
    "measurementorfact.txt",
    OBIS + "ExtendedMeasurementOrFact",
    COLUMNS,
    identifier_term=DWC + "measurementID",
    rows=by_name(COLUMNS, rows),
    sql=measurement_sql,
    doc="Scores and bounding boxes of published occurrences and their detections.",
)
