"""Helpers shared by the export/import tests."""

from __future__ import annotations

import zipfile
from pathlib import Path

from django.contrib.auth.models import Group
from django.db import connection, transaction

from dwca_port import graph


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def data_files(path: Path) -> dict[str, bytes]:
    return {name: data for name, data in members(path).items() if name.endswith(".txt")}


def rows(path: Path, member: str) -> list[list[str]]:
    """Cells of a data file (header excluded), split naively: fine for files without quoted values."""
    text = members(path)[member].decode()
    return [line.split("\t") for line in text.split("\n")[1:] if line]


def header(path: Path, member: str) -> list[str]:
    return members(path)[member].decode().split("\n", 1)[0].split("\t")


def column(path: Path, member: str, name: str) -> list[str]:
    index = header(path, member).index(name)
    return [row[index] for row in rows(path, member)]


def wipe_graph() -> None:
    """Delete every row of every graph model (and role groups): an empty instance to import into.

    Plain DELETEs, children before parents (the reverse of graph.NODES), many-to-many rows first:
    Django's delete() would load every row to cascade (tens of seconds for a synthetic project)."""
    tables = []
    for node in reversed(graph.NODES):
        tables += [field.remote_field.through._meta.db_table for field in node.model._meta.many_to_many]
        tables.append(node.model._meta.db_table)
    tables += [Group.permissions.through._meta.db_table, Group._meta.db_table]
    with transaction.atomic(), connection.cursor() as cursor:  # foreign keys are checked at its end
        for table in dict.fromkeys(tables):  # a through table is listed by both of its ends
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")


def table_counts() -> dict[str, int]:
    """Row counts of every table the toolkit writes to, M2M tables included."""
    counts = {}
    for node in graph.NODES:
        counts[node.label] = node.model._base_manager.count()
        for field in node.model._meta.many_to_many:
            through = field.remote_field.through
            counts[through._meta.db_table] = through.objects.count()
    counts["auth.Group"] = Group.objects.count()
    return counts
