"""Archives in Django's storage (the local folder by default, S3 through django-storages).

Both ways stream through a local temporary file: an export is written to one (a zip is built with
seeks) and handed to the storage, which copies it in chunks (S3: a multipart upload); an import
reads a local copy, because a zip is read from its end and jumps between members: ranged reads
against S3 would cost a round trip per seek, a spooled copy costs one sequential download
(S3: boto3's download_fileobj, in parallel ranged parts) and disk, never memory. A local path is
read where it lies. The limits (settings.DWCA_MAX_EXPORT_BYTES, DWCA_MAX_IMPORT_BYTES) are
checked before anything is moved.
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage, storages

from dwca_port.findings import one_line

STORAGE_PREFIX = "storage:"
CHUNK = 8 * 1024 * 1024


class StorageError(Exception):
    """An archive cannot be stored or fetched; the message says which and why, in one line."""


def storage_name(reference: str) -> str | None:
    """The storage name in `storage:NAME`, or None for a local path."""
    return reference[len(STORAGE_PREFIX) :].lstrip("/") if reference.startswith(STORAGE_PREFIX) else None


def check_size(size: int, limit: int, what: str, label: str) -> None:
    if limit and size > limit:
        raise StorageError(
            f"{label}: the {what} is {size:,} bytes, over the limit of {limit:,} bytes "
            f"(settings.DWCA_MAX_{what.split()[0].upper()}_BYTES)"
        )


def store_export(path: Path, name: str) -> tuple[str, str, int]:
    """Copy the finished archive at `path` into the storage as `name` (or a free name beside it):
    (stored name, URL, size)."""
    size = path.stat().st_size
    check_size(size, settings.DWCA_MAX_EXPORT_BYTES, "export archive", name)
    try:
        with path.open("rb") as handle:
            stored = default_storage.save(name, File(handle, name=name))
        return stored, permanent_url(stored), size
    except Exception as error:  # the backends raise their own kinds (OSError, botocore errors)
        raise StorageError(f"{name}: cannot store the archive: {one_line(error)}") from None


@contextlib.contextmanager
def local_archive(reference: str) -> Iterator[Path]:
    """A local path to read the archive named by `reference` (a path, or `storage:NAME`), within
    the size limit; a copy from the storage is deleted afterwards."""
    name = storage_name(reference)
    if name is None:
        path = Path(reference)
        if path.is_file():
            check_size(path.stat().st_size, settings.DWCA_MAX_IMPORT_BYTES, "import archive", reference)
        yield path  # a missing path is the importer's to report, as before
        return
    try:
        size = default_storage.size(name)
    except Exception as error:
        raise StorageError(f"{reference}: not found in the storage ({one_line(error)})") from None
    check_size(size, settings.DWCA_MAX_IMPORT_BYTES, "import archive", reference)
    try:
        in_place = default_storage.path(name)  # a local folder: read the file where it is
    except NotImplementedError:
        in_place = None
    if in_place is not None:
        yield Path(in_place)
        return
    folder = tempfile.mkdtemp(prefix="antenna-import-")
    try:
        copy = Path(folder) / Path(name).name
        with copy.open("wb") as target:
            _download(name, target)
        yield copy
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _download(name: str, target) -> None:
    try:
        bucket = getattr(default_storage, "bucket", None)
        if bucket is not None:
            # django-storages' S3File would buffer the object in memory (max_memory_size 0): ask boto3.
            bucket.Object(default_storage._normalize_name(name)).download_fileobj(target)
        else:
            with default_storage.open(name, "rb") as source:
                for chunk in source.chunks(CHUNK):
                    target.write(chunk)
    except Exception as error:
        raise StorageError(f"{STORAGE_PREFIX}{name}: cannot read it from the storage: {one_line(error)}") from None


def permanent_url(name: str) -> str:
    """The storage's URL of `name`, unsigned: a signed S3 URL expires within hours and carries an
    access key id, so it is never stored (whoever serves the file signs a fresh one)."""
    if getattr(default_storage, "querystring_auth", False):
        unsigned = copy.copy(storages["default"])
        unsigned.querystring_auth = False
        return unsigned.url(name)
    return default_storage.url(name)


def export_name(project, extension: str) -> str:
    """Upstream's layout: exports/<project-slug>_export-<n>.<ext> (the storage adds a suffix if taken)."""
    slug = "".join(c if c.isalnum() else "-" for c in (project.name or "project").lower()).strip("-") or "project"
    return os.path.join(settings.DWCA_EXPORTS_FOLDER, f"{slug}_export-{project.pk}.{extension}")
