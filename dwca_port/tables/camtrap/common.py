"""What the Camtrap DP tables share: the standard's names and version, the rows a package holds,
and how its cells are written.

Camtrap DP requires every capture (media) to have a deployment, a timestamp and a file path, and
every deployment coordinates and a start and an end. A package therefore holds:
- media: the captures that have a timestamp, a non-empty path and a deployment with coordinates;
- deployments: the deployments with coordinates that have at least one such capture (start and
  end are their first and last capture);
- observations: the published occurrences (the DwC-A's occurrence.txt) that were detected on
  those captures, each at event level and at media level (one row per detection).
What is left out is counted and reported by the export (docs/camtrap-dp.md).
"""

from __future__ import annotations

import mimetypes

from django.db import models

from dwca_port.tables.base import Column
from dwca_port.tables.context import ExportContext
from dwca_port.values import Kind, format_float, with_offset

VERSION = "1.0.2"
# Columns are named by the standard's field names; the namespace only makes them terms.
CAMTRAP = "https://camtrap-dp.tdwg.org/data/#"
PROFILE_URL = f"https://raw.githubusercontent.com/tdwg/camtrap-dp/{VERSION}/camtrap-dp-profile.json"
RESOURCES = ("deployments", "media", "observations")
# An AMI trap photographs its screen at intervals (Camtrap DP's vocabulary: timeLapse).
CAPTURE_METHOD = "timeLapse"
# A capture whose extension names no image type: the traps' cameras write JPEG.
DEFAULT_MEDIATYPE = "image/jpeg"
# The standard's bounds of a bounding box cell (bboxWidth, bboxHeight must be above 0).
SMALLEST_BOX = 1e-15


def schema_url(resource: str) -> str:
    return f"https://raw.githubusercontent.com/tdwg/camtrap-dp/{VERSION}/{resource}-table-schema.json"


def field(name: str, kind: Kind = Kind.TEXT, doc: str = "", sql: str = "", **constraints) -> Column:
    """A column of a Camtrap DP table, by the standard's field name."""
    return Column(CAMTRAP + name, kind, doc=doc, sql=sql, **constraints)


def instant(value) -> str | None:
    """A Camtrap DP datetime (format %Y-%m-%dT%H:%M:%S%z): local time to the second with its UTC
    offset. Fractions of a second are cut (the standard's format has none)."""
    return None if value is None else with_offset(value.replace(microsecond=0))


def instant_sql(expression: str) -> str:
    return f"""(to_char({expression}, 'YYYY-MM-DD"T"HH24:MI:SS') || to_char({expression}, 'TZH:TZM'))"""


def packaged_media(context: ExportContext) -> models.QuerySet:
    """The captures a package holds (see the module's docstring)."""
    return (
        context.captures()
        .filter(timestamp__isnull=False, deployment__latitude__isnull=False, deployment__longitude__isnull=False)
        .exclude(path="")
    )


def image_types() -> dict[str, str]:
    """Lower-case file extension -> image media type, as Python's mimetypes knows them."""
    known = {*mimetypes.types_map, *mimetypes.common_types}
    found = {ext: mimetypes.guess_type("file" + ext)[0] for ext in known if ext == ext.lower()}
    return {ext: kind for ext, kind in sorted(found.items()) if kind and kind.startswith("image/")}


def extension(path: str) -> str | None:
    """The lower-cased extension of a path's last segment ("a/b.JPG" -> ".jpg")."""
    name = path.rsplit("/", 1)[-1]
    return name[name.rfind(".") :].lower() if "." in name else None


def extension_sql(path: str) -> str:
    name = f"split_part({path}, '/', -1)"
    return f"CASE WHEN strpos({name}, '.') > 0 THEN '.' || lower(split_part({name}, '.', -1)) END"


def probability(score) -> str | None:
    """A classifier's score as classificationProbability: only a probability (0 to 1)."""
    return format_float(float(score)) if score is not None and 0 <= score <= 1 else None


def probability_sql(expression: str) -> str:
    return f"CASE WHEN {expression} BETWEEN 0 AND 1 THEN ({expression})::float8::text END"
