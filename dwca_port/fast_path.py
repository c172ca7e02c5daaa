"""What the columnar fast paths of validation share (checks/columnar.py for a Darwin Core Archive,
formats/camtrap_dp/columnar.py for a Camtrap DP package): they prove data clean with DuckDB or
raise NotProven, and the precise reader runs. DuckDB works under a memory limit with its scratch
on disk, so memory stays flat however large the data."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator

from dwca_port.archive import configured

try:
    import duckdb
except ImportError:  # the precise readers need nothing more than Python
    duckdb = None

MEMORY_LIMIT = "256MB"  # DuckDB spills past it to its scratch directory
# What DuckDB raises on data it cannot read or a query it cannot run: "not proven".
DUCKDB_ERRORS: tuple[type[Exception], ...] = (duckdb.Error,) if duckdb is not None else ()


class NotProven(Exception):
    """Something the precise reader must look at (or explain)."""


def wanted(size: int, columnar: bool | None, setting: str, default: int) -> bool:
    """Whether to try a fast path first: asked for (True), refused (False), or when the data's
    uncompressed bytes reach the setting DWCA_<setting> (None)."""
    if columnar is not None:
        return columnar
    return duckdb is not None and size >= configured(setting, default)


@contextlib.contextmanager
def scratch_connection(prefix: str) -> Iterator[tuple[object, str]]:
    """An in-memory DuckDB connection whose blocks past MEMORY_LIMIT go to a scratch directory,
    and that directory (for files of one's own); both gone afterwards. NotProven without DuckDB."""
    if duckdb is None:
        raise NotProven
    with tempfile.TemporaryDirectory(prefix=prefix) as scratch:
        connection = duckdb.connect(":memory:")
        try:
            connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
            connection.execute(f"SET temp_directory = '{scratch}'")
            connection.execute("SET preserve_insertion_order = false")
            connection.execute("SET enable_progress_bar = false")
            yield connection, scratch
        finally:
            connection.close()
