"""List rows that break a declared unique constraint (exit 1 if any, 0 if none).

Checks every UniqueConstraint in the Meta of the ami apps' models that the database does not
enforce yet (with --all: every one), grouping rows as the unique index would. Run it before
migrating an existing database: name duplicates are renamed by the migration, detection and
classification duplicates are merged by `manage.py merge_duplicate_detections`.
"""

import json

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError

from ami.base.unique_violations import (
    ConstraintViolations,
    declared_unique_constraints,
    describe_key,
    find_violations,
    is_enforced,
)

WHAT_TO_DO = {
    "main.Detection": "merge with `manage.py merge_duplicate_detections` (try --dry-run first)",
    "main.Classification": "merge with `manage.py merge_duplicate_detections` (try --dry-run first)",
    "main.Deployment": '`manage.py migrate` renames them ("Name (2)", ...)',
    "main.Device": '`manage.py migrate` renames them ("Name (2)", ...)',
    "main.Site": '`manage.py migrate` renames them ("Name (2)", ...)',
    "main.Project": '`manage.py migrate` renames them ("Name (2)", ...)',
}


class Command(BaseCommand):
    help = "List every group of rows that breaks a unique constraint, per constraint, with ids."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print a JSON document instead of text")
        parser.add_argument("--all", action="store_true", help="also check constraints the database already enforces")
        parser.add_argument("--database", default="default", help="database alias (default: default)")

    def handle(self, *args, **options):
        using = options["database"]
        try:
            checked, skipped = self.check_constraints(using, include_enforced=options["all"])
        except DatabaseError as error:
            raise CommandError(
                f"Cannot read the tables ({str(error).strip().splitlines()[0]}); is the database migrated "
                "at least to main 0006_identity_uuids?"
            ) from error
        groups = sum(len(result.groups) for result in checked)
        if options["json"]:
            self.stdout.write(json.dumps(self.as_json(checked, skipped), cls=DjangoJSONEncoder, indent=2))
        else:
            self.write_text(checked, skipped)
        if groups:
            failing = sum(1 for result in checked if result.groups)
            raise CommandError(f"{groups} group(s) of duplicate rows in {failing} constraint(s).", returncode=1)

    def check_constraints(self, using, include_enforced):
        checked, skipped = [], []
        for model in self.models():
            for constraint in declared_unique_constraints(model):
                if not include_enforced and is_enforced(model, constraint, using):
                    skipped.append(f"{model._meta.label}.{constraint.name}")
                    continue
                result = ConstraintViolations(model, constraint)
                result.groups = find_violations(model, constraint, using)
                checked.append(result)
        return checked, skipped

    @staticmethod
    def models():
        for config in apps.get_app_configs():
            if config.name.startswith("ami."):
                yield from config.get_models()

    def write_text(self, checked, skipped):
        for result in checked:
            count = len(result.groups)
            self.stdout.write(
                f"{result.label} {describe_key(result.model, result.constraint)}: "
                f"{'no violations' if not count else f'{count} group(s)'}"
            )
            for group in result.groups:
                key = ", ".join(f"{name}={value!r}" for name, value in group.key.items())
                self.stdout.write(f"  {key}: ids {', '.join(str(pk) for pk in group.ids)}")
            if count and result.model._meta.label in WHAT_TO_DO:
                self.stdout.write(f"  -> {WHAT_TO_DO[result.model._meta.label]}")
        if skipped:
            self.stdout.write(
                f"{len(skipped)} constraint(s) already enforced by the database, not scanned (--all scans them)."
            )
        if not any(result.groups for result in checked):
            self.stdout.write(self.style.SUCCESS("No unique-constraint violations."))

    @staticmethod
    def as_json(checked, skipped):
        return {
            "violations": sum(len(result.groups) for result in checked),
            "constraints": [
                {
                    "model": result.model._meta.label,
                    "constraint": result.constraint.name,
                    "key": describe_key(result.model, result.constraint),
                    "groups": [{"key": group.key, "ids": group.ids} for group in result.groups],
                }
                for result in checked
            ],
            "enforced_not_scanned": skipped,
        }
