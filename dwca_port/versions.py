"""The version of the archive layout this toolkit writes (the project table carries it)."""

FORMAT_VERSION = 1
