"""The archive's tables: the Darwin Core ones GBIF reads, then Antenna's own (full profile).

`all_tables()` is the single list every reader and writer of the archive works from.
"""

from __future__ import annotations

import functools

from dwca_port.tables.base import (
    AC,
    ANTENNA,
    DC,
    DCTERMS,
    DWC,
    ECO,
    FULL,
    GBIF,
    GBIF_PROFILE,
    OBIS,
    PROFILES,
    Column,
    Statement,
    Table,
)

__all__ = [
    "AC",
    "ANTENNA",
    "DC",
    "DCTERMS",
    "DWC",
    "ECO",
    "FULL",
    "GBIF",
    "GBIF_PROFILE",
    "OBIS",
    "PROFILES",
    "Column",
    "Statement",
    "Table",
    "all_tables",
    "tables_for_profile",
]


@functools.cache
def all_tables() -> tuple[Table, ...]:
    # Built on first use: the declarations read Django's models, which must be loaded first.
    from dwca_port.tables.antenna import antenna_tables
    from dwca_port.tables.darwin_core import TABLES

    return TABLES + antenna_tables()


def tables_for_profile(profile: str) -> tuple[Table, ...]:
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    return tuple(table for table in all_tables() if profile in table.profiles)
