"""multimedia.txt (GBIF Simple Multimedia): the captures that have a public URL, each hanging from
its capture session (else deployment), where GBIF shows it on the event's page.

Simple Multimedia rows reach an occurrence only through the core, so an occurrence names its own
images (crops and captures) in associatedMedia (occurrence.py); crops are not listed here.
"""

from __future__ import annotations

import functools
import json
import mimetypes
from collections.abc import Iterator

from dwca_port.postgres.cells import compiled, text_sql
from dwca_port.postgres.cells import offset_datetime_sql as offset
from dwca_port.tables.base import DCTERMS, GBIF, Column, Statement, Table, by_name
from dwca_port.tables.context import ExportContext
from dwca_port.tables.darwin_core.common import CHUNK, EXTENSION_KEY
from dwca_port.tables.evidence import capture_url, capture_url_sql
from dwca_port.values import Kind, with_offset

COLUMNS = (
    EXTENSION_KEY,
    Column(DCTERMS + "type", Kind.TEXT, required=True, vocabulary=("StillImage",)),
    Column(DCTERMS + "format", Kind.TEXT),
    Column(DCTERMS + "identifier", Kind.URI, required=True, unique=True, doc="Public URL of the capture."),
    Column(DCTERMS + "title", Kind.TEXT),
    Column(DCTERMS + "created", Kind.DATETIME),
    Column(DCTERMS + "license", Kind.URI),
    Column(DCTERMS + "rightsHolder", Kind.TEXT),
)


@functools.cache
def _format_of_extension(extension: str) -> str | None:
    return mimetypes.guess_type("file" + extension)[0]


def _media_format(path: str) -> str | None:
    name = path.rsplit("/", 1)[-1]
    return _format_of_extension(name[name.rfind(".") :].lower()) if "." in name else None


def rows(context: ExportContext) -> Iterator[dict]:
    common = {
        "type": "StillImage",
        "license": context.licence_url,
        "rightsHolder": context.project.rights_holder or None,
    }
    captures = (
        context.captures()
        .exclude(public_base_url__isnull=True)
        .exclude(public_base_url="")
        .order_by("uuid")
        .values_list("uuid", "public_base_url", "path", "timestamp", "event__uuid", "deployment__uuid")
    )
    for _, base, path, timestamp, event, deployment in captures.iterator(chunk_size=CHUNK):
        yield {
            **common,
            "eventID": str(event or deployment or context.project.uuid),
            "format": _media_format(path),
            "identifier": capture_url(base, path),
            "title": path.rsplit("/", 1)[-1],
            "created": with_offset(timestamp) if timestamp else None,
        }


def _media_formats() -> str:
    """Every file extension Python's mimetypes knows, with its MIME type, as JSON rows."""
    known = {*mimetypes.types_map, *mimetypes.suffix_map, *mimetypes.encodings_map}
    formats = {ext: _format_of_extension(ext) for ext in known if ext == ext.lower()}
    return json.dumps([{"ext": ext, "type": kind} for ext, kind in sorted(formats.items()) if kind])


def _file_name(path: str) -> str:
    """The last segment of a path, as path.rsplit("/", 1)[-1] (split_part: no regular expression)."""
    return f"split_part({path}, '/', -1)"


def _extension(path: str) -> str:
    """_media_format's key: the lower-cased extension of the path's last segment."""
    name = _file_name(path)
    return f"CASE WHEN strpos({name}, '.') > 0 THEN '.' || lower(split_part({name}, '.', -1)) END"


def multimedia_sql(context: ExportContext) -> list[Statement]:
    t = context.db_tables
    project = context.project
    captures_sql, captures_params = compiled(context.captures().values("pk"))
    formats = "formats AS (SELECT * FROM jsonb_to_recordset(%s::jsonb) AS f(ext text, type text))"
    core = "COALESCE(e.uuid, dep.uuid, %s::uuid)::text"
    captures = f"""
        WITH {formats}
        SELECT {core}, 'StillImage', f.type,
               {capture_url_sql("si")},
               {text_sql(_file_name("si.path"))}, {offset("si.timestamp")},
               {text_sql("%s::text")}, {text_sql("%s::text")}
        FROM {t["source_image"]} si LEFT JOIN {t["event"]} e ON e.id = si.event_id
             LEFT JOIN {t["deployment"]} dep ON dep.id = si.deployment_id
             LEFT JOIN formats f ON f.ext = {_extension("si.path")}
        WHERE si.id IN ({captures_sql}) AND si.public_base_url <> ''
        ORDER BY si.uuid
    """
    params = [_media_formats(), str(project.uuid), context.licence_url, project.rights_holder or None, *captures_params]
    return [(captures, params)]


TABLE = Table(
    "multimedia.txt",
    GBIF + "Multimedia",
    COLUMNS,
    rows=by_name(COLUMNS, rows),
    sql=multimedia_sql,
    doc="Captures that have a public URL, on their session.",
)
