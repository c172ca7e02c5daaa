"""python manage.py reconcile_taxa nunavik.zip [--taxa=match|gbif|create|strict] [--checklist backbone|col-xr|PATH]
[--gbif-url URL] [--report taxa.csv|taxa.json]

A dry run of the taxa part of an import: how each archived taxon would map onto this instance's
taxonomy, what would be created and what refused. Reads the archive and the database, writes
nothing to the database. Exit status 0, or 1 when the policy would refuse taxa (the import would
be refused too).
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ami.main.models import Taxon
from dwca_port.formats import SourceError, open_source
from dwca_port.importer import ImportOptions, ImportRefused
from dwca_port.importer.state import ImportState
from dwca_port.importer.taxa import reconcile_rows
from dwca_port.management.commands.import_project import add_taxa_arguments, taxa_settings
from dwca_port.tables import Table, all_tables
from dwca_port.taxonomy import MatcherUnavailable, TaxonomyError, report
from dwca_port.taxonomy.options import TaxaSettingsError, one_line


class Command(BaseCommand):
    help = "Report how an archive's taxa would map onto this instance's taxonomy (dry: writes nothing)."

    def add_arguments(self, parser):
        parser.add_argument("archive", help="The .zip archive, its folder, or the .json document.")
        add_taxa_arguments(parser)
        parser.add_argument(
            "--report", metavar="FILE", help="Write one row per archived taxon to FILE: CSV (.csv) or JSON (.json)."
        )
        parser.add_argument("--quiet", action="store_true", help="No progress on stderr.")

    def handle(self, *args, **o):
        destination = Path(o["report"]) if o["report"] else None
        if destination is not None and destination.suffix.lower() not in (".csv", ".json"):
            raise CommandError(f"--report must end in .csv or .json: {destination}")
        table = next(t for t in all_tables() if t.node == Taxon._meta.label and not t.link)
        rows = self._rows(o["archive"], table)
        progress = None if o["quiet"] else (lambda message: (self.stderr.write(message), self.stderr.flush()))
        try:
            result = reconcile_rows(table, rows, taxa_settings(o), progress)
        except MatcherUnavailable as error:
            raise CommandError(
                f"the matcher is unavailable ({one_line(error)}); retry later or give a local --checklist"
            ) from None
        except (TaxonomyError, TaxaSettingsError) as error:
            raise CommandError(one_line(error)) from None
        if destination is not None:
            try:
                (report.write_json if destination.suffix.lower() == ".json" else report.write_csv)(result, destination)
            except OSError as error:
                raise CommandError(f"cannot write the report to {destination}: {error.strerror or error}") from None
        self.stdout.write(report.summary(result))
        if destination is not None:
            self.stdout.write(f"Report: {destination} ({len(result.decisions)} rows).")
        if result.refused:
            self.stdout.flush()
            raise CommandError(
                f"{len(result.refused)} archived taxa would be refused with --taxa={result.policy.value}; "
                "the import would write nothing",
                returncode=1,
            )

    def _rows(self, path: str, table: Table) -> list[dict]:
        """The archive's taxon rows as {term: value}, each cell parsed by its column's kind."""
        if not Path(path).exists():
            raise CommandError(f"{path}: no such file or folder")
        try:
            source = open_source(path)
        except SourceError as error:
            raise CommandError(str(error.finding)) from None
        try:
            if not source.has(table):
                raise CommandError(
                    f"{path}: no Antenna taxon table (rowType {table.row_type}); "
                    "only a full-profile archive carries taxa"
                )
            return [values for _, values in ImportState(source, ImportOptions()).parsed_rows(table)]
        except ImportRefused as error:
            raise CommandError(str(error)) from None
        finally:
            source.close()
