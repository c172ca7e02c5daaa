"""Index a Taxon-core Darwin Core Archive (the GBIF Backbone export, a ChecklistBank export) for
offline name matching:

    python manage.py build_checklist_index backbone.zip [--out backbone.index.sqlite] [--checklist-key backbone]

Then match against it with --checklist backbone.index.sqlite (or the archive itself: the index
next to it is found and reused while the archive is unchanged)."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from dwca_port.taxonomy.checklists import describe
from dwca_port.taxonomy.errors import TaxonomyError
from dwca_port.taxonomy.matchers.local_index import build_index, default_index_path, is_index_file


class Command(BaseCommand):
    help = "Index a Taxon-core DwC-A (GBIF Backbone or ChecklistBank export) into an SQLite file for offline matching."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the checklist archive: a .zip or a folder with meta.xml and the Taxon core")
        parser.add_argument("--out", help="the index file to write (default: PATH.index.sqlite next to the archive)")
        parser.add_argument(
            "--checklist-key",
            help="the GBIF checklist the archive's keys belong to: backbone, col-xr "
            "or a dataset UUID (default: read from the archive's EML)",
        )

    def handle(self, *args, path, out=None, checklist_key=None, **options):
        source = Path(path)
        if not source.exists():
            raise CommandError(f"{source} does not exist")
        if is_index_file(source):
            raise CommandError(f"{source} is already an index; give the checklist archive it was built from")
        out = Path(out) if out else default_index_path(source)
        if out.resolve() == source.resolve():
            raise CommandError("--out must differ from the archive")
        started = time.monotonic()
        self.stderr.write(f"indexing {source} into {out}")
        try:
            summary = build_index(source, out, checklist_key=checklist_key, progress=self.stderr.write)
        except TaxonomyError as error:
            raise CommandError(str(error)) from None
        except OSError as error:
            raise CommandError(f"cannot write {out}: {error}") from None
        seconds = time.monotonic() - started
        self.stdout.write(
            f"Indexed {summary['rows']:,} name usages ({summary['accepted']:,} accepted or doubtful, "
            f"{summary['synonyms']:,} synonyms; {summary['skipped']:,} rows without id or name skipped, "
            f"{summary['duplicates']:,} duplicate ids ignored) in {seconds:.1f} s.\n"
            f"Checklist: {describe(summary['checklist_key'])} ({summary['checklist_key']})"
            + (f", titled {summary['title']!r}" if summary["title"] else "")
            + f"\nIndex: {summary['out']}"
        )
