"""docs/format.md, rendered from the table declarations (a test keeps the file in step with them):
python manage.py describe_format > docs/format.md
"""

from __future__ import annotations

from dwca_port import graph
from dwca_port.tables import ANTENNA, GBIF_PROFILE, all_tables
from dwca_port.versions import FORMAT_VERSION

INTRO = f"""# The archive format

A project travels as a Darwin Core Archive: a zip of tab-separated UTF-8 files (no BOM, `\\n`
line ends, one header row), `meta.xml` naming every column's term, and `eml.xml` (EML 2.2.0,
valid against the GBIF metadata profile 1.3). This page is generated from the declarations in
`dwca_port/tables/` and `dwca_port/graph.py` (`python manage.py describe_format`); it lists
every table and column the toolkit writes. Archive layout version: {FORMAT_VERSION}.

Two profiles come from the same declarations:

- **gbif**: only rowTypes GBIF and the IPT know (the first five tables below); values are never
  quoted, and tabs or line breaks inside values become spaces, as the IPT writes. No e-mail
  address, no person's name, no credential. Occurrences are those the project's default filters
  publish (score threshold, include and exclude taxa).
- **full**: the same tables plus Antenna's own (namespace `{ANTENNA}`), one per model of the
  project graph and one per many-to-many relation, so that a project moves between instances
  with nothing lost. Values holding a tab, a quote or a line break are quoted (RFC 4180).

Identifiers are the records' stored UUIDs, lowercase, never derived from names. Antenna tables
hang from the Event core through their first column: the row's capture session, else its
deployment, else the project's root event. Relations are written as the target's UUID (column
`<relation>ID`). Dates and times in Antenna tables are the instance's local time without an
offset (the project table states the time zone); Darwin Core dates carry their UTC offset. In
the hour the clocks repeat in autumn, a plain local time is the later (standard-time) reading,
as PostgreSQL reads it, and the earlier reading carries its offset (`2024-11-03T01:30:00-04:00`),
so that PostgreSQL's two instants come back as they were; the Darwin Core and Camtrap DP tables
write the offset of each instant. SQLite stores local times as text, without the reading: its
exports write such a time as the earlier reading, with its offset, in every table. A time in the hour the clocks skip in
spring (`2024-03-10T02:30:00`) is kept by SQLite, which stores local times as text, and refused
by PostgreSQL, whose timestamptz cannot hold it (it would store 03:30).
Columns marked *cache* are computed values: exported to be verified, recomputed on import.
Storage credentials are never written; rows a clone copies, links or skips are listed in
`docs/clone.md`.

## Values a column takes

An import takes only what PostgreSQL, Antenna's production database, can store as it is, on
every database, so that a project imported into SQLite can always move on to PostgreSQL. A cell
outside these rules is refused, naming the file, line, column and rule, and nothing is written:

- **Text** no longer than its column's `max_length` (*at most N characters* below); **integers**
  within their column's range (*from A to B*: the model field's, as Django declares it for
  PostgreSQL); **decimals** within float8 (`1e400` is refused, not read as infinity).
- **JSON** as PostgreSQL's jsonb takes it: nested at most 100 levels deep; no `NaN` or
  `Infinity` (not JSON), nor a number past a double's range (`1E400`, which would come back as
  `Infinity`); no NUL character (`\\u0000`) and no lone surrogate in a string. They
  are refused rather than kept, because jsonb cannot hold them and Python would only keep them on
  SQLite. UUIDs inside JSON (a capture set's `kwargs.image_ids`, a data export's
  `filters.collection_id`...) are UUID texts, one or a list; anything nested is refused.
- A decimal `NaN` is kept on PostgreSQL (float8 holds it) and refused on SQLite, which would
  store it as NULL.

**Empty text and NULL are one value in the archive.** A Darwin Core Archive has no NULL: an
empty cell is what GBIF, the IPT, R and pandas read as "no value", and the toolkit writes both
an empty string and NULL as an empty cell (the gbif profile could not write them apart). On
import an empty cell becomes NULL where the column allows NULL, else the empty string. So a
round trip keeps every value but turns an empty string in a nullable text column into NULL:
*lossless* in this document means lossless up to that one normalisation. Keeping them apart
would need a marker that no other reader of the archive understands; an instance that needs
empty strings kept should not declare those text fields nullable.
"""


def _kind(column) -> str:
    parts = [column.kind.value]
    if column.required:
        parts.append("required")
    if column.unique:
        parts.append("unique")
    if column.calculated:
        parts.append("cache")
    if column.references:
        parts.append(f"→ {column.references.rsplit('/', 1)[-1]}")
    if column.vocabulary:
        parts.append("one of " + ", ".join(f"`{v}`" for v in column.vocabulary))
    if column.max_length is not None:
        parts.append(f"at most {column.max_length} characters")
    if column.bounds is not None:
        parts.append(f"from {column.bounds[0]} to {column.bounds[1]}")
    return "; ".join(parts)


def render() -> str:
    lines = [INTRO]
    for table in all_tables():
        profiles = "both profiles" if GBIF_PROFILE in table.profiles else "full profile"
        lines.append(f"\n## {table.file}\n")
        node = graph.NODES_BY_LABEL.get(table.node) if table.node else None
        lines.append(f"rowType `{table.row_type}` ({'core' if table.core else 'extension'}, {profiles}). {table.doc}")
        if node and not table.link:
            notes = []
            if node.secret:
                notes.append("never exported: " + ", ".join(node.secret))
            if node.excluded:
                notes.append("not carried: " + ", ".join(node.excluded))
            if notes:
                lines.append(f"\n{node.label}: " + "; ".join(notes) + ".")
        lines.append("\n| # | Term | Kind | Notes |\n|---|---|---|---|")
        for index, column in enumerate(table.columns):
            lines.append(f"| {index} | `{column.term}` | {_kind(column)} | {column.doc.replace('|', '/')} |")
        if table.notes:
            lines.append("\n" + table.notes)
    return "\n".join(lines) + "\n"
