"""Antenna's own extension tables (full profile only), derived from the project graph.

Every graph node gets one table holding all its travelling fields, keyed by the row's UUID; every
travelling many-to-many field gets a link table. Column 0 is the coreid: the Event core row the
record hangs from (its capture session, else its deployment, else the project's root event).

Terms: the row's identifier is `antenna:<modelName>ID`; a relation `foo_bar` is
`antenna:fooBarID` and holds the target row's UUID; a plain field `foo_bar` is `antenna:fooBar`.
"""
from __future__ import annotations

from django.db import models

from dwca_port import graph
from dwca_port.extensions.base import ANTENNA, DWC, FULL, FORMAT_VERSION, Column, Kind, Table
from dwca_port.values import kind_of

CORE_ID = DWC + "eventID"

# Columns that are not model fields: the archive's format version and time zone on the project
# row, and the role names on a membership row. Their values are computed by the exporter.
FORMAT_VERSION_TERM = ANTENNA + "formatVersion"
TIME_ZONE_TERM = ANTENNA + "timeZone"
ROLES_TERM = ANTENNA + "roles"
VIRTUAL_COLUMNS: dict[str, tuple[Column, ...]] = {
    "main.Project": (
        Column(FORMAT_VERSION_TERM, Kind.INTEGER, required=True,
               doc=f"Version of the archive layout (this toolkit writes {FORMAT_VERSION})."),
        Column(TIME_ZONE_TERM, Kind.TEXT, required=True,
               doc="IANA time zone of every local date-time in the Antenna tables."),
    ),
    "main.UserProjectMembership": (
        Column(ROLES_TERM, Kind.TEXT, doc="The member's project roles, space-separated (e.g. Identifier Researcher)."),
    ),
}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def row_type(node: graph.Node) -> str:
    return ANTENNA + node.name


def identifier_term(node: graph.Node) -> str:
    return ANTENNA + lower_first(node.name) + "ID"


def field_term(field: models.Field) -> str:
    return ANTENNA + camel(field.name) + ("ID" if field.is_relation else "")


def file_name(node: graph.Node) -> str:
    return f"antenna_{node.model._meta.model_name}.txt"


def field_column(node: graph.Node, field: models.Field) -> Column:
    target = graph.graph_target(field)
    return Column(
        field_term(field),
        kind_of(field),
        required=not field.null and not field.blank and not field.is_relation and not field.has_default(),
        references=row_type(target) if target else None,
        field=field.name,
        calculated=field.name in node.calculated,
        doc=str(field.verbose_name) if not field.is_relation else f"UUID of the {target.name if target else field.related_model.__name__}",
    )


def node_table(node: graph.Node) -> Table:
    columns = (
        Column(CORE_ID, Kind.UUID, required=True, references=DWC + "Event", doc="The core event the row hangs from."),
        Column(identifier_term(node), Kind.UUID, required=True, unique=True, field="uuid",
               doc=f"The {node.name}'s UUID: stable across exports and instances."),
        *(field_column(node, f) for f in node.fields()),
        *VIRTUAL_COLUMNS.get(node.label, ()),
    )
    return Table(
        file=file_name(node), row_type=row_type(node), columns=columns, registered=False,
        profiles=frozenset({FULL}), identifier_term=identifier_term(node), doc=node.doc, node=node.label,
    )


def link_table(node: graph.Node, field: models.ManyToManyField) -> Table:
    target = graph.graph_target(field)
    owner_term = identifier_term(node)
    target_term = ANTENNA + camel(field.name) + "ID"
    return Table(
        file=f"antenna_{node.model._meta.model_name}_{field.name}.txt",
        row_type=ANTENNA + node.name + camel(field.name)[:1].upper() + camel(field.name)[1:],
        columns=(
            Column(CORE_ID, Kind.UUID, required=True, references=DWC + "Event", doc="The project's root event."),
            Column(owner_term, Kind.UUID, required=True, references=row_type(node), doc=f"UUID of the {node.name}."),
            Column(target_term, Kind.UUID, required=True, references=row_type(target),
                   doc=f"UUID of the linked {target.name}."),
        ),
        registered=False, profiles=frozenset({FULL}), doc=f"{node.name}.{field.name}: {node.name} to {target.name} links.",
        node=node.label, link=field.name,
    )


def antenna_tables() -> tuple[Table, ...]:
    tables = [node_table(node) for node in graph.NODES]
    tables += [link_table(node, field) for node in graph.NODES for field in node.m2m_fields()]
    return tuple(tables)
