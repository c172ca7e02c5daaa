"""Identifier sets for uniqueness and referential checks on archives of millions of rows.

Only identifiers are held, never rows, and each as a 16-byte key in one growing bytearray:
a UUID is its own 16 bytes, any other identifier ("FISHES:1", a URI) the 16-byte BLAKE2b digest of
its case-folded text. 10 million identifiers take 160 MB. The keys are sorted once with numpy
(`finalize()`), then searched in batches.

Keys are case-insensitive, as the IPT compares identifiers: "ABC" and "abc" repeat each other, and
a reference matches an identifier whatever its case (the importer parses UUIDs the same way).
Repeated keys are known after `finalize()`; the second pass over the file names their lines and
tells exact repeats from repeats differing only in case.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from dwca_port.checks.syntax import UUID_PATTERN

KEY_BYTES = 16


def identifier_key(value: str) -> bytes:
    """16 bytes naming `value` case-insensitively: the UUID itself, or a digest of the folded text."""
    folded = value.casefold()
    if UUID_PATTERN.fullmatch(folded):
        return bytes.fromhex(folded.replace("-", ""))
    return hashlib.blake2b(folded.encode("utf-8", "surrogatepass"), digest_size=KEY_BYTES).digest()


class IdentifierSet:
    def __init__(self) -> None:
        self._keys = bytearray()  # 16-byte keys, unsorted until finalize()
        self._sorted: np.ndarray | None = None
        self.duplicate_keys: set[bytes] = set()  # keys present more than once
        self.count = 0
        self.complete = True  # False when its file could not be read to the end: no reference is judged against it

    def add(self, value: str) -> None:
        self.add_key(identifier_key(value))

    def add_key(self, key: bytes) -> None:
        """Record an already computed 16-byte key (e.g. a digest of a pair of values)."""
        self.count += 1
        self._keys += key

    def finalize(self) -> None:
        """Sort the keys and find the repeated ones; nothing can be added after this."""
        keys = np.frombuffer(self._keys, dtype=f"S{KEY_BYTES}")
        keys.sort()
        if len(keys) > 1:
            repeated = keys[1:][keys[1:] == keys[:-1]]
            # numpy drops trailing NUL bytes of S-type items: pad them back
            self.duplicate_keys = {bytes(key).ljust(KEY_BYTES, b"\0") for key in np.unique(repeated)}
        self._sorted = keys

    def contains_keys(self, keys: Sequence[bytes]) -> list[bool]:
        if not keys or self._sorted is None or not len(self._sorted):
            return [False] * len(keys)
        wanted = np.frombuffer(b"".join(keys), dtype=f"S{KEY_BYTES}")
        positions = np.searchsorted(self._sorted, wanted)
        positions[positions == len(self._sorted)] = 0
        return (self._sorted[positions] == wanted).tolist()

    def contains_many(self, values: Sequence[str]) -> list[bool]:
        """Membership of each value (batch them: one numpy search for all)."""
        return self.contains_keys([identifier_key(value) for value in values])
