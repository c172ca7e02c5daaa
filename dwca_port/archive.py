"""Safe reading of a Darwin Core Archive (a zip): members are streamed through `zipfile`, never extracted.

Opening an archive checks the whole central directory first and refuses, with an
`ArchiveError` carrying a Finding (checklist item 1):
- names that could escape a folder or mean something else on another system: absolute paths,
  `..`, backslashes, drive letters, control characters, NUL bytes;
- symbolic links, directory entries carrying data, a name that is both a file and a directory,
  nested archives, duplicate names (also differing only in case), encrypted members,
  unsupported compression, overlapping entries;
- zip bombs: too many members, a total declared inflated size or a per-member compression
  ratio over the limits.
Headers can lie, so every member stream also counts the bytes it inflates and stops at the
declared size and at a hard cap.

Limits are module constants; a Django setting `DWCA_<NAME>` (e.g. DWCA_MAX_INFLATED_BYTES) overrides each.
"""

from __future__ import annotations

import io
import os
import re
import stat
import struct
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from dwca_port.findings import Finding, Severity

MAX_MEMBERS = 1000
MAX_INFLATED_BYTES = 32 * 1024**3  # sum of the declared sizes of all members
MAX_COMPRESSION_RATIO = 200  # inflated / compressed, for members above RATIO_MIN_BYTES
RATIO_MIN_BYTES = 1024 * 1024
MAX_XML_BYTES = 16 * 1024 * 1024  # meta.xml and eml.xml are read whole, so they get a small cap

_SUPPORTED_COMPRESSION = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_NESTED_SUFFIXES = (".zip", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".7z", ".rar", ".jar", ".zst")
_NESTED_MAGIC = (
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ\x00",
    b"7z\xbc\xaf\x27\x1c",
    b"Rar!",
    b"\x28\xb5\x2f\xfd",
)
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def configured(name: str, default: int) -> int:
    """A limit: Django setting DWCA_<name> when set, else the module default."""
    try:
        from django.conf import settings

        if settings.configured:
            return int(getattr(settings, f"DWCA_{name}", default))
    except ImportError:  # used outside Django
        pass
    return default


class ArchiveError(Exception):
    """The archive (or one member) cannot be read safely; `finding` says where and why."""

    def __init__(self, finding: Finding):
        super().__init__(str(finding))
        self.finding = finding


def _refuse(code: str, message: str, member: str = "") -> ArchiveError:
    return ArchiveError(Finding(1, code, Severity.BLOCKING, message, file=member))


_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    struct.error,
    NotImplementedError,
    RuntimeError,
)


