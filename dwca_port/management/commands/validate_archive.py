"""python manage.py validate_archive ARCHIVE [--profile gbif|full] [--json]

ARCHIVE may also be a Camtrap DP package (a zip or a folder holding datapackage.json): it is
checked against the standard instead (dwca_port/formats/camtrap_dp/validate.py).

Exit status: 0 when nothing blocks, 1 when a blocking finding (or an unreadable archive) is
reported, 2 on a usage error or a failure of the validator itself.
"""

from __future__ import annotations

import json

from django.core.management.base import CommandError

from dwca_port.findings import Report
from dwca_port.formats.camtrap_dp.validate import is_package, validate_package
from dwca_port.management.long_command import LongCommand
from dwca_port.tables import PROFILES
from dwca_port.validate import validate_archive


class Command(LongCommand):
    help = "Check a Darwin Core Archive (docs/validation.md) or a Camtrap DP package (docs/camtrap-dp.md)."

    def add_arguments(self, parser):
        parser.add_argument("archive", help="path of the archive (.zip)")
        parser.add_argument("--profile", choices=PROFILES, help="gbif or full (default: detected from the rowTypes)")
        parser.add_argument("--json", action="store_true", help="print a machine-readable report")
        self.add_quiet_argument(parser)

    def handle(self, *args, **options):
        path = options["archive"]
        try:
            progress = self.progress(options)
            try:
                report = (
                    validate_package(path)
                    if is_package(path)
                    else validate_archive(path, profile=options["profile"], progress=progress)
                )
            finally:
                progress.finish()
        except Exception as error:  # a bug in the validator: say so in one line, never a traceback
            if options.get("traceback"):
                raise
            raise CommandError(
                f"{path}: the validator failed ({type(error).__name__}: {error}); please report it", returncode=2
            ) from None
        if options["json"]:
            self.stdout.write(json.dumps(as_json(path, options["profile"], report), indent=2, ensure_ascii=False))
        else:
            self.stdout.write(as_text(path, report))
        if not report.ok:
            raise CommandError(f"{path}: {len(report.blocking)} blocking finding(s)", returncode=1)


def as_json(path: str, profile: str | None, report: Report) -> dict:
    return {
        "archive": str(path),
        "profile": profile,
        "ok": report.ok,
        "blocking": len(report.blocking),
        "warnings": len(report.warnings),
        "findings": [finding.as_dict() for finding in report.findings],
    }


def as_text(path: str, report: Report) -> str:
    """Findings grouped by file, each with its place, message and rule."""
    verdict = "valid" if report.ok else "NOT valid"
    lines = [f"{path}: {verdict} ({len(report.blocking)} blocking, {len(report.warnings)} warning(s))"]
    by_file: dict[str, list] = {}
    for finding in report.findings:  # files in order of first finding, findings in the order found
        by_file.setdefault(finding.file, []).append(finding)
    for file, findings in by_file.items():
        lines.append(file or "archive")
        for finding in findings:
            place = ", ".join(
                part
                for part in (
                    f"line {finding.line}" if finding.line is not None else "",
                    f"column {finding.column}" if finding.column is not None else "",
                )
                if part
            )
            if finding.term:
                place += f" ({finding.term.rsplit('/', 1)[-1]})"
            where = f"{place.strip()}: " if place.strip() else ""
            lines.append(f"  {where}{finding.message} [{finding.severity.value} #{finding.item} {finding.code}]")
    return "\n".join(lines)
