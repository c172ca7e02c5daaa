"""Safe reading of the zip: what is refused, with which finding, and the caps on member streams."""

import random
import stat
import struct
import zipfile
import zlib

import pytest

from dwca_port.archive import ArchiveError, open_archive
from tests.archive_corpus import zip_members


def refused(source) -> str:
    with pytest.raises(ArchiveError) as error:
        open_archive(source)
    assert error.value.finding.item == 1 and error.value.finding.blocks
    return error.value.finding.code


def test_members_stream_and_read():
    data = zip_members([("meta.xml", b"<archive/>"), ("event.txt", b"id\n1\n")])
    with open_archive(data) as archive:
        assert archive.names == ["meta.xml", "event.txt"]
        assert archive.read("meta.xml", 100) == b"<archive/>"
        with archive.open("event.txt") as stream:
            assert stream.readline() == b"id\n"


def test_a_member_over_its_cap_is_refused():
    with open_archive(zip_members([("eml.xml", b"x" * 1000)])) as archive:
        with pytest.raises(ArchiveError) as error:
            archive.read("eml.xml", 100)
        assert error.value.finding.code == "ARCHIVE_MEMBER_TOO_LARGE" and error.value.finding.file == "eml.xml"
        with pytest.raises(ArchiveError) as error:
            archive.open("eml.xml", max_bytes=100).read()
        assert error.value.finding.code == "ARCHIVE_MEMBER_TOO_LARGE"


@pytest.mark.parametrize(
    "name",
    [
        "../x.txt",
        "a/../../x.txt",
        "/etc/passwd",
        "C:/x.txt",
        "c:x.txt",
        "..\\x.txt",
        "a\\b.txt",
        "./x.txt",
        "a//b.txt",
        "x\x01.txt",
    ],
)
def test_unsafe_names_are_refused(name):
    assert refused(zip_members([("meta.xml", b""), (name, b"x")])) == "ARCHIVE_UNSAFE_PATH"


def test_names_that_differ_only_in_case_are_duplicates():
    assert refused(zip_members([("meta.xml", b""), ("META.XML", b"")])) == "ARCHIVE_DUPLICATE_MEMBER"


def test_a_name_that_is_both_file_and_folder_is_refused():
    assert refused(zip_members([("data", b"x"), ("data/event.txt", b"y")])) == "ARCHIVE_UNSAFE_PATH"


def test_a_directory_entry_carrying_data_is_refused():
    info = zipfile.ZipInfo("folder/")
    assert refused(zip_members([(info, b"hidden data")])) == "ARCHIVE_DIRECTORY_WITH_DATA"


def test_symlinks_are_refused_whatever_their_target():
    info = zipfile.ZipInfo("meta.xml")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    assert refused(zip_members([(info, b"/etc/passwd")])) == "ARCHIVE_SYMLINK"


def test_nested_archives_are_refused_by_name_and_by_content():
    inner = zip_members([("a.txt", b"a")])
    assert refused(zip_members([("inner.tar.gz", b"x")])) == "ARCHIVE_NESTED"
    with open_archive(zip_members([("event.txt", inner)])) as archive:
        with pytest.raises(ArchiveError) as error:
            archive.open("event.txt").read()
        assert error.value.finding.code == "ARCHIVE_NESTED"


def test_bombs_are_refused_by_ratio_total_and_count(settings):
    bomb = zip_members([("event.txt", b"\0" * (4 * 1024 * 1024))])
    assert refused(bomb) == "ARCHIVE_COMPRESSION_RATIO"
    settings.DWCA_MAX_COMPRESSION_RATIO = 10_000
    with open_archive(bomb):
        pass
    settings.DWCA_MAX_INFLATED_BYTES = 1024 * 1024
    assert refused(bomb) == "ARCHIVE_TOO_LARGE"
    settings.DWCA_MAX_MEMBERS = 2
    assert refused(zip_members([("a", b""), ("b", b""), ("c", b"")])) == "ARCHIVE_TOO_MANY_MEMBERS"


