"""Identifier sets for uniqueness and referential checks on archives of millions of rows.

Only identifiers are held, never rows. Lowercase canonical UUIDs (what Antenna writes) are kept
as 16 raw bytes each in one growing bytearray, sorted once into a numpy array and searched in
batches: 10 million UUIDs take 160 MB. Any other identifier (foreign archives: "FISHES:1",
URIs) goes into a dict keyed case-insensitively, as the IPT compares them.

Duplicates among non-UUID values are known as they are added (the caller has the line).
Duplicates among UUIDs are only known after `finalize()`; the second pass over the file then
names their lines (`duplicate_keys`, `case_variants`).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dwca_port.checks.values import UUID_PATTERN

KEY_BYTES = 16


def uuid_key(value: str) -> bytes | None:
    """16 bytes for a lowercase canonical UUID, None for anything else."""
    if UUID_PATTERN.fullmatch(value):
        return bytes.fromhex(value.replace("-", ""))
    return None


class IdentifierSet:
    def __init__(self) -> None:
        self._keys = bytearray()  # 16-byte keys, unsorted until finalize()
        self._folded: dict[str, str] = {}  # casefolded non-UUID value -> first spelling
        self._variants: set[str] = set()  # later spellings that differ only in case
        self._sorted: np.ndarray | None = None
        self.duplicate_keys: set[bytes] = set()  # 16-byte keys present more than once
        self.case_variants: set[str] = set()  # values equal to a stored UUID but for case
        self.count = 0
        self.complete = True  # False when its file could not be read to the end: no reference is judged against it

    def add(self, value: str) -> str | None:
        """Record `value`; returns the earlier spelling when a non-UUID value repeats (exactly or but for case)."""
        self.count += 1
        key = uuid_key(value)
        if key is not None:
            self._keys += key
            return None
        folded = value.casefold()
        earlier = self._folded.get(folded)
        if earlier is None:
            self._folded[folded] = value
            return None
        if earlier != value:
            self._variants.add(value)
        return earlier

    def add_key(self, key: bytes) -> None:
        """Record an already computed 16-byte key (e.g. a digest of a pair of values)."""
        self.count += 1
        self._keys += key

    def finalize(self) -> None:
        """Sort the keys and find the repeated ones; no more values can be added after this."""
        keys = np.frombuffer(self._keys, dtype=f"S{KEY_BYTES}")
        keys.sort()
        if len(keys) > 1:
            repeated = keys[1:][keys[1:] == keys[:-1]]
            self.duplicate_keys = {bytes(key).ljust(KEY_BYTES, b"\0") for key in np.unique(repeated)}
        self._sorted = keys
        for folded, spelling in self._folded.items():
            key = uuid_key(folded)
            if key is not None and self._has_keys([key])[0]:
                self.case_variants.add(spelling)
        self.case_variants.update(value for value in self._variants if uuid_key(value.casefold()) is not None)

    def _has_keys(self, keys: Sequence[bytes]) -> np.ndarray:
        if not keys or self._sorted is None or not len(self._sorted):
            return np.zeros(len(keys), dtype=bool)
        wanted = np.frombuffer(b"".join(keys), dtype=f"S{KEY_BYTES}")
        positions = np.searchsorted(self._sorted, wanted)
        positions[positions == len(self._sorted)] = 0
        return self._sorted[positions] == wanted

    def contains_many(self, values: Sequence[str]) -> list[bool]:
        """Exact membership of each value (batch it: one numpy search for all the UUIDs)."""
        found = [False] * len(values)
        uuid_positions: list[int] = []
        keys: list[bytes] = []
        for position, value in enumerate(values):
            key = uuid_key(value)
            if key is None:
                found[position] = self._folded.get(value.casefold()) == value or value in self._variants
            else:
                uuid_positions.append(position)
                keys.append(key)
        for position, present in zip(uuid_positions, self._has_keys(keys)):
            found[position] = bool(present)
        return found

    def contains_keys(self, keys: Sequence[bytes]) -> list[bool]:
        return [bool(present) for present in self._has_keys(keys)]
