"""Antenna's own extension tables (full profile only), derived from the project graph.

Every graph node gets one table holding all its travelling fields, keyed by the row's UUID; every
travelling many-to-many field gets a link table. Column 0 is the coreid: the Event core row the
record hangs from (its capture session, else its deployment, else the project's root event).

Terms: the row's identifier is `antenna:<modelName>ID`; a relation `foo_bar` is
`antenna:fooBarID` and holds the target row's UUID; a plain field `foo_bar` is `antenna:fooBar`;
a node's extras (graph.Extra) follow its fields.

The rows come straight from the models (`values_list` over the selection, formatted per kind);
on PostgreSQL the same SELECT formats every cell in SQL, except for the tables whose cells need
Python (extras, JSON holding primary keys): all of them small.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import F, Value
from django.db.models.functions import Coalesce

from dwca_port import graph
from dwca_port.json_references import to_uuids
from dwca_port.postgres.cells import formatted_select
from dwca_port.tables.base import ANTENNA, DWC, FULL, Column, Statement, Table
from dwca_port.tables.context import ExportContext
from dwca_port.values import Kind, format_value, kind_of

CORE_ID = DWC + "eventID"
CHUNK = 2000


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


def field_limits(field: models.Field) -> dict:
    """max_length and integer bounds of a field's column, as PostgreSQL enforces them."""
    if field.is_relation:
        return {}
    kind = kind_of(field)
    if kind in (Kind.TEXT, Kind.URI) and field.max_length:
        return {"max_length": field.max_length}
    if kind is Kind.INTEGER:
        bounds = BaseDatabaseOperations.integer_field_ranges.get(field.get_internal_type())
        return {"bounds": bounds} if bounds else {}
    return {}


def field_column(node: graph.Node, field: models.Field) -> Column:
    target = graph.graph_target(field)
    return Column(
        field_term(field),
        kind_of(field),
        required=not field.null and not field.blank and not field.is_relation and not field.has_default(),
        references=row_type(target) if target else None,
        field=field.name,
        calculated=field.name in node.calculated,
        **field_limits(field),
        doc=str(field.verbose_name)
        if not field.is_relation
        else f"UUID of the {target.name if target else field.related_model.__name__}",
    )


def extra_column(extra: graph.Extra) -> Column:
    return Column(ANTENNA + extra.name, extra.kind, required=extra.required, doc=extra.doc)


# -- the rows ---------------------------------------------------------------------------------------


def _core_expression(node: graph.Node, project) -> models.Expression:
    root = Value(project.uuid, output_field=models.UUIDField())
    paths = [f"{path}__uuid" if path != "self" else "uuid" for path in node.core_paths]
    if not paths:
        return root
    return Coalesce(*(F(p) for p in paths), root, output_field=models.UUIDField())


def _value_paths(node: graph.Node) -> list[str]:
    return [f"{f.name}__uuid" if f.is_relation else f.attname for f in node.fields()]


def _node_values(node: graph.Node, context: ExportContext, *more: str) -> models.QuerySet:
    rows = context.selection.rows(node).annotate(_core=_core_expression(node, context.project))
    return rows.values_list("_core", "uuid", *_value_paths(node), *more)


def _node_rows(node: graph.Node, kinds: list[Kind]):
    paths = _value_paths(node)
    # JSON fields holding primary keys of other rows: written with those rows' UUIDs instead.
    json_positions = {2 + paths.index(name): name for name, _, _ in node.json_references}

    def rows(context: ExportContext) -> Iterator[list]:
        extras = [extra.values(context.project) for extra in node.extras]
        records = _node_values(node, context, "pk").order_by("uuid")
        for record in records.iterator(chunk_size=CHUNK):
            *values, pk = record
            for position, name in json_positions.items():
                values[position] = to_uuids(node, name, values[position])
            values += [value_of(pk) for value_of in extras]
            yield [format_value(kind, value) for kind, value in zip(kinds, values)]

    def sql(context: ExportContext) -> list[Statement] | None:
        if node.extras or node.json_references:
            return None
        return [formatted_select(_node_values(node, context), kinds, order=(1,))]

    return rows, sql


def _link_rows(node: graph.Node, field: models.ManyToManyField):
    through = field.remote_field.through
    source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
    target_node = graph.graph_target(field)
    kinds = (Kind.UUID, Kind.UUID, Kind.UUID)

    def links(context: ExportContext) -> models.QuerySet:
        selection = context.selection
        return through.objects.filter(
            **{f"{source}__in": selection.pks(node), f"{target}__in": selection.pks(target_node)}
        )

    def rows(context: ExportContext) -> Iterator[list]:
        root = str(context.project.uuid)
        pairs = (
            links(context)
            .order_by(f"{source}__uuid", f"{target}__uuid")
            .values_list(f"{source}__uuid", f"{target}__uuid")
        )
        for owner, linked in pairs.iterator(chunk_size=CHUNK):
            yield [root, str(owner), str(linked)]

    def sql(context: ExportContext) -> list[Statement]:
        root = Value(context.project.uuid, output_field=models.UUIDField())
        values = links(context).annotate(_core=root).values_list("_core", f"{source}__uuid", f"{target}__uuid")
        return [formatted_select(values, kinds, order=(1, 2))]

    return rows, sql


# -- the tables -------------------------------------------------------------------------------------


def node_table(node: graph.Node) -> Table:
    columns = (
        Column(CORE_ID, Kind.UUID, required=True, references=DWC + "Event", doc="The core event the row hangs from."),
        Column(
            identifier_term(node),
            Kind.UUID,
            required=True,
            unique=True,
            field="uuid",
            doc=f"The {node.name}'s UUID: stable across exports and instances.",
        ),
        *(field_column(node, f) for f in node.fields()),
        *(extra_column(extra) for extra in node.extras),
    )
    rows, sql = _node_rows(node, [column.kind for column in columns])
    return Table(
        file=file_name(node),
        row_type=row_type(node),
        columns=columns,
        registered=False,
        profiles=frozenset({FULL}),
        identifier_term=identifier_term(node),
        doc=node.doc,
        node=node.label,
        rows=rows,
        sql=sql,
        count=lambda context: context.selection.rows(node).count(),
    )


def link_table(node: graph.Node, field: models.ManyToManyField) -> Table:
    target = graph.graph_target(field)
    rows, sql = _link_rows(node, field)
    return Table(
        file=f"antenna_{node.model._meta.model_name}_{field.name}.txt",
        row_type=ANTENNA + node.name + camel(field.name)[:1].upper() + camel(field.name)[1:],
        columns=(
            Column(CORE_ID, Kind.UUID, required=True, references=DWC + "Event", doc="The project's root event."),
            Column(
                identifier_term(node),
                Kind.UUID,
                required=True,
                references=row_type(node),
                doc=f"UUID of the {node.name}.",
            ),
            Column(
                ANTENNA + camel(field.name) + "ID",
                Kind.UUID,
                required=True,
                references=row_type(target),
                doc=f"UUID of the linked {target.name}.",
            ),
        ),
        registered=False,
        profiles=frozenset({FULL}),
        doc=f"{node.name}.{field.name}: {node.name} to {target.name} links.",
        node=node.label,
        link=field.name,
        rows=rows,
        sql=sql,
    )


def antenna_tables() -> tuple[Table, ...]:
    tables = [node_table(node) for node in graph.NODES]
    tables += [link_table(node, field) for node in graph.NODES for field in node.m2m_fields()]
    return tuple(tables)
