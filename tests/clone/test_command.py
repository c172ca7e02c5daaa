"""The clone_project command: output, dry run, and clean refusals."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from ami.jobs.models import Job
from ami.main.models import Organization, Project
from ami.users.models import User
from ami.users.roles import ProjectManager, roles_of

from .conftest import small_template
from .expect import database_snapshot

pytestmark = pytest.mark.django_db


def clone(*args: str) -> str:
    out = io.StringIO()
    call_command("clone_project", *args, stdout=out)
    return out.getvalue()


def test_command_clones_by_id_and_prints_the_summary(template):
    output = clone("--source-project", str(template.pk), "--name", "New Project from Template")
    clone_row = Project.objects.get(name="New Project from Template")
    assert output.startswith(f"Cloned project {template.pk} ({template.name}) into project {clone_row.pk}")
    assert "main.Deployment" in output and "credentials copied" in output and "main.SourceImage:" in output
    assert clone_row.deployments.count() == template.deployments.count()


def test_command_finds_the_template_by_uuid_and_the_owner_by_email_in_any_case(db):
    template = small_template()
    other = User.objects.create_user(email="someone@example.org")
    clone("--source-project", str(template.uuid), "--name", "By UUID", "--owner", "SomeOne@Example.ORG")
    clone_row = Project.objects.get(name="By UUID")
    assert clone_row.owner == other and roles_of(clone_row, other) == [ProjectManager]


def test_dry_run_writes_nothing_and_reports_the_same_counts(template):
    before = database_snapshot()
    output = clone("--source-project", str(template.pk), "--name", "Rehearsal", "--dry-run")
    assert database_snapshot() == before
    assert output.startswith("Dry run: nothing was written.")
    real = clone("--source-project", str(template.pk), "--name", "Rehearsal")
    assert output.splitlines()[1:] == real.splitlines()[1:]  # same rows, same summary


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--source-project", "999999", "--name", "X"], "no project with id or UUID '999999'"),
        (
            ["--source-project", "00000000-0000-4000-8000-000000000000", "--name", "X"],
            "no project with id or UUID '00000000-0000-4000-8000-000000000000'",
        ),
        (["--source-project", "not-a-project", "--name", "X"], "no project with id or UUID 'not-a-project'"),
        (["--name", ""], "the new project's name is empty"),
        (["--name", "   "], "the new project's name is empty"),
        (["--name", "x" * 81], "the new project's name is 81 characters long; at most 80 are allowed"),
        (["--name", "Taken"], "project {taken} is already named 'Taken' in the same organization; choose another name"),
        (
            ["--name", "Small template"],
            "project {template} is already named 'Small template' in the same organization; choose another name",
        ),
        (["--name", "Fine", "--owner", "nobody@example.org"], "no user with e-mail 'nobody@example.org'"),
        (["--name", "Fine", "--owner", ""], "no user with e-mail ''"),
    ],
)
def test_bad_input_is_refused_in_one_line_and_changes_nothing(db, arguments, message):
    organization = Organization.objects.create(name="Org", slug="org")
    template = small_template(organization=organization)
    taken = Project.objects.create(name="Taken", organization=organization, create_defaults=False)
    if "--source-project" not in arguments:
        arguments = ["--source-project", str(template.pk), *arguments]
    before = database_snapshot()
    with pytest.raises(CommandError) as refused:
        clone(*arguments)
    assert str(refused.value) == message.format(taken=taken.pk, template=template.pk)
    assert "\n" not in str(refused.value)
    assert database_snapshot() == before


def test_a_background_clone_checks_the_name_before_it_is_queued(db):
    template = small_template()  # no organization
    jobs = Job.objects.count()
    with pytest.raises(CommandError) as refused:
        clone("--source-project", str(template.pk), "--name", "Small template", "--background")
    assert "pass --allow-duplicate-name" in str(refused.value) and "\n" not in str(refused.value)
    assert Job.objects.count() == jobs


def test_a_name_taken_by_another_project_without_organization_is_refused(db):
    template = small_template()  # no organization: upstream's personal projects
    other = Project.objects.create(name="Same name", create_defaults=False)
    before = database_snapshot()
    for name, taken in (("Small template", template.pk), ("  Same name  ", other.pk)):
        with pytest.raises(CommandError) as refused:
            clone("--source-project", str(template.pk), "--name", name)
        assert str(refused.value) == (
            f"project {taken} is already named {name.strip()!r}, also without organization; "
            "choose another name or pass --allow-duplicate-name"
        )
    assert database_snapshot() == before


def test_a_name_used_in_an_organization_is_free_outside_it(db):
    organization = Organization.objects.create(name="Org", slug="org")
    Project.objects.create(name="Same name", organization=organization, create_defaults=False)
    clone("--source-project", str(small_template().pk), "--name", "Same name")
    assert Project.objects.filter(name="Same name", organization=None).count() == 1


def test_allow_duplicate_name_clones_under_a_taken_name_without_organization(db):
    template = small_template()
    Project.objects.create(name="Same name", create_defaults=False)
    clone("--source-project", str(template.pk), "--name", "Small template", "--allow-duplicate-name")
    clone("--source-project", str(template.pk), "--name", "  Same name  ", "--allow-duplicate-name")
    assert Project.objects.filter(name="Small template").count() == 2
    assert Project.objects.filter(name="Same name").count() == 2  # the name is stripped


def test_a_template_without_owner_gives_a_clone_without_owner(db):
    template = small_template()
    Project.objects.filter(pk=template.pk).update(owner=None)
    clone("--source-project", str(template.pk), "--name", "Nobody's")
    assert Project.objects.get(name="Nobody's").owner is None


@pytest.mark.slow
def test_a_refusal_exits_non_zero_with_one_line(tmp_path: Path):
    """Through manage.py, on a scratch SQLite database (the test database lives in a transaction)."""
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'scratch.sqlite3'}"}
    manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
    subprocess.run([*manage, "migrate", "--verbosity", "0"], env=environment, check=True, capture_output=True)
    missing = str(uuid.uuid4())
    result = subprocess.run(
        [*manage, "clone_project", "--source-project", missing, "--name", "X"],
        env=environment,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"CommandError: no project with id or UUID '{missing}'"]
    assert result.stdout == ""
