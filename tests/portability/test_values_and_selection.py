"""Small rules the export's PostgreSQL path relies on: float digits, DISTINCT only where rows can
repeat, and no second scan for a relation a shared model's own paths already walk."""

from __future__ import annotations

import pytest
from django.db import connection

from dwca_port import graph
from dwca_port.graph import _to_one
from dwca_port.selection import _walked
from dwca_port.values import format_float

# Doubles whose shortest repr lies exactly halfway to the next double: PostgreSQL's float8 output
# (Ryu) never takes those digits; the archive writes PostgreSQL's.
HALFWAY = [(3.6559359435768256e16, "3.6559359435768256e+16")]


@pytest.mark.parametrize(
    "value, text",
    [*HALFWAY, (0.1, "0.1"), (1e-07, "1e-07"), (123.5, "123.5"), (1e15, "1e+15"), (-0.0, "-0"), (2.0, "2")],
)
def test_floats_are_written_as_postgresql_prints_them(value, text):
    assert format_float(value) == text


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="compares with PostgreSQL's own output")
def test_halfway_floats_match_postgresql():
    with connection.cursor() as cursor:
        for value, _ in HALFWAY:
            cursor.execute("SELECT %s::float8::text", [value])
            assert cursor.fetchone()[0] == format_float(value)


def test_to_one_paths():
    from ami.main.models import Classification
    from ami.users.models import User

    assert _to_one(Classification, "detection__source_image__project")
    assert _to_one(Classification, "")
    assert not _to_one(User, "project_memberships__project")  # a user has many memberships


def test_a_relation_is_scanned_unless_the_target_walks_it_already():
    classification = graph.NODES_BY_LABEL["main.Classification"]
    algorithm = graph.NODES_BY_LABEL["ml.Algorithm"]
    field = classification.model._meta.get_field("algorithm")
    assert _walked(classification, field, algorithm)
    trimmed = graph.Node(
        algorithm.label,
        algorithm.scope,
        algorithm.clone,
        project_paths=tuple(p for p in algorithm.project_paths if not p.startswith("classifications__")),
    )
    assert not _walked(classification, field, trimmed)
