"""media.csv: every capture the package holds (tables/camtrap/common.py), one image each, taken
by time lapse. filePath is the capture's public URL when its storage has one, else its path
relative to the storage (filePublic false)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from dwca_port.postgres.cells import compiled, text_sql
from dwca_port.tables.base import Statement, Table, by_name
from dwca_port.tables.camtrap.common import (
    CAPTURE_METHOD,
    DEFAULT_MEDIATYPE,
    extension,
    extension_sql,
    field,
    image_types,
    instant,
    instant_sql,
    packaged_media,
    schema_url,
)
from dwca_port.tables.camtrap.deployments import TABLE as DEPLOYMENTS
from dwca_port.tables.context import ExportContext
from dwca_port.tables.darwin_core.common import CHUNK
from dwca_port.tables.evidence import capture_url, capture_url_sql
from dwca_port.values import Kind

PUBLIC = "si.public_base_url <> ''"

COLUMNS = (
    field("mediaID", Kind.UUID, "UUID of the capture.", required=True, unique=True, sql="si.uuid::text"),
    field(
        "deploymentID",
        Kind.UUID,
        "UUID of the capture's deployment.",
        required=True,
        references=DEPLOYMENTS.row_type,
        sql="dep.uuid::text",
    ),
    field("captureMethod", doc=f"Always `{CAPTURE_METHOD}`.", vocabulary=(CAPTURE_METHOD,), sql=f"'{CAPTURE_METHOD}'"),
    field(
        "timestamp",
        Kind.DATETIME,
        "When the capture was taken, local time to the second with UTC offset.",
        required=True,
        sql=instant_sql("si.timestamp"),
    ),
    field(
        "filePath",
        doc="The capture's public URL (storage's public base URL and path), else its path in the storage.",
        required=True,
        sql=f"CASE WHEN {PUBLIC} THEN {capture_url_sql('si')} ELSE NULLIF(ltrim(si.path, '/'), '') END",
    ),
    field(
        "filePublic",
        Kind.BOOLEAN,
        "true when filePath is a public URL.",
        required=True,
        sql=f"CASE WHEN {PUBLIC} THEN 'true' ELSE 'false' END",
    ),
    field("fileName", doc="Last segment of the capture's path.", sql=text_sql("split_part(si.path, '/', -1)")),
    field(
        "fileMediatype",
        doc=f"The image type of the path's extension (Python's mimetypes), else `{DEFAULT_MEDIATYPE}`.",
        required=True,
        sql=f"COALESCE(f.type, '{DEFAULT_MEDIATYPE}')",
    ),
    field("exifData", Kind.JSON, sql="NULL"),
    field("favorite", Kind.BOOLEAN, sql="NULL"),
    field("mediaComments", sql="NULL"),
)


def rows(context: ExportContext) -> Iterator[dict]:
    types = image_types()
    captures = (
        packaged_media(context)
        .order_by("uuid")
        .values_list("uuid", "deployment__uuid", "timestamp", "public_base_url", "path")
    )
    for uuid, deployment, timestamp, base, path in captures.iterator(chunk_size=CHUNK):
        public = bool(base)
        yield {
            "mediaID": str(uuid),
            "deploymentID": str(deployment),
            "captureMethod": CAPTURE_METHOD,
            "timestamp": instant(timestamp),
            "filePath": capture_url(base, path) if public else path.lstrip("/") or None,
            "filePublic": "true" if public else "false",
            "fileName": path.rsplit("/", 1)[-1] or None,
            "fileMediatype": types.get(extension(path) or "", DEFAULT_MEDIATYPE),
        }


def media_sql(context: ExportContext) -> list[Statement]:
    t = context.db_tables
    selected, params = compiled(packaged_media(context).values("pk"))
    sql = f"""
        WITH types AS (SELECT * FROM jsonb_to_recordset(%s::jsonb) AS f(ext text, type text))
        SELECT {", ".join(column.sql for column in COLUMNS)}
        FROM {t["source_image"]} si JOIN {t["deployment"]} dep ON dep.id = si.deployment_id
             LEFT JOIN types f ON f.ext = {extension_sql("si.path")}
        WHERE si.id IN ({selected})
        ORDER BY si.uuid
    """
    types = json.dumps([{"ext": ext, "type": kind} for ext, kind in image_types().items()])
    return [(sql, [types, *params])]


TABLE = Table(
    "media.csv",
    schema_url("media"),
    COLUMNS,
    identifier_term=COLUMNS[0].term,
    rows=by_name(COLUMNS, rows),
    sql=media_sql,
    doc="Captures with a timestamp, a path and a located deployment.",
)
