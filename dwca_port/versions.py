"""The version of the archive layout this toolkit writes, the oldest it still reads, and what else an
archive records about where it came from (the project table carries it; upgrades.py bridges the window).

Layout versions:
  1  the first layout (issue 5).
  2  the Darwin Core tables of issue 13 (the Antenna tables, what imports read, as in 1).
  3  the project row records its provenance: Antenna schema state, toolkit version, source instance.
"""

from __future__ import annotations

from importlib import metadata

from django.conf import settings

FORMAT_VERSION = 3
OLDEST_FORMAT_VERSION = 1  # archives from OLDEST_FORMAT_VERSION to FORMAT_VERSION import


def toolkit_version() -> str:
    """The installed toolkit's version (pyproject.toml), or "unknown" when run from a bare checkout."""
    try:
        return metadata.version("antenna-dwca-port")
    except metadata.PackageNotFoundError:
        return "unknown"


def source_instance() -> str | None:
    """This instance's name as archives record it (settings.DWCA_SOURCE_INSTANCE; None when unset)."""
    return getattr(settings, "DWCA_SOURCE_INSTANCE", "") or None


def unsupported(version: int) -> str | None:
    """Why an archive of layout `version` cannot be read here, naming both versions; None when it can."""
    if version > FORMAT_VERSION:
        return (
            f"archive format version {version} is newer than this toolkit reads ({FORMAT_VERSION}); upgrade the toolkit"
        )
    if version < OLDEST_FORMAT_VERSION:
        return (
            f"archive format version {version} is older than this toolkit reads (versions {OLDEST_FORMAT_VERSION} "
            f"to {FORMAT_VERSION}); re-export it with an older toolkit first"
        )
    return None