def test_overlapping_entries_are_refused():
    """Two central-directory entries pointing at the same bytes (the densest zip bombs)."""
    data = bytearray(zip_members([("a.txt", b"a" * 100), ("b.txt", b"b" * 100)]))
    central = data.find(b"PK\x01\x02")
    second = data.find(b"PK\x01\x02", central + 4)
    data[second + 42 : second + 46] = data[central + 42 : central + 46]  # b.txt's local header offset := a.txt's
    assert refused(bytes(data)) == "ARCHIVE_OVERLAPPING_MEMBERS"


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "empty"),
        (b"PK\x03\x04" + b"\0" * 40, "truncated"),
        (b"\x1f\x8b\x08\0", "gzip"),
        (b"%PDF-1.7", "not a zip"),
    ],
)
def test_unreadable_input_says_what_it_is(data, words):
    with pytest.raises(ArchiveError) as error:
        open_archive(data)
    assert error.value.finding.code == "DWCA_UNREADABLE" and words in error.value.finding.message


def test_paths_missing_or_directories(tmp_path):
    for path, words in ((tmp_path / "missing.zip", "does not exist"), (tmp_path, "is a directory")):
        with pytest.raises(ArchiveError) as error:
            open_archive(path)
        assert words in error.value.finding.message
    good = tmp_path / "good.zip"
    good.write_bytes(zip_members([("meta.xml", b"")]))
    with open_archive(good) as archive:
        assert archive.label == "good.zip" and archive.has("meta.xml")


def test_a_header_that_understates_a_size_fails_when_streamed():
    data = bytearray(zip_members([("event.txt", b"id\n" + b"row\n" * 1000)]))
    central = data.find(b"PK\x01\x02")
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")  # declared inflated size: 10 bytes
    with open_archive(bytes(data)) as archive:
        with pytest.raises(ArchiveError) as error:
            archive.open("event.txt").read()
    assert error.value.finding.code == "DWCA_UNREADABLE" and error.value.finding.file == "event.txt"


@pytest.mark.parametrize(
    "damage, words",
    [
        (lambda data, start: data.__setitem__(start, 0xFF), "damaged"),  # an invalid deflate block type
        (lambda data, start: data.__setitem__(slice(start + 40, start + 44), b"\0\0\0\0"), "damaged"),
    ],
    ids=["deflate stream", "data (CRC)"],
)
def test_damaged_deflate_data_is_one_finding_on_its_member(damage, words):
    rows = "".join(f"{random.Random(n).random()}\n" for n in range(2000)).encode()
    data = bytearray(zip_members([("event.txt", b"id\n" + rows)]))
    start = 30 + len("event.txt")  # the local header's fixed part, then the name: the deflate data
    damage(data, start)
    with open_archive(bytes(data)) as archive:
        with pytest.raises(ArchiveError) as error:
            archive.open("event.txt").read()
    finding = error.value.finding
    assert finding.code == "DWCA_UNREADABLE" and finding.file == "event.txt" and words in finding.message


def _raw_deflated_zip(name: str, deflated: bytes, plain: bytes) -> bytes:
    """A one-member zip around deflate data as given (zipfile would write its own)."""
    crc, encoded = zlib.crc32(plain), name.encode()
    sizes = (crc, len(deflated), len(plain), len(encoded))
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x21, *sizes, 0) + encoded + deflated
    central = (
        struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, *sizes, 0, 0, 0, 0, 0o100644 << 16, 0)
        + encoded
    )
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(local), 0)
    return local + central + end


def test_deflate_data_standard_readers_refuse_is_refused():
    """A dynamic block whose literal/length code is incomplete: zlib (zipfile, Java's Inflater in an
    IPT) refuses it; some faster inflaters (ISA-L) read 'aaaaaaaaaa'. The archive is unreadable."""
    deflated = bytes.fromhex(
        "edfd0190244992244902" + "00" * 48 + "02" + "00" * 78 + "10" + "00" * 14 + "20" + "00" * 15 + "10"
    )
    data = _raw_deflated_zip("event.txt", deflated, b"a" * 10)
    with open_archive(data) as archive:
        with pytest.raises(ArchiveError) as error:
            archive.open("event.txt").read()
    assert (
        error.value.finding.code == "DWCA_UNREADABLE" and "invalid literal/lengths set" in error.value.finding.message
    )
