"""Reading Camtrap DP packages in tests: CSV records by column name, from a zip or a folder."""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from pathlib import Path

# The standard's own example package (tests/fixtures/camtrap-dp/SOURCE.txt).
EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "camtrap-dp" / "example"


def files(path: Path) -> dict[str, bytes]:
    if path.is_dir():
        return {p.name: p.read_bytes() for p in sorted(path.iterdir())}
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def records(path: Path, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(files(path)[name].decode(), newline="")))


def descriptor(path: Path) -> dict:
    return json.loads(files(path)["datapackage.json"])


def copy_package(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def edit_csv(path: Path, change) -> None:
    """Rewrite a CSV file through change(rows) (rows: lists of cells, the header first)."""
    with path.open(newline="") as stream:
        rows = list(csv.reader(stream))
    rows = change(rows)
    with path.open("w", newline="") as stream:
        csv.writer(stream, lineterminator="\n").writerows(rows)
