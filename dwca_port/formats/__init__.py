"""Tables <-> bytes, as Django's serializers are for models: the Darwin Core Archive (a zip,
formats/dwca.py) and the JSON interchange form (formats/json.py) write the same declared tables
and read them back for the importer through one interface (`TableSource`)."""

from __future__ import annotations

from pathlib import Path

from dwca_port.findings import Finding, Severity
from dwca_port.formats.base import Row, SourceError, TableSource, TableSummary
from dwca_port.formats.dwca import ArchiveSource
from dwca_port.formats.json import JsonSource

__all__ = ["Row", "SourceError", "TableSource", "TableSummary", "looks_like_json", "open_source"]


def looks_like_json(path: str | Path) -> bool:
    """A JSON document (object or array) rather than a zip: its first non-blank byte says so."""
    path = Path(path)
    if not path.is_file():
        return False
    with path.open("rb") as handle:
        return handle.read(64).lstrip()[:1] in (b"{", b"[")


def open_source(path: str | Path) -> TableSource:
    """An archive, or a JSON document when the file starts with "{"."""
    path = Path(path)
    if not path.exists():
        raise SourceError(Finding(1, "FILE_NOT_FOUND", Severity.BLOCKING, "no such file", file=str(path)))
    if path.is_dir():
        raise SourceError(Finding(1, "NOT_A_FILE", Severity.BLOCKING, "is a directory, not an archive", file=str(path)))
    return JsonSource(path) if looks_like_json(path) else ArchiveSource(path)
