"""PostgreSQL forms of the big Darwin Core views (the export's fast path, dwca_port/sql_format.py).

Each function returns the SELECT statements whose rows are exactly what the Python builder of the
same table in darwin_core.py yields, cell for cell (the builders stay the reference, and the
embedded SQLite path; tests on PostgreSQL export both ways and compare the files). What needs
Python logic per shared row (a taxon's ranks from its parent chain, a member's primary role) is
computed in Python for the few thousand rows concerned and joined as a JSON parameter.
"""
from __future__ import annotations

import json
import mimetypes
from typing import TYPE_CHECKING

from django.core.exceptions import EmptyResultSet
from django.db import connection

from dwca_port.extensions import darwin_core as dwc
from dwca_port.sql_format import compiled
from dwca_port.sql_format import offset_datetime_sql as offset
from dwca_port.sql_format import text_sql

if TYPE_CHECKING:
    from dwca_port.export import ExportContext

Statement = tuple[str, list]


def _tables() -> dict[str, str]:
    from ami.main.models import Detection, Classification, Deployment, Event, Identification, Occurrence, SourceImage, Taxon
    from ami.ml.models import Algorithm

    models = dict(detection=Detection, classification=Classification, deployment=Deployment, event=Event,
                  identification=Identification, occurrence=Occurrence, source_image=SourceImage, taxon=Taxon,
                  algorithm=Algorithm)
    return {name: connection.ops.quote_name(model._meta.db_table) for name, model in models.items()}


def _algorithm_label(alias: str) -> str:
    """darwin_core's "<name> (version <version_name>)", None without a name."""
    return (f"CASE WHEN {alias}.name <> '' THEN {alias}.name || ' (version ' || COALESCE({alias}.version_name, 'None') || ')' END")


def _published(context: ExportContext) -> Statement:
    try:
        return compiled(context.published_occurrences().values("pk"))
    except EmptyResultSet:
        return "SELECT NULL::bigint WHERE false", []


def _evidence_ctes(context: ExportContext, t: dict[str, str]) -> Statement:
    """pub: published occurrence ids; human: the standing identification of each; best: the
    machine evidence behind each determination (ExportContext.evidence, in SQL)."""
    published, params = _published(context)
    roles = [{"user_id": user_id, "role": role} for user_id, role in context._roles.items()]
    sql = f"""
        pub(id) AS ({published}),
        roles AS (SELECT * FROM jsonb_to_recordset(%s::jsonb) AS r(user_id bigint, role text)),
        human AS (
            SELECT DISTINCT ON (i.occurrence_id) i.occurrence_id,
                   COALESCE(r.role, 'Former member') || ' (Antenna project member)' AS role, i.created_at,
                   (i.agreed_with_prediction_id IS NOT NULL OR i.agreed_with_identification_id IS NOT NULL) AS agreed
            FROM {t['identification']} i JOIN pub ON pub.id = i.occurrence_id LEFT JOIN roles r ON r.user_id = i.user_id
            WHERE NOT i.withdrawn
            ORDER BY i.occurrence_id, i.created_at DESC, i.id DESC),
        best AS (
            SELECT DISTINCT ON (d.occurrence_id) d.occurrence_id, c.timestamp, bt.name AS label,
                   {_algorithm_label('a')} AS algorithm
            FROM {t['classification']} c JOIN {t['detection']} d ON d.id = c.detection_id
                 JOIN pub ON pub.id = d.occurrence_id
                 LEFT JOIN {t['taxon']} bt ON bt.id = c.taxon_id LEFT JOIN {t['algorithm']} a ON a.id = c.algorithm_id
            ORDER BY d.occurrence_id, c.terminal DESC, COALESCE(c.score, -1) DESC, c.detection_id,
                     c.timestamp DESC, c.uuid),
        occ AS (
            SELECT o.id, o.uuid, o.determination_id, o.determination_score,
                   COALESCE(e.uuid, dep.uuid, %s::uuid)::text AS event_id
            FROM {t['occurrence']} o JOIN pub ON pub.id = o.id
                 LEFT JOIN {t['event']} e ON e.id = o.event_id
                 LEFT JOIN {t['deployment']} dep ON dep.id = o.deployment_id AND dep.project_id = %s)
    """
    return sql, [*params, json.dumps(roles), str(context.project.uuid), context.project.pk]


