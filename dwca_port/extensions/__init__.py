"""The archive's tables: the Darwin Core ones GBIF reads, then Antenna's own (full profile).

`ALL_TABLES` is the single list every reader and writer of the archive works from.
"""
from __future__ import annotations

import functools

from dwca_port.extensions.base import FULL, GBIF_PROFILE, PROFILES, Table


@functools.cache
def all_tables() -> tuple[Table, ...]:
    # Built on first use: the Antenna tables are derived from Django models, which must be loaded.
    from dwca_port.extensions.antenna import antenna_tables
    from dwca_port.extensions.darwin_core import DARWIN_CORE_TABLES

    return DARWIN_CORE_TABLES + antenna_tables()


def tables_for_profile(profile: str) -> tuple[Table, ...]:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    return tuple(table for table in all_tables() if profile in table.profiles)


def tables_by_row_type() -> dict[str, Table]:
    return {table.row_type: table for table in all_tables()}


def __getattr__(name: str):
    # ALL_TABLES and TABLES_BY_ROW_TYPE read like constants but are computed lazily (see all_tables).
    if name == "ALL_TABLES":
        return all_tables()
    if name == "TABLES_BY_ROW_TYPE":
        return tables_by_row_type()
    raise AttributeError(name)


__all__ = ["ALL_TABLES", "TABLES_BY_ROW_TYPE", "FULL", "GBIF_PROFILE", "all_tables", "tables_for_profile"]