class Archive:
    """An open zip whose members have all passed the safety checks.

    Use `open_archive(path_or_bytes)`; `names` lists the file members, `open(name)` streams one.
    """

    def __init__(self, zip_file: zipfile.ZipFile, label: str, handle: BinaryIO):
        self._zip = zip_file
        self._handle = handle
        self.label = label
        self._infos: dict[str, zipfile.ZipInfo] = {}
        self.directories: list[str] = []
        self._check_directory()

    # -- the checks run once, on the central directory ---------------------------------------

    def _check_directory(self) -> None:
        infos = self._zip.infolist()
        if len(infos) > configured("MAX_MEMBERS", MAX_MEMBERS):
            raise _refuse(
                "ARCHIVE_TOO_MANY_MEMBERS", f"{len(infos)} members (limit {configured('MAX_MEMBERS', MAX_MEMBERS)})"
            )
        total = 0
        folded: dict[str, str] = {}
        for info in infos:
            name = self._check_name(info)
            if name.casefold() in folded:
                other = folded[name.casefold()]
                what = "twice" if other == name else f"twice, differing only in case ({other!r})"
                raise _refuse("ARCHIVE_DUPLICATE_MEMBER", f"member name appears {what}", name)
            folded[name.casefold()] = name
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise _refuse("ARCHIVE_SYMLINK", "member is a symbolic link", name)
            if info.is_dir():
                if info.file_size or info.compress_size > 2:
                    raise _refuse("ARCHIVE_DIRECTORY_WITH_DATA", "directory entry carries data", name)
                self.directories.append(name)
                continue
            if info.flag_bits & 0x1:
                raise _refuse("ARCHIVE_ENCRYPTED", "member is encrypted", name)
            if info.compress_type not in _SUPPORTED_COMPRESSION:
                raise _refuse(
                    "ARCHIVE_COMPRESSION_UNSUPPORTED", f"unsupported compression method {info.compress_type}", name
                )
            if name.lower().endswith(_NESTED_SUFFIXES):
                raise _refuse("ARCHIVE_NESTED", "nested archive (archives inside the archive are not read)", name)
            ratio_limit = configured("MAX_COMPRESSION_RATIO", MAX_COMPRESSION_RATIO)
            if info.file_size > configured("RATIO_MIN_BYTES", RATIO_MIN_BYTES) and info.file_size > ratio_limit * max(
                info.compress_size, 1
            ):
                raise _refuse(
                    "ARCHIVE_COMPRESSION_RATIO",
                    f"inflates {info.file_size // max(info.compress_size, 1)}x (limit {ratio_limit}x): a zip bomb",
                    name,
                )
            total += info.file_size
            self._infos[name] = info
        limit = configured("MAX_INFLATED_BYTES", MAX_INFLATED_BYTES)
        if total > limit:
            raise _refuse("ARCHIVE_TOO_LARGE", f"members inflate to {total} bytes (limit {limit})")
        self._check_file_directory_clash()
        self._check_overlaps(infos)

    @staticmethod
    def _check_name(info: zipfile.ZipInfo) -> str:
        raw = info.orig_filename
        name = info.filename
        if not raw or raw in ("/", "."):
            raise _refuse("ARCHIVE_UNSAFE_PATH", "member with an empty name")
        if "\x00" in raw or _CONTROL.search(raw):
            raise _refuse("ARCHIVE_UNSAFE_PATH", "member name holds control characters or NUL", repr(raw))
        if "\\" in raw:
            raise _refuse("ARCHIVE_UNSAFE_PATH", "member name holds a backslash", raw)
        if raw.startswith("/") or _DRIVE.match(raw):
            raise _refuse("ARCHIVE_UNSAFE_PATH", "member name is an absolute path", raw)
        parts = raw.rstrip("/").split("/")
        if any(part in ("..", ".", "") for part in parts):
            raise _refuse("ARCHIVE_UNSAFE_PATH", "member name has '..', '.' or empty path parts", raw)
        return name

    def _check_file_directory_clash(self) -> None:
        folders = {name.rstrip("/") for name in self.directories}
        for name in self._infos:
            parts = name.split("/")
            folders.update("/".join(parts[:depth]) for depth in range(1, len(parts)))
        for name in self._infos:
            if name in folders:
                raise _refuse("ARCHIVE_UNSAFE_PATH", "name is both a file and a directory", name)

    @staticmethod
    def _check_overlaps(infos: list[zipfile.ZipInfo]) -> None:
        """Entries sharing compressed bytes are how the densest zip bombs are built."""
        ordered = sorted((info for info in infos), key=lambda info: info.header_offset)
        for current, following in zip(ordered, ordered[1:]):
            if current.header_offset + 30 + current.compress_size > following.header_offset:
                raise _refuse(
                    "ARCHIVE_OVERLAPPING_MEMBERS",
                    f"member overlaps {following.filename!r} (a zip bomb construction)",
                    current.filename,
                )

    # -- access ------------------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        return list(self._infos)

    def has(self, name: str) -> bool:
        return name in self._infos

    def size(self, name: str) -> int:
        return self._infos[name].file_size

    def open(self, name: str, max_bytes: int | None = None) -> BinaryIO:
        """A buffered binary stream of one member, stopped at its declared size and at `max_bytes`
        (by default the archive-wide inflated limit)."""
        if max_bytes is None:
            max_bytes = configured("MAX_INFLATED_BYTES", MAX_INFLATED_BYTES)
        info = self._infos.get(name)
        if info is None:
            raise _refuse("DWCA_MEMBER_NOT_FOUND", "no such member in the archive", name)
        try:
            inner = self._zip.open(info)
        except _READ_ERRORS as error:
            raise _refuse("DWCA_UNREADABLE", f"member cannot be read: {error}", name) from None
        return io.BufferedReader(_CappedStream(inner, info, max_bytes), 1 << 20)

    def read(self, name: str, max_bytes: int) -> bytes:
        """A whole (small) member, e.g. meta.xml, refused past `max_bytes`."""
        if self.size(name) > max_bytes:
            raise _refuse(
                "ARCHIVE_MEMBER_TOO_LARGE", f"{self.size(name)} bytes (limit {max_bytes} for this file)", name
            )
        with self.open(name, max_bytes) as stream:
            return stream.read()

    def close(self) -> None:
        self._zip.close()
        self._handle.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _CappedStream(io.RawIOBase):
    """Counts inflated bytes: never more than the declared size, never more than the cap."""

    def __init__(self, inner: BinaryIO, info: zipfile.ZipInfo, max_bytes: int):
        self._inner = inner
        self._name = info.filename
        self._declared = info.file_size
        self._cap = max_bytes
        self._count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self._inner.read(len(buffer))
        except _READ_ERRORS as error:
            raise _refuse("DWCA_UNREADABLE", f"member is damaged: {error}", self._name) from None
        if self._count == 0 and data.startswith(_NESTED_MAGIC):
            raise _refuse("ARCHIVE_NESTED", "member is itself a compressed archive", self._name)
        self._count += len(data)
        if self._count > self._declared:
            raise _refuse(
                "ARCHIVE_SIZE_MISMATCH", f"inflates past its declared size of {self._declared} bytes", self._name
            )
        if self._count > self._cap:
            raise _refuse("ARCHIVE_MEMBER_TOO_LARGE", f"more than {self._cap} bytes", self._name)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


