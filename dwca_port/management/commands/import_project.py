"""python manage.py import_project nunavik.zip|storage:NAME [--on-conflict=error|skip|update] [--dry-run]
[--background] [...]"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from dwca_port.counts import number, seconds
from dwca_port.importer import CONFLICT_MODES, ImportOptions, ImportRefused, import_project
from dwca_port.jobs.background import add_background_argument, import_in_background
from dwca_port.management.long_command import LongCommand
from dwca_port.storage import StorageError, local_archive
from dwca_port.taxonomy.options import POLICIES, TaxaSettings
from dwca_port.versions import FORMAT_VERSION


class Command(LongCommand):
    help = "Import a project from a full-profile Darwin Core Archive (or its JSON form) in one transaction."

    def add_arguments(self, parser):
        parser.add_argument(
            "archive", help="The .zip archive or .json document: a path, or storage:NAME in Django's storage."
        )
        parser.add_argument(
            "--on-conflict",
            choices=CONFLICT_MODES,
            default="error",
            help="Rows whose UUID exists here: error (default: list them, write nothing), "
            "skip (keep the existing rows) or update (overwrite their fields).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Run everything, then roll back.")
        parser.add_argument(
            "--create-missing-users",
            action="store_true",
            help="Create unknown users as inactive placeholders (no usable password).",
        )
        parser.add_argument("--owner", metavar="EMAIL", help="Make this existing user the project's owner.")
        parser.add_argument("--into-organization", metavar="SLUG", help="Put the project in this organization.")
        parser.add_argument(
            "--report",
            metavar="FILE",
            help="Also write the report as JSON to FILE (on a refusal for conflicts: their UUIDs).",
        )
        add_taxa_arguments(parser)
        self.add_quiet_argument(parser)
        add_background_argument(parser)

    def handle(self, *args, **o):
        options = ImportOptions(
            on_conflict=o["on_conflict"],
            dry_run=o["dry_run"],
            create_missing_users=o["create_missing_users"],
            owner_email=o["owner"],
            into_organization=o["into_organization"],
            taxa=taxa_settings(o),
        )
        if o["background"]:
            self.stdout.write(import_in_background(o["archive"], options))
            return
        try:
            with local_archive(o["archive"]) as path:
                report = import_project(path, options, progress=self.progress(o))
        except StorageError as error:
            raise CommandError(f"import refused, nothing was written: {error}") from None
        except ImportRefused as error:
            if o["report"] and error.report is not None:
                self._write_report(o["report"], error.report)
            raise CommandError(f"import refused, nothing was written: {error}") from None
        if o["report"]:
            self._write_report(o["report"], report)
        self._print(report)

    def _write_report(self, path: str, report) -> None:
        try:
            Path(path).write_text(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n")
        except OSError as error:
            raise CommandError(f"cannot write the report to {path}: {error.strerror or error}") from None

    def _print(self, report) -> None:
        out = self.stdout.write
        verb = "Would import" if report.dry_run else "Imported"
        out(
            f"{verb} project {report.project.get('name')!r} (id {report.project.get('id')}, uuid "
            f"{report.project.get('uuid')}) "
            f"from {report.source} in {seconds(report.seconds)}"
            + (" [dry run: nothing was kept]" if report.dry_run else "")
        )
        if report.format_version is not None:
            out(f"  archive: {_origin(report)}")
        out(f"  {'model':<44} {'created':>9} {'skipped':>9} {'updated':>9} {'dropped':>9}")
        for label, counts in report.models.items():
            cells = (counts.created, counts.skipped, counts.updated, counts.dropped)
            out(f"  {label:<44} " + " ".join(f"{number(cell):>9}" for cell in cells))
        summary = report.taxa_summary
        if summary:
            for line in summary.splitlines():
                out(f"  taxa: {line}" if not line.startswith(" ") else f"  {line}")
        if report.users_not_found:
            out(
                f"  users not found ({len(report.users_not_found)}): {', '.join(report.users_not_found)}"
                " — their memberships were not created; their identifications were kept without a user"
            )
        if report.users_created:
            out(f"  placeholder users created (inactive): {', '.join(report.users_created)}")
        for line in report.dropped[:20]:
            out(f"  dropped: {line}")
        if report.storage_sources_needing_credentials:
            out(
                "  storage sources needing credentials (never exported): "
                + ", ".join(report.storage_sources_needing_credentials)
            )
        if report.secrets_dropped:
            out(
                "  storage sources whose endpoint or bucket changed: their stored credentials were dropped, "
                "enter them again: " + ", ".join(report.secrets_dropped)
            )
        if report.cache_differences:
            out(
                "  cached values that differed from the archive (recomputed here): "
                + ", ".join(f"{k} ({n})" for k, n in report.cache_differences.items())
            )
        else:
            out("  cached values: all recomputed values equal the archive's")


def _origin(report) -> str:
    """What the archive says of itself: layout version (and its upgrade), toolkit, instance, schema."""
    text = f"format version {report.format_version}"
    if report.format_version != FORMAT_VERSION:
        text += f" (read through the upgrade steps to {FORMAT_VERSION})"
    provenance = report.provenance
    if provenance.get("toolkitVersion"):
        text += f", written by toolkit {provenance['toolkitVersion']}"
    if provenance.get("sourceInstance"):
        text += f" on {provenance['sourceInstance']}"
    if provenance.get("antennaSchema"):
        text += f" (Antenna schema: {provenance['antennaSchema']})"
    return text


def add_taxa_arguments(parser) -> None:
    """--taxa, --checklist, --gbif-url, --gbif-timeout, --gbif-attempts: how the archive's taxa are
    mapped (shared with reconcile_taxa)."""
    parser.add_argument(
        "--taxa",
        choices=POLICIES,
        default="match",
        help="Archived taxa not found here by key or name: match (default: ask the matcher when there is "
        "one; a name it knows is created with its key, a synonym or misspelling lands on its accepted "
        "taxon, created with its key if missing; else, and without a matcher, created from the archive), "
        "gbif (create only what GBIF knows, as GBIF has it; needs a matcher), create (create them from "
        "the archive under their archived names; no matcher is asked) or strict (create nothing: refuse "
        "the import if a taxon cannot be mapped).",
    )
    parser.add_argument(
        "--checklist",
        metavar="backbone|col-xr|PATH",
        help="The matcher: the GBIF Backbone or Catalogue of Life XR through the GBIF species-match "
        "API, or a local checklist (a Taxon-core DwC-A or its index). A matcher is used when --checklist "
        "or --gbif-url is given, with every --taxa but create; neither: no matcher.",
    )
    parser.add_argument(
        "--gbif-url",
        metavar="URL",
        help="The GBIF species-match API or a self-hosted matching-ws (default https://api.gbif.org); "
        "given alone, it means --checklist backbone at that URL.",
    )
    parser.add_argument(
        "--gbif-timeout",
        metavar="SECONDS",
        type=_positive(float),
        help="Seconds to wait for the GBIF API to connect and to answer each request (default "
        f"{settings.TAXA_MATCHER_TIMEOUT:g}, settings.TAXA_MATCHER_TIMEOUT).",
    )
    parser.add_argument(
        "--gbif-attempts",
        metavar="N",
        type=_positive(int),
        help="Requests per name before GBIF counts as unavailable and the import is refused, nothing "
        f"written (default {settings.TAXA_MATCHER_ATTEMPTS}, settings.TAXA_MATCHER_ATTEMPTS). A GBIF that "
        "stops answering fails after about attempts x timeout seconds, plus 1 s, 2 s... between attempts.",
    )


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not value > 0:
            raise argparse.ArgumentTypeError(f"must be a positive {'number' if kind is float else 'integer'}: {text!r}")
        return value

    return parse


def taxa_settings(options: dict) -> TaxaSettings:
    return TaxaSettings(
        policy=options["taxa"],
        checklist=options["checklist"],
        gbif_url=options["gbif_url"],
        timeout=options.get("gbif_timeout"),
        attempts=options.get("gbif_attempts"),
    )
