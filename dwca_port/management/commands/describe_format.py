from django.core.management.base import BaseCommand

from dwca_port.format_doc import render


class Command(BaseCommand):
    help = "Print docs/format.md: every table and column of the archive, from the declarations."

    def handle(self, *args, **options):
        self.stdout.write(render(), ending="")