def _describe_unreadable(head: bytes, size: int) -> str:
    if size == 0:
        return "the file is empty (0 bytes), not a zip archive"
    if head.startswith(b"PK\x03\x04"):
        return "truncated or damaged zip: its central directory is missing"
    if head.startswith(b"\x1f\x8b"):
        return "a gzip/tar.gz file; only zip archives are read"
    return "not a zip archive"


def open_archive(source: str | os.PathLike | bytes) -> Archive:
    """Open an archive from a path or from bytes; raises ArchiveError (item 1) when it is unreadable or unsafe."""
    if isinstance(source, (bytes, bytearray)):
        label, handle = "archive", io.BytesIO(bytes(source))
    else:
        path = Path(source)
        label = path.name
        if not path.exists():
            raise _refuse("DWCA_UNREADABLE", f"{path} does not exist")
        if path.is_dir():
            raise _refuse("DWCA_UNREADABLE", f"{path} is a directory, not a zip archive")
        try:
            handle = path.open("rb")
        except OSError as error:
            raise _refuse("DWCA_UNREADABLE", f"{path} cannot be opened: {error.strerror}") from None
    head = handle.read(8)
    handle.seek(0, io.SEEK_END)
    size = handle.tell()
    handle.seek(0)
    try:
        zip_file = zipfile.ZipFile(handle)
    except _READ_ERRORS:
        handle.close()
        raise _refuse("DWCA_UNREADABLE", _describe_unreadable(head, size)) from None
    try:
        return Archive(zip_file, label, handle)
    except ArchiveError:
        zip_file.close()
        handle.close()
        raise
    except _READ_ERRORS as error:
        zip_file.close()
        handle.close()
        raise _refuse("DWCA_UNREADABLE", f"damaged zip: {error}") from None
