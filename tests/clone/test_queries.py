"""The clone is set-wise: its number of statements depends on the graph, not on the rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ami.main.models import Project
from dwca_port.clone import clone_project

from .conftest import small_template

pytestmark = pytest.mark.django_db


def statements_to_clone(template) -> tuple[int, Project]:
    with CaptureQueriesContext(connection) as queries:
        report = clone_project(template, f"Clone of {template.name}")
    return len(queries.captured_queries), Project.objects.get(pk=report.project_id)


def test_statement_count_does_not_grow_with_the_rows():
    small = small_template("Three stations", deployments=3, taxa=10)
    large = small_template("Three hundred stations", deployments=300, taxa=1500)
    small_count, small_clone = statements_to_clone(small)
    large_count, large_clone = statements_to_clone(large)
    assert large_clone.deployments.count() == 300 and large_clone.taxa.count() == 1500
    assert large_clone.taxa_lists.get().taxa.count() == 1500
    assert small_clone.deployments.count() == 3
    assert small_count == large_count
    assert large_count < 80
