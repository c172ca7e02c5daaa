"""measurementorfact.txt (OBIS extended MeasurementOrFact): the scores and bounding boxes of
published occurrences and their detections, each row with its occurrenceID, every value a
number or a URI, every type and unit named by a URI (MEASURES).

Each detection has a row of its own, whose measurementID is the detection's UUID and whose value
is the capture it was found on (the eMoF extension has no column for a detection, nor a parent
measurement); its box and scores follow, their measurementIDs `<detection UUID>:<name>`. A box is
four rows: Audubon Core's region-of-interest fractions of the capture's width and height, or,
where the capture's size is unknown or the box does not lie inside it, its corners in pixels.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from dwca_port.postgres.cells import text_sql
from dwca_port.tables.base import AC, ANTENNA, DWC, OBIS, Column, Statement, Table, by_name
from dwca_port.tables.context import ExportContext
from dwca_port.tables.darwin_core.common import EXTENSION_KEY, OCCURRENCE, published_ctes, utc_instant, utc_instant_sql
from dwca_port.tables.evidence import DetectionEvidence, algorithm_label_sql, capture_url_sql
from dwca_port.values import Kind, format_float

NERC_UNITS = "http://vocab.nerc.ac.uk/collection/P06/current/"
DIMENSIONLESS = ("dimensionless", NERC_UNITS + "UUUU/")
NOT_APPLICABLE = (None, NERC_UNITS + "XXXX/")
PIXEL = ("pixel", ANTENNA + "pixel")


@dataclass(frozen=True)
class Measure:
    """One kind of row: its measurementID suffix, type and unit, each with its URI."""

    name: str
    type: str
    type_id: str
    unit: tuple[str | None, str]  # (measurementUnit, measurementUnitID)
    doc: str

    def cells(self, owner: str) -> dict[str, str | None]:
        return {
            "measurementID": f"{owner}:{self.name}" if self.name else owner,
            "measurementType": self.type,
            "measurementTypeID": self.type_id,
            "measurementUnit": self.unit[0],
            "measurementUnitID": self.unit[1],
        }


def _antenna(name: str, label: str, doc: str, unit=DIMENSIONLESS) -> Measure:
    return Measure(name, label, ANTENNA + name, unit, doc)


DETERMINATION_SCORE = _antenna(
    "determinationScore",
    "determination score",
    "Score in [0, 1] of the occurrence's determination: its best classification's, 1 for a human identification.",
)
CAPTURE = Measure(
    "",
    "region of interest of",
    AC + "isROIOf",
    NOT_APPLICABLE,
    "The detection itself (measurementID: its UUID): the capture it was found on, its public URL "
    "(else urn:uuid:<capture UUID>).",
)
FRACTIONS = tuple(
    Measure(name, label, AC + name, DIMENSIONLESS, doc)
    for name, label, doc in (
        ("xFrac", "bounding box left", "Left edge of the box, as a fraction of the capture's width from its left."),
        ("yFrac", "bounding box top", "Top edge of the box, as a fraction of the capture's height from its top."),
        ("widthFrac", "bounding box width", "Width of the box, as a fraction of the capture's width."),
        ("heightFrac", "bounding box height", "Height of the box, as a fraction of the capture's height."),
    )
)
PIXELS = tuple(
    _antenna(name, label, f"{label.capitalize()} of the box in pixels, origin top left of the capture.", PIXEL)
    for name, label in (
        ("bboxXMinPixels", "bounding box left x"),
        ("bboxYMinPixels", "bounding box top y"),
        ("bboxXMaxPixels", "bounding box right x"),
        ("bboxYMaxPixels", "bounding box bottom y"),
    )
)
DETECTION_SCORE = _antenna("detectionScore", "detection score", "Score in [0, 1] the detector gave the box.")
CLASSIFICATION_SCORE = _antenna(
    "classificationScore", "classification score", "Score in [0, 1] of the detection's top classification."
)
MEASURES = (DETERMINATION_SCORE, CAPTURE, *FRACTIONS, *PIXELS, DETECTION_SCORE, CLASSIFICATION_SCORE)

COLUMNS = (
    EXTENSION_KEY,
    Column(
        DWC + "measurementID",
        Kind.TEXT,
        required=True,
        unique=True,
        doc="A detection's UUID on its own row; `<occurrence or detection UUID>:<type>` on the others: stable.",
    ),
    Column(DWC + "occurrenceID", Kind.UUID, required=True, references=OCCURRENCE),
    Column(DWC + "measurementType", Kind.TEXT, required=True, vocabulary=tuple(m.type for m in MEASURES)),
    Column(OBIS + "measurementTypeID", Kind.URI, required=True, vocabulary=tuple(m.type_id for m in MEASURES)),
    Column(DWC + "measurementValue", Kind.TEXT, required=True, doc="A number, or the capture's URI."),
    Column(DWC + "measurementUnit", Kind.TEXT),
    Column(OBIS + "measurementUnitID", Kind.URI, vocabulary=tuple(sorted({m.unit[1] for m in MEASURES}))),
    Column(DWC + "measurementDeterminedDate", Kind.DATETIME, doc="When the model ran, in UTC."),
    Column(DWC + "measurementMethod", Kind.TEXT, doc="The model (name and version), or human identification."),
    Column(DWC + "measurementRemarks", Kind.TEXT),
)
TOP_LABEL = "top label: "


def _box(bbox, capture) -> list[tuple[Measure, str]]:
    """A box [x1, y1, x2, y2] as four numeric rows: fractions when it lies inside a capture of
    known size with a positive area (Audubon Core allows no empty box), else pixels; none when
    it is not four numbers. Floats throughout, as the SQL form computes."""
    if not isinstance(bbox, list) or len(bbox) != 4:
        return []
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in bbox):
        return []
    x1, y1, x2, y2 = (float(v) for v in bbox)
    if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
        return []
    width, height = float(capture.width or 0), float(capture.height or 0)
    if width > 0 and height > 0 and 0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height:
        values = (x1 / width, y1 / height, (x2 - x1) / width, (y2 - y1) / height)
        return list(zip(FRACTIONS, map(format_float, values)))
    return list(zip(PIXELS, map(format_float, (x1, y1, x2, y2))))


def _detection_rows(detection: DetectionEvidence, top) -> Iterator[dict]:
    by_detector = {
        "measurementDeterminedDate": utc_instant(detection.detected_at),
        "measurementMethod": detection.algorithm,
    }
    capture = detection.capture
    yield {
        **CAPTURE.cells(detection.uuid),
        **by_detector,
        "measurementValue": capture.url or f"urn:uuid:{capture.uuid}",
    }
    for measure, value in _box(detection.bbox, capture):
        yield {**measure.cells(detection.uuid), **by_detector, "measurementValue": value}
    if detection.detection_score is not None:
        yield {
            **DETECTION_SCORE.cells(detection.uuid),
            **by_detector,
            "measurementValue": format_float(detection.detection_score),
        }
    if top is not None and top.score is not None:
        yield {
            **CLASSIFICATION_SCORE.cells(detection.uuid),
            "measurementValue": format_float(top.score),
            "measurementDeterminedDate": utc_instant(top.timestamp),
            "measurementMethod": top.algorithm,
            "measurementRemarks": f"{TOP_LABEL}{top.label}",
        }


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
                    **DETERMINATION_SCORE.cells(occurrence_id),
                    "measurementValue": format_float(occurrence.determination_score),
                    "measurementMethod": best.algorithm if machine else "human identification",
                }
            for detection in evidence.detections.get(occurrence.pk, ()):
                for row in _detection_rows(detection, evidence.top_classification.get(detection.pk)):
                    yield {**common, **row}


def _measure_sql(measure: Measure) -> str:
    """The type and unit cells of a measure, as SQL literals (measurementType ... measurementUnitID)."""

    def literal(value: str | None) -> str:
        return "NULL" if value is None else "'" + value.replace("'", "''") + "'"

    return ", ".join(map(literal, (measure.type, measure.type_id, measure.unit[0], measure.unit[1])))


def _detection_rows_sql() -> str:
    """The VALUES (k3, name, value, at, method, remarks) of one detection `b` (a row of `boxes`)
    with its top classification `top`, as _detection_rows gives them; a NULL value is no row."""
    inside = "b.inside"
    fractions = ("b.x1 / b.width", "b.y1 / b.height", "(b.x2 - b.x1) / b.width", "(b.y2 - b.y1) / b.height")
    pixels = ("b.x1", "b.y1", "b.x2", "b.y2")
    rows = [f"(0, '{CAPTURE.name}', b.capture, b.at, b.algorithm, NULL)"]
    for i in range(4):
        rows.append(
            f"({i + 1}, CASE WHEN {inside} THEN '{FRACTIONS[i].name}' ELSE '{PIXELS[i].name}' END, "
            f"CASE WHEN NOT b.boxed THEN NULL WHEN {inside} THEN ({fractions[i]})::text ELSE ({pixels[i]})::text END, "
            "b.at, b.algorithm, NULL)"
        )
    rows.append(f"(5, '{DETECTION_SCORE.name}', b.detection_score::text, b.at, b.algorithm, NULL)")
    rows.append(
        f"(6, '{CLASSIFICATION_SCORE.name}', top.score::text, {utc_instant_sql('top.timestamp')}, top.algorithm, "
        f"'{TOP_LABEL}' || COALESCE(top.label, 'None'))"
    )
    return ",\n".join(rows)


def measurement_sql(context: ExportContext) -> list[Statement]:
    ctes, params = published_ctes(context)
    t = context.db_tables
    measures = ", ".join(f"('{m.name}', {_measure_sql(m)})" for m in MEASURES)
    # A box is four numbers (as _box checks): CASE, not AND, so that no cast sees anything else.
    boxed = (
        "CASE WHEN jsonb_typeof(d.bbox) = 'array' THEN jsonb_array_length(d.bbox) = 4 AND NOT EXISTS "
        "(SELECT FROM jsonb_array_elements(d.bbox) e WHERE jsonb_typeof(e) <> 'number') ELSE false END"
    )
    corners = ", ".join(
        f"CASE WHEN boxed THEN (bbox->>{i})::float8 END AS {name}" for i, name in enumerate(("x1", "y1", "x2", "y2"))
    )
    # _box's test for fractions: a box with a positive area inside a capture of known size.
    inside = (
        "boxed AND width > 0 AND height > 0 AND 0 <= x1 AND x1 < x2 AND x2 <= width "
        "AND 0 <= y1 AND y1 < y2 AND y2 <= height"
    )
    # One pass over the detections, each expanded into its rows (materialized: inlined, every
    # reference to a cell would compute it again). Sort keys: occurrence, then its
    # determination score (0) before its detections (1) in UUID order, each with its own row (0),
    # box (1-4), detection score (5), classification score (6).
    sql = f"""
        WITH {ctes},
        measures(name, kind, kind_id, unit, unit_id) AS (VALUES {measures}),
        dets AS MATERIALIZED (
            SELECT d.id, d.uuid, d.occurrence_id, d.bbox, {boxed} AS boxed, d.detection_score,
                   {utc_instant_sql("d.detection_time")} AS at, {algorithm_label_sql("a")} AS algorithm,
                   COALESCE({capture_url_sql("si")}, 'urn:uuid:' || si.uuid::text) AS capture,
                   COALESCE(si.width, 0)::float8 AS width, COALESCE(si.height, 0)::float8 AS height
            FROM {t["detection"]} d JOIN pub ON pub.id = d.occurrence_id
                 JOIN {t["source_image"]} si ON si.id = d.source_image_id
                 LEFT JOIN {t["algorithm"]} a ON a.id = d.detection_algorithm_id),
        corners AS MATERIALIZED (SELECT dets.*, {corners} FROM dets),
        boxes AS MATERIALIZED (SELECT corners.*, COALESCE({inside}, false) AS inside FROM corners),
        m AS (
            SELECT occ.uuid AS k0, 0 AS k1, NULL::uuid AS k2, 0 AS k3, occ.event_id, occ.uuid::text AS owner,
                   occ.uuid::text AS occurrence_id, '{DETERMINATION_SCORE.name}' AS name,
                   occ.determination_score::text AS value, NULL AS at,
                   CASE WHEN b.occurrence_id IS NOT NULL AND h.occurrence_id IS NULL
                        THEN b.algorithm ELSE 'human identification' END AS method, NULL AS remarks
            FROM occ LEFT JOIN best b ON b.occurrence_id = occ.id LEFT JOIN human h ON h.occurrence_id = occ.id
            WHERE occ.determination_score IS NOT NULL
          UNION ALL
            SELECT occ.uuid, 1, b.uuid, r.k3, occ.event_id, b.uuid::text, occ.uuid::text, r.name, r.value,
                   r.at, r.method, r.remarks
            FROM boxes b JOIN occ ON occ.id = b.occurrence_id LEFT JOIN top ON top.detection_id = b.id
                 CROSS JOIN LATERAL (VALUES {_detection_rows_sql()}) AS r(k3, name, value, at, method, remarks)
            WHERE r.value IS NOT NULL
        )
        SELECT m.event_id, CASE WHEN m.name = '' THEN m.owner ELSE m.owner || ':' || m.name END, m.occurrence_id,
               ms.kind, ms.kind_id, m.value, ms.unit, ms.unit_id, m.at, {text_sql("m.method")}, m.remarks
        FROM m JOIN measures ms ON ms.name = m.name
        ORDER BY m.k0, m.k1, m.k2, m.k3
    """
    return [(sql, params)]


def _measures_doc() -> str:
    lines = [
        "Measurements: `measurementType` and its `measurementTypeID`, the unit and its `measurementUnitID`. "
        f"Antenna's own terms (`{ANTENNA}...`) are used only where no standard vocabulary has one: "
        "Audubon Core for regions of interest, NERC P06 for units.",
        "",
        "| measurementID | measurementType | measurementTypeID | unit | measurementUnitID | Definition |",
        "|---|---|---|---|---|---|",
    ]
    for m in MEASURES:
        owner = (
            "`<detection>`"
            if m in (CAPTURE, *FRACTIONS, *PIXELS, DETECTION_SCORE, CLASSIFICATION_SCORE)
            else "`<occurrence>`"
        )
        suffix = f"`:{m.name}`" if m.name else ""
        lines.append(f"| {owner}{suffix} | {m.type} | `{m.type_id}` | {m.unit[0] or ''} | `{m.unit[1]}` | {m.doc} |")
    return "\n".join(lines)


TABLE = Table(
    "measurementorfact.txt",
    OBIS + "ExtendedMeasurementOrFact",
    COLUMNS,
    identifier_term=DWC + "measurementID",
    rows=by_name(COLUMNS, rows),
    sql=measurement_sql,
    doc="Scores and bounding boxes of published occurrences and their detections (see the measurements below).",
    notes=_measures_doc(),
)
