"""python manage.py clone_project --source-project 23 --name "New Project from Template" [--owner EMAIL] [--dry-run]
[--allow-duplicate-name] [--background]"""

from __future__ import annotations

from django.core.management.base import CommandError

from ami.users.models import User
from dwca_port.clone import CloneError, clone_project
from dwca_port.jobs.background import add_background_argument, clone_in_background
from dwca_port.management.commands.export_project import find_project
from dwca_port.management.long_command import LongCommand


def find_user(email: str):
    """An account by e-mail (case-insensitive, as the user manager looks it up), or a clear error."""
    user = User.objects.filter(email__iexact=email.strip()).first() if email.strip() else None
    if user is None:
        raise CommandError(f"no user with e-mail {email!r}")
    return user


class Command(LongCommand):
    help = (
        "Create a project from a template: its settings, stations, devices, sites, storage, pipeline "
        "configs, taxa lists, tags, capture-set definitions and members, without its data."
    )

    def add_arguments(self, parser):
        parser.add_argument("--source-project", required=True, help="The template project's id or UUID.")
        parser.add_argument("--name", required=True, help="The new project's name.")
        parser.add_argument("--owner", help="E-mail of the new project's owner (default: the template's owner).")
        parser.add_argument("--dry-run", action="store_true", help="Show what would be created; write nothing.")
        parser.add_argument(
            "--allow-duplicate-name",
            action="store_true",
            help="Allow the name of another project without organization (refused by default).",
        )
        self.add_quiet_argument(parser)
        add_background_argument(parser)

    def handle(self, *args, **options):
        source = find_project(options["source_project"])
        owner = find_user(options["owner"]) if options["owner"] is not None else None
        if options["background"]:
            self.stdout.write(
                clone_in_background(source, options["name"], owner, options["dry_run"], options["allow_duplicate_name"])
            )
            return
        try:
            report = clone_project(
                source,
                options["name"],
                owner=owner,
                dry_run=options["dry_run"],
                allow_duplicate_name=options["allow_duplicate_name"],
                progress=self.progress(options),
            )
        except CloneError as error:
            raise CommandError(str(error)) from None
        self.stdout.write("\n".join(report.lines()))
