"""python manage.py job_status ID: a job's status, stages with percentages, errors and last log lines."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from dwca_port.jobs.control import JobError, describe, find_job


class Command(BaseCommand):
    help = "Show a job's status and the progress of its stages (export, import and clone jobs, and upstream's)."

    def add_arguments(self, parser):
        parser.add_argument("job", help="The job's id.")

    def handle(self, *args, **options):
        try:
            job = find_job(options["job"])
        except JobError as error:
            raise CommandError(str(error)) from None
        self.stdout.write("\n".join(describe(job)))
