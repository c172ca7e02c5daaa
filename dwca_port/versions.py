"""The version of the archive layout this toolkit writes (the project table carries it)."""

FORMAT_VERSION = 2  # 2: Darwin Core tables of issue 13 (the Antenna tables, what imports read, as in 1)
