"""Helpers for the bad-input and robustness tests: a whole-database fingerprint, one-shot exports."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from django.apps import apps
from django.db import transaction


def database_fingerprint() -> str:
    """A hash of every row of every table Django knows (auto-created M2M tables included).

    Rows are compared as the repr of all their concrete column values, sorted, so the hash is
    independent of the order the database returns them in.
    """
    digest = hashlib.sha256()
    for model in sorted(apps.get_models(include_auto_created=True), key=lambda m: m._meta.label):
        if not model._meta.managed and not model._meta.auto_created:
            continue
        columns = [f.attname for f in model._meta.concrete_fields]
        rows = sorted(repr(row) for row in model._base_manager.values_list(*columns))
        digest.update(model._meta.label.encode())
        digest.update(str(len(rows)).encode())
        for row in rows:
            digest.update(row.encode())
    return digest.hexdigest()


def export_demo_once(
    directory: Path, profiles=("full",), with_json: bool = False, keep: bool = False
) -> dict[str, bytes]:
    """Load the demo project, export it in each profile (and as JSON): {profile or "json": bytes}.

    Everything is rolled back unless `keep`: then the project's own rows are deleted and the demo
    is loaded again (new UUIDs), so that the database holds a demo project the archives do not
    conflict with, plus the shared rows (taxa, users, pipelines...) they refer to. That state is
    committed: the caller must clean up (e.g. `flush`).
    Must be called with database access unblocked (e.g. inside `django_db_blocker.unblock()`).
    """
    from ami.main.demo import load_demo_project
    from dwca_port.export import export_project

    archives = {}
    with transaction.atomic():
        project = load_demo_project(stdout=io.StringIO())
        for profile in profiles:
            path = directory / f"demo-{profile}.zip"
            export_project(project, path, profile=profile)
            archives[profile] = path.read_bytes()
        if with_json:
            path = directory / "demo.json"
            export_project(project, path, format="json")
            archives["json"] = path.read_bytes()
        if keep:
            delete_project_rows()
            load_demo_project(stdout=io.StringIO())
        else:
            transaction.set_rollback(True)
    return archives


def delete_project_rows() -> None:
    """Delete the rows of every project-scoped model (and role groups); shared rows stay."""
    from django.contrib.auth.models import Group

    from ami.main.models import Classification
    from dwca_port import graph

    Classification.objects.update(applied_to=None)
    for node in reversed(graph.NODES):
        if node.scope is graph.Scope.PROJECT:
            node.model._base_manager.all().delete()
    Group.objects.all().delete()