def _determination_taxa(context: ExportContext) -> str:
    """The occurrence table's taxon cells for every determination taxon, as JSON rows."""
    from ami.main.models import Taxon

    ids = context.published_occurrences().values("determination_id")
    rows = []
    for taxon in Taxon.objects.filter(pk__in=ids).order_by("pk"):
        rows.append({"id": taxon.pk, "name": taxon.name, "author": taxon.author or None, "rank": taxon.rank.lower(),
                     **dict(zip(dwc.RANK_TERMS, dwc._classification(taxon))), "vernacular": taxon.common_name_en or None})
    return json.dumps(rows)


def occurrence_sql(context: ExportContext) -> list[Statement]:
    t = _tables()
    ctes, params = _evidence_ctes(context, t)
    ranks = ", ".join(f"{text_sql(f'tx.{name}')}" for name in ("name", "author", "rank", *(f'"{r}"' for r in dwc.RANK_TERMS), "vernacular"))
    rank_columns = ", ".join(f'"{r}" text' for r in dwc.RANK_TERMS)
    sql = f"""
        WITH {ctes},
        taxa AS (SELECT * FROM jsonb_to_recordset(%s::jsonb)
                 AS x(id bigint, name text, author text, rank text, {rank_columns}, vernacular text))
        SELECT occ.event_id, occ.uuid::text, 'MachineObservation', 'present', '1', {ranks},
               {text_sql("CASE WHEN h.occurrence_id IS NOT NULL THEN h.role ELSE b.algorithm END")},
               CASE WHEN h.occurrence_id IS NOT NULL THEN {offset('h.created_at')} ELSE {offset('b.timestamp')} END,
               CASE WHEN h.occurrence_id IS NOT NULL THEN '{dwc.HUMAN_STATUS}'
                    WHEN b.occurrence_id IS NOT NULL THEN '{dwc.MACHINE_STATUS}' END,
               CASE WHEN h.occurrence_id IS NOT NULL
                    THEN 'identified by a person' || CASE WHEN h.agreed THEN ' agreeing with the machine' ELSE '' END
                    WHEN b.occurrence_id IS NOT NULL
                    THEN 'classified by a machine with a degree of certainty of '
                         || round(COALESCE(occ.determination_score, 0) * 100)::bigint::text || '%%' END,
               {text_sql('b.label')}
        FROM occ JOIN taxa tx ON tx.id = occ.determination_id
             LEFT JOIN human h ON h.occurrence_id = occ.id LEFT JOIN best b ON b.occurrence_id = occ.id
        ORDER BY occ.uuid
    """
    return [(sql, [*params, _determination_taxa(context)])]


def measurement_sql(context: ExportContext) -> list[Statement]:
    t = _tables()
    ctes, params = _evidence_ctes(context, t)
    # Sort keys: occurrence, then its determination score (0) before its detections (1) in
    # UUID order, each with its bounding box (0), detection score (1), classification score (2).
    sql = f"""
        WITH {ctes},
        dets AS (
            SELECT d.id, d.uuid, d.occurrence_id, d.bbox, d.detection_score, {offset('d.timestamp')} AS at,
                   {_algorithm_label('a')} AS algorithm
            FROM {t['detection']} d JOIN pub ON pub.id = d.occurrence_id
                 LEFT JOIN {t['algorithm']} a ON a.id = d.detection_algorithm_id),
        top AS (
            SELECT DISTINCT ON (c.detection_id) c.detection_id, c.score, c.timestamp, tt.name AS label,
                   {_algorithm_label('a')} AS algorithm
            FROM {t['classification']} c JOIN dets ON dets.id = c.detection_id
                 LEFT JOIN {t['taxon']} tt ON tt.id = c.taxon_id LEFT JOIN {t['algorithm']} a ON a.id = c.algorithm_id
            ORDER BY c.detection_id, c.terminal DESC, c.score DESC, c.timestamp DESC, c.uuid)
        SELECT event_id, id, occurrence_id, kind, value, unit, at, {text_sql('method')}, remarks FROM (
            SELECT occ.uuid AS k0, 0 AS k1, NULL::uuid AS k2, 0 AS k3, occ.event_id,
                   occ.uuid::text || ':determination-score' AS id, occ.uuid::text AS occurrence_id,
                   'determination score' AS kind, occ.determination_score::text AS value, NULL AS unit, NULL AS at,
                   CASE WHEN b.occurrence_id IS NOT NULL AND NOT EXISTS (
                            SELECT FROM {t['identification']} i WHERE i.occurrence_id = occ.id AND NOT i.withdrawn)
                        THEN b.algorithm ELSE 'human identification' END AS method,
                   'Score of the occurrence''s determination (1 for a human identification).' AS remarks
            FROM occ LEFT JOIN best b ON b.occurrence_id = occ.id
            WHERE occ.determination_score IS NOT NULL
          UNION ALL
            SELECT occ.uuid, 1, dets.uuid, 0, occ.event_id, dets.uuid::text || ':bbox', occ.uuid::text,
                   'bounding box', dets.bbox::text, 'pixels', dets.at, dets.algorithm,
                   'x1, y1, x2, y2 on the capture, origin top left'
            FROM dets JOIN occ ON occ.id = dets.occurrence_id
            WHERE dets.bbox IS NOT NULL AND jsonb_typeof(dets.bbox) <> 'null'
          UNION ALL
            SELECT occ.uuid, 1, dets.uuid, 1, occ.event_id, dets.uuid::text || ':detection-score', occ.uuid::text,
                   'detection score', dets.detection_score::text, NULL, dets.at, dets.algorithm, NULL
            FROM dets JOIN occ ON occ.id = dets.occurrence_id
            WHERE dets.detection_score IS NOT NULL
          UNION ALL
            SELECT occ.uuid, 1, dets.uuid, 2, occ.event_id, dets.uuid::text || ':classification-score',
                   occ.uuid::text, 'classification score', top.score::text, NULL, {offset('top.timestamp')},
                   top.algorithm, 'top label: ' || COALESCE(top.label, 'None')
            FROM dets JOIN occ ON occ.id = dets.occurrence_id JOIN top ON top.detection_id = dets.id
            WHERE top.score IS NOT NULL
        ) m
        ORDER BY k0, k1, k2, k3
    """
    return [(sql, params)]


