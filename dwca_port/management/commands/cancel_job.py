"""python manage.py cancel_job ID: stop a queued or running job; what it did is rolled back."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from dwca_port.jobs.control import JobError, cancel, find_job


class Command(BaseCommand):
    help = "Cancel a queued or running job: it stops at its next step and nothing it did is kept."

    def add_arguments(self, parser):
        parser.add_argument("job", help="The job's id.")

    def handle(self, *args, **options):
        try:
            self.stdout.write(cancel(find_job(options["job"])))
        except JobError as error:
            raise CommandError(str(error)) from None
