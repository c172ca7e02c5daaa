"""Project isolation: an archive may only match or refer to rows of its own project.

Each collision archive is the demo's archive turned into a second project's: every UUID of a
demo project row is replaced by a fresh one, except those of one model's first row, which the
archive then claims (with its children hanging from it). Imported in every conflict mode, it is
refused with the file, line and UUID, and the demo project's rows are unchanged, byte for byte.
"""

from __future__ import annotations

import itertools
import re
import uuid
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from ami.main.models import Project, S3StorageSource, SourceImage, UserProjectMembership
from ami.users.roles import roles_of
from dwca_port import graph
from dwca_port.importer import ImportOptions, ImportRefused, import_project
from dwca_port.importer.state import CONFLICT_MODES
from dwca_port.tables import FULL, tables_for_profile
from tests.portability.helpers import header, rows

pytestmark = pytest.mark.django_db

UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

CLAIMED = {
    "main.Deployment": "antenna_deployment.txt",
    "main.Event": "antenna_event.txt",
    "main.SourceImage": "antenna_sourceimage.txt",
    "main.Occurrence": "antenna_occurrence.txt",
    "main.Detection": "antenna_detection.txt",
    "main.TaxaList": "antenna_taxalist.txt",
    "main.S3StorageSource": "antenna_s3storagesource.txt",
    "main.UserProjectMembership": "antenna_userprojectmembership.txt",
    "main.Device": "antenna_device.txt",
    "main.SourceImageCollection": "antenna_sourceimagecollection.txt",
    "jobs.Job": "antenna_job.txt",
}


def project_dump(project: Project) -> dict:
    """Every row of the project (every column), its link-table rows and its role groups' members."""
    dump = {}
    for node in graph.nodes(graph.Scope.PROJECT):
        found = node.rows_of(project).order_by("pk")
        dump[node.label] = list(found.values())
        for field in node.model._meta.many_to_many:
            through = field.remote_field.through
            source = field.m2m_field_name()
            dump[f"{node.label}.{field.name}"] = list(
                through.objects.filter(**{f"{source}__in": found.values("pk")}).order_by("pk").values()
            )
    groups = Group.objects.filter(name__startswith=f"{project.pk}_").order_by("name")
    dump["groups"] = [(g.name, sorted(g.user_set.values_list("pk", flat=True))) for g in groups]
    return dump


def second_project_archive(path: Path, victim: Project, claimed: set[str], target: Path) -> Path:
    """The archive at `path` as another project's: fresh UUIDs for every project row of
    `victim`, except the `claimed` ones, which stay (and so collide)."""
    mapping = {}
    for node in graph.nodes(graph.Scope.PROJECT):
        for value in node.rows_of(victim).values_list("uuid", flat=True):
            if str(value) not in claimed:
                mapping[str(value).encode()] = str(uuid.uuid4()).encode()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = UUID.sub(lambda match: mapping.get(match.group(0), match.group(0)), source.read(info.filename))
            out.writestr(info, data.replace(victim.name.encode(), b"Intruder project"))
    return target


def _paths() -> list[bool]:
    """The portable writer everywhere; on PostgreSQL the staging writer too."""
    return [False, True] if connection.vendor == "postgresql" else [False]


def _import(path: Path, mode: str, **options):
    options = ImportOptions(on_conflict=mode, create_missing_users=True, **options)
    return import_project(path, options)


@pytest.mark.parametrize("label", sorted(CLAIMED))
def test_a_row_of_another_project_is_refused_in_every_mode(demo, export, tmp_path, label):
    path = export(demo)
    member = CLAIMED[label]
    node = graph.NODES_BY_LABEL[label]
    claimed = str(node.rows_of(demo).order_by("uuid").values_list("uuid", flat=True).first())
    archive = second_project_archive(path, demo, {claimed}, tmp_path / "intruder.zip")
    table = next(t for t in tables_for_profile(FULL) if t.node == label and not t.link)
    index = table.index_of(table.identifier_term)
    line = 2 + [cells[index] for cells in rows(archive, member)].index(claimed)
    before = project_dump(demo)
    projects = Project.objects.count()
    for mode, staging in itertools.product(CONFLICT_MODES, _paths()):
        with pytest.raises(ImportRefused) as refused:
            _import(archive, mode, staging=staging)
        assert str(refused.value) == (
            f"{member}, line {line}, column {index + 1} ({table.columns[index].name}): "
            f"{node.name} {claimed} belongs to another project"
        ), mode
        assert project_dump(demo) == before, mode
        assert Project.objects.count() == projects, mode


