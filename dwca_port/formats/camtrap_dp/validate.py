"""Checks a Camtrap DP package, offline, as the standard defines it:

1. datapackage.json against the Camtrap DP profile (JSON Schema, with jsonschema): its remote
   references resolve to local files (dwca_port/schemas/camtrap-dp/SOURCES.txt), never the network;
2. deployments.csv, media.csv and observations.csv against the standard's Table Schemas of the
   version the descriptor names (with frictionless, the field's reference tool): types, required
   fields, enums, patterns, ranges (a bbox in 0..1), primary and foreign keys. Large files are
   first offered to the fast path (columnar.py), which proves them clean with DuckDB or leaves
   them to frictionless: the findings are frictionless's either way.

A package is a folder holding datapackage.json, or a zip with datapackage.json at its root. Every
problem is one Finding naming the file, line (the CSV's physical line: 1 is the header), field
and rule; item 0 (toolkit rules), code CAMTRAP_*.
"""

from __future__ import annotations

import contextlib
import csv
import json
import shutil
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import frictionless
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from dwca_port.archive import ArchiveError, open_archive
from dwca_port.fast_path import wanted
from dwca_port.findings import Finding, Report, Severity
from dwca_port.formats.camtrap_dp.columnar import prove_clean
from dwca_port.formats.camtrap_dp.writer import DESCRIPTOR
from dwca_port.schemas import SCHEMA_DIR
from dwca_port.tables.camtrap.common import RESOURCES, schema_url

CAMTRAP_DIR = SCHEMA_DIR / "camtrap-dp"
GEOJSON = Path(frictionless.__file__).resolve().parent / "assets" / "profiles" / "geojson.json"
REMOTE = {
    "https://specs.frictionlessdata.io/schemas/data-package.json": CAMTRAP_DIR / "data-package.json",
    "http://json.schemastore.org/geojson.json": GEOJSON,
}
# Uncompressed bytes of the CSV files from which the fast path is tried first (setting
# DWCA_CAMTRAP_COLUMNAR_ABOVE_BYTES; measured in docs/benchmarks.md: below it, frictionless is as quick).
COLUMNAR_ABOVE_BYTES = 250_000
# Findings of one kind in one file beyond this many are counted in one last finding.
SHOWN_PER_KIND = 20
MAX_DESCRIPTOR_BYTES = 10 << 20


def is_package(path: str | Path) -> bool:
    """A folder with datapackage.json, or a zip with datapackage.json at its root."""
    path = Path(path)
    if path.is_dir():
        return (path / DESCRIPTOR).is_file()
    if path.is_file() and zipfile.is_zipfile(path):
        with contextlib.suppress(zipfile.BadZipFile, OSError), zipfile.ZipFile(path) as archive:
            return DESCRIPTOR in archive.namelist()
    return False


def _finding(code: str, message: str, file: str = DESCRIPTOR, **place) -> Finding:
    return Finding(0, code, Severity.BLOCKING, message, file=file, **place)


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _profile_validator() -> Draft4Validator:
    profile = _load(CAMTRAP_DIR / "camtrap-dp-profile.json")
    registry = Registry().with_resources(
        (url, Resource.from_contents(_load(local), default_specification=DRAFT4)) for url, local in REMOTE.items()
    )
    return Draft4Validator(profile, registry=registry, format_checker=FormatChecker())


def check_descriptor(descriptor: dict) -> list[Finding]:
    """datapackage.json against the profile."""
    findings = []
    for error in sorted(_profile_validator().iter_errors(descriptor), key=lambda e: list(map(str, e.path))):
        where = "/".join(str(part) for part in error.absolute_path) or "(the package)"
        findings.append(_finding("CAMTRAP_PROFILE", f"{where}: {error.message} (Camtrap DP profile)"))
    return findings


def _table_schemas(descriptor: dict) -> tuple[list[dict], list[Finding]]:
    """The three standard resources with their local Table Schemas."""
    resources, findings = [], []
    by_name = {r.get("name"): r for r in descriptor.get("resources", []) if isinstance(r, dict)}
    for name in RESOURCES:
        resource = by_name.get(name)
        if resource is None:
            findings.append(_finding("CAMTRAP_RESOURCE_MISSING", f"no resource named {name!r}"))
            continue
        path = resource.get("path")
        if resource.get("schema") != schema_url(name):
            findings.append(
                _finding(
                    "CAMTRAP_SCHEMA_UNKNOWN",
                    f"resource {name!r}: schema {resource.get('schema')!r} is not {schema_url(name)} "
                    "(this validator knows Camtrap DP 1.0.2 only)",
                )
            )
            continue
        if not isinstance(path, str) or not _safe(path):
            findings.append(_finding("CAMTRAP_PATH", f"resource {name!r}: path {path!r} is not a file in the package"))
            continue
        schema = _load(CAMTRAP_DIR / f"{name}-table-schema.json")
        resources.append({**resource, "schema": schema, "path": path})
    return resources, findings