def _media_formats() -> str:
    """Every file extension Python's mimetypes knows, with darwin_core's answer for it, as JSON."""
    known = {*mimetypes.types_map, *mimetypes.suffix_map, *mimetypes.encodings_map}
    formats = {ext: dwc._format_of_extension(ext) for ext in known if ext == ext.lower()}
    return json.dumps([{"ext": ext, "type": kind} for ext, kind in sorted(formats.items()) if kind])


def _file_name(path: str) -> str:
    """The last segment of a path, as path.rsplit("/", 1)[-1] (split_part: no regular expression)."""
    return f"split_part({path}, '/', -1)"


def _extension(path: str) -> str:
    """darwin_core._media_format's key: the lower-cased extension of the path's last segment."""
    name = _file_name(path)
    return f"CASE WHEN strpos({name}, '.') > 0 THEN '.' || lower(split_part({name}, '.', -1)) END"


def multimedia_sql(context: ExportContext) -> list[Statement]:
    t = _tables()
    project = context.project
    licence, holder = context.licence_url, project.rights_holder or None
    formats = "formats AS (SELECT * FROM jsonb_to_recordset(%s::jsonb) AS f(ext text, type text))"
    core = "COALESCE(e.uuid, dep.uuid, %s::uuid)::text"
    captures = f"""
        WITH {formats}
        SELECT {core}, 'StillImage', f.type,
               rtrim(si.public_base_url, '/') || '/' || ltrim(si.path, '/'),
               {text_sql(_file_name('si.path'))}, {offset('si.timestamp')},
               {text_sql('%s::text')}, {text_sql('%s::text')}
        FROM {t['source_image']} si LEFT JOIN {t['event']} e ON e.id = si.event_id
             LEFT JOIN {t['deployment']} dep ON dep.id = si.deployment_id
             LEFT JOIN formats f ON f.ext = {_extension('si.path')}
        WHERE si.project_id = %s AND si.public_base_url <> ''
        ORDER BY si.uuid
    """
    crops = f"""
        WITH {formats}
        SELECT {core}, 'StillImage', f.type, d.path, 'Detection crop', {offset('d.timestamp')},
               {text_sql('%s::text')}, {text_sql('%s::text')}
        FROM {t['detection']} d JOIN {t['source_image']} si ON si.id = d.source_image_id
             LEFT JOIN {t['event']} e ON e.id = si.event_id LEFT JOIN {t['deployment']} dep ON dep.id = si.deployment_id
             LEFT JOIN formats f ON f.ext = {_extension('d.path')}
        WHERE si.project_id = %s AND d.path ~ '^https?://'
        ORDER BY d.uuid
    """
    params = [_media_formats(), str(project.uuid), licence, holder, project.pk]
    return [(captures, params), (crops, params)]