def test_the_archive_of_a_second_project_imports_beside_the_first(demo, export, tmp_path):
    """The control: the same rewriting without a claimed row imports, and the demo is untouched."""
    path = export(demo)
    archive = second_project_archive(path, demo, set(), tmp_path / "second.zip")
    before = project_dump(demo)
    report = _import(archive, "error")
    assert report.models["main.Detection"].created == 333
    assert project_dump(demo) == before


def test_a_reference_to_another_projects_row_is_refused(demo, export, tmp_path):
    """A new row may not hang from another project's row named only in a reference. (The validator
    already refuses a reference to a capture missing from the archive: the importer's own rule is
    tested without it, as a defence in depth.)"""
    path = export(demo)
    archive = second_project_archive(path, demo, set(), tmp_path / "second.zip")
    victim_capture = SourceImage.objects.filter(project=demo).order_by("uuid").first().uuid
    names = header(archive, "antenna_detection.txt")
    index = names.index("sourceImageID")
    bad = tmp_path / "reference.zip"
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "antenna_detection.txt":
                lines = data.decode().split("\n")
                cells = lines[1].split("\t")
                cells[index] = str(victim_capture)
                lines[1] = "\t".join(cells)
                data = "\n".join(lines).encode()
            out.writestr(info, data)
    before = project_dump(demo)
    for mode, staging in itertools.product(CONFLICT_MODES, _paths()):
        with pytest.raises(ImportRefused) as refused:
            _import(bad, mode, validate=False, staging=staging)
        assert str(refused.value) == (
            f"antenna_detection.txt, line 2, column {index + 1} (sourceImageID): "
            f"refers to SourceImage {victim_capture}, which belongs to another project"
        )
        assert project_dump(demo) == before


def _edit(path: Path, member: str, row_uuid, column: str, value: str, target: Path) -> Path:
    """A copy of the archive with one cell of the row `row_uuid` (in any cell) of `member` set."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == member:
                lines = data.decode().split("\n")
                index = lines[0].split("\t").index(column)
                for number, line in enumerate(lines[1:], start=1):
                    cells = line.split("\t")
                    if str(row_uuid) in cells:
                        cells[index] = value
                        lines[number] = "\t".join(cells)
                data = "\n".join(lines).encode()
            out.writestr(info, data)
    return target


@pytest.mark.parametrize("staging", [False, True])
def test_an_update_that_changes_a_storage_endpoint_drops_its_credentials(demo, export, tmp_path, staging):
    if staging and connection.vendor != "postgresql":
        pytest.skip("the staging writer is PostgreSQL's")
    path = export(demo)
    storage = S3StorageSource.objects.get(project=demo)
    S3StorageSource.objects.filter(pk=storage.pk).update(access_key="AKIA-demo", secret_key="secret-demo")
    report = _import(path, "update", staging=staging)
    storage.refresh_from_db()
    assert (storage.access_key, storage.secret_key) == ("AKIA-demo", "secret-demo")  # same endpoint: kept
    assert report.secrets_dropped == [] and storage.name not in report.storage_sources_needing_credentials
    member = "antenna_s3storagesource.txt"
    moved = _edit(path, member, storage.uuid, "endpointUrl", "https://collector.example.org", tmp_path / "moved.zip")
    report = _import(moved, "update", staging=staging)
    storage.refresh_from_db()
    assert storage.endpoint_url == "https://collector.example.org"
    assert (storage.access_key, storage.secret_key) == ("", "")
    assert report.secrets_dropped == [storage.name] and storage.name in report.storage_sources_needing_credentials


def _with_user(path: Path, template, email: str, target: Path) -> tuple[Path, str]:
    """A copy of the archive whose user table also holds a newcomer (the template's row, another UUID and e-mail)."""
    newcomer = str(uuid.uuid4())
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "antenna_user.txt":
                row = next(line for line in data.decode().split("\n") if str(template.uuid) in line)
                added = row.replace(str(template.uuid), newcomer).replace(template.email, email)
                data = data.rstrip(b"\n") + b"\n" + added.encode() + b"\n"
            out.writestr(info, data)
    return target, newcomer


def test_an_update_that_gives_a_membership_to_another_user_moves_the_roles(demo, export, tmp_path):
    path = export(demo)
    membership = UserProjectMembership.objects.filter(project=demo).order_by("uuid").first()
    former = membership.user
    roles = roles_of(demo, former)
    assert roles
    path, newcomer = _with_user(path, former, "newcomer@example.org", tmp_path / "newcomer.zip")
    member = "antenna_userprojectmembership.txt"
    edited = _edit(path, member, membership.uuid, "userID", newcomer, tmp_path / "other-user.zip")
    _import(edited, "update")
    membership.refresh_from_db()
    assert membership.user.email == "newcomer@example.org" and membership.project == demo
    assert roles_of(demo, former) == [] and roles_of(demo, membership.user) == roles