def _safe(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return bool(parts) and not PurePosixPath(path).is_absolute() and ".." not in parts and "\\" not in path


def check_headers(folder: Path, resources: list[dict]) -> list[Finding]:
    """Each file's header against its schema's fields, which Table Schema matches by position:
    a missing, unknown or misplaced column is named once (rather than in every row after it)."""
    findings = []
    for resource in resources:
        file = resource["path"]
        if not (folder / file).is_file():
            findings.append(_finding("CAMTRAP_FILE_MISSING", "no such file in the package", file=file))
            continue
        with (folder / file).open(encoding="utf-8", errors="replace", newline="") as stream:
            header = next(csv.reader(stream), [])
        fields = resource["schema"]["fields"]
        names = [f["name"] for f in fields]
        for position, spec in enumerate(fields, 1):
            if spec["name"] not in header:
                rule = "required" if spec.get("constraints", {}).get("required") else "a field of the standard"
                findings.append(
                    _header_finding(file, position, spec["name"], f"column {spec['name']} is missing ({rule})")
                )
        for position, label in enumerate(header, 1):
            if label not in names:
                findings.append(_header_finding(file, position, label, f"column {label!r} is not in the schema"))
        if not findings and header != names:
            findings.append(
                _header_finding(file, None, "", "columns are not in the schema's order: " + ",".join(names))
            )
    return findings


def _header_finding(file: str, position: int | None, name: str, message: str) -> Finding:
    return _finding("CAMTRAP_HEADER", message, file=file, line=1, column=position, term=name)


def check_tables(folder: Path, resources: list[dict]) -> list[Finding]:
    """The rows (run once the headers are right: frictionless matches fields by position)."""
    package = frictionless.Package({"resources": resources}, basepath=str(folder))
    report = package.validate()
    findings, counts = [], Counter()
    for task in report.tasks:
        for error in task.errors:
            key = (task.place, error.type)
            counts[key] += 1
            if counts[key] <= SHOWN_PER_KIND:
                findings.append(_table_finding(task.place, error))
    for (file, kind), count in counts.items():
        if count > SHOWN_PER_KIND:
            findings.append(
                _finding("CAMTRAP_MORE", f"... and {count - SHOWN_PER_KIND} more {kind} error(s)", file=file)
            )
    findings.extend(_finding("CAMTRAP_PACKAGE", error.message) for error in report.errors)
    return findings


def _table_finding(file: str, error) -> Finding:
    field = getattr(error, "field_name", None) or ", ".join(getattr(error, "field_names", None) or ())
    line = getattr(error, "row_number", None)
    message = error.message
    if error.type == "foreign-key":
        values = ", ".join(repr(cell) for cell in error.field_cells)
        target = f"{error.reference_name}.csv" if error.reference_name else "the referenced table"
        message = f"{field} {values} refers to no row of {target} (foreign key)"
    return _finding(
        "CAMTRAP_" + error.type.upper().replace("-", "_"),
        f"{message} [{error.type}]",
        file=file,
        line=line if line is not None else (1 if "label" in error.type or "header" in error.type else None),
        column=getattr(error, "field_number", None),
        term=field,
    )


@contextlib.contextmanager
def _package_folder(path: Path) -> Iterator[Path]:
    """The package's folder: the folder itself, or a zip's members extracted to a temporary one
    through the safe zip reader (dwca_port/archive.py: names, links, bombs), since frictionless
    reads files."""
    if path.is_dir():
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="camtrap-dp-") as temporary, open_archive(path) as archive:
        for name in archive.names:
            if name.endswith("/"):
                continue
            target = Path(temporary) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(name) as source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink, 1 << 20)
        yield Path(temporary)


def validate_package(path: str | Path, columnar: bool | None = None) -> Report:
    """Every finding of the package at `path` (a folder or a zip).

    `columnar`: try the fast path on the CSV files first (True), never (False), or when they pass
    DWCA_CAMTRAP_COLUMNAR_ABOVE_BYTES (None). The findings are the same either way; the report's
    `columnar` says whether the fast path proved the files clean."""
    path = Path(path)
    report = Report()
    if not is_package(path):
        report.add(_finding("CAMTRAP_NOT_A_PACKAGE", f"{path} holds no {DESCRIPTOR}", file=str(path)))
        return report
    try:
        with _package_folder(path) as folder:
            _check_folder(folder, report, columnar)
    except ArchiveError as error:
        report.add(error.finding)
    return report


def _check_folder(folder: Path, report: Report, columnar: bool | None) -> None:
    descriptor_path = folder / DESCRIPTOR
    if descriptor_path.stat().st_size > MAX_DESCRIPTOR_BYTES:
        report.add(_finding("CAMTRAP_DESCRIPTOR", f"larger than {MAX_DESCRIPTOR_BYTES:,} bytes"))
        return
    try:
        descriptor = _load(descriptor_path)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        report.add(_finding("CAMTRAP_DESCRIPTOR", f"not JSON: {error}"))
        return
    if not isinstance(descriptor, dict):
        report.add(_finding("CAMTRAP_DESCRIPTOR", "not a JSON object"))
        return
    for finding in check_descriptor(descriptor):
        report.add(finding)
    resources, findings = _table_schemas(descriptor)
    for finding in findings:
        report.add(finding)
    headers = check_headers(folder, resources)
    for finding in headers:
        report.add(finding)
    if resources and not headers:
        size = sum((folder / resource["path"]).stat().st_size for resource in resources)
        # proven clean, the rows hold nothing frictionless would report
        report.columnar = wanted(size, columnar, "CAMTRAP_COLUMNAR_ABOVE_BYTES", COLUMNAR_ABOVE_BYTES) and prove_clean(
            folder, resources
        )
        if not report.columnar:
            for finding in check_tables(folder, resources):
                report.add(finding)
