"""A corpus of defective Darwin Core Archives, made from any good archive.

Each `Defect` turns the bytes of a good archive (the exporter's output, or `sample_archive()`
below) into a defective one, and names the checklist item and code the validator must flag it
with (reference dwca-standards.md section 4). Mutations find their target through meta.xml (by
rowType and term) and the table declarations, never by fixed line numbers, so the corpus applies
to any export. A defect that needs something the archive lacks (an Occurrence table, an Antenna
table with a formatVersion column...) raises `NotApplicable`.

    for defect in DEFECTS:
        try:
            bad = defect.make(good_bytes, tables)
        except NotApplicable:
            continue
        report = validate_archive(bad, profile=defect.profile, tables=tables)
"""

from __future__ import annotations

import base64
import io
import os
import stat
import struct
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dwca_port.meta import TableDescriptor, read_meta_xml, write_meta_xml
from dwca_port.tables.base import ANTENNA, DCTERMS, DWC, ECO, FULL, GBIF, GBIF_PROFILE, OBIS, Column, Table
from dwca_port.tabular import FULL_DIALECT, GBIF_DIALECT, TableReader, TableWriter, dialect_for_profile
from dwca_port.values import Kind
from dwca_port.versions import FORMAT_VERSION

FRESH_UUID = "0badf00d-0000-4000-8000-00000000d00d"  # in no archive


class NotApplicable(Exception):
    """The good archive has nothing this defect can be made from."""


# ----------------------------------------------------------------------------------------------
# Zip helpers


def zip_members(members: Sequence[tuple[str | zipfile.ZipInfo, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are a defect we make on purpose
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in members:
                archive.writestr(name, data)
    return buffer.getvalue()


def read_members(archive: bytes) -> list[tuple[str, bytes]]:
    """Members of a (trusted, good) archive in order."""
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        return [(info.filename, opened.read(info)) for info in opened.infolist()]


def _patch_central_directory(archive: bytes, name: str, patch: Callable[[bytearray, int], None]) -> bytes:
    """Apply `patch(data, offset)` to the central directory entry of `name`."""
    data = bytearray(archive)
    encoded = name.encode()
    offset = data.find(b"PK\x01\x02")
    while offset >= 0:
        name_length = struct.unpack_from("<H", data, offset + 28)[0]
        if bytes(data[offset + 46 : offset + 46 + name_length]) == encoded:
            patch(data, offset)
            return bytes(data)
        offset = data.find(b"PK\x01\x02", offset + 4)
    raise NotApplicable(f"no member {name}")


class Editor:
    """Edits a good archive through its meta.xml: tables by rowType/term, rows as values or bytes."""

    def __init__(self, archive: bytes, tables: Sequence[Table] | None = None):
        self.members = dict(read_members(archive))
        if "meta.xml" not in self.members:
            raise NotApplicable("no meta.xml")
        self.meta = read_meta_xml(self.members["meta.xml"])
        self.declarations = {table.row_type: table for table in (tables or ())}

    # -- finding targets ---------------------------------------------------------------------

    @property
    def core(self) -> TableDescriptor:
        return self.meta.core

    def table_with(
        self, term: str | None = None, row_type: str | None = None, core: bool | None = None, non_empty: bool = True
    ) -> TableDescriptor:
        for table in self.meta.tables:
            if row_type and table.row_type != row_type:
                continue
            if core is not None and table.core != core:
                continue
            if term and table.index_of(term) is None:
                continue
            if non_empty and not self.rows(table)[1]:
                continue
            return table
        raise NotApplicable(f"no table with {term or ''} {row_type or ''}")

    def declared_columns(
        self, predicate: Callable[[Table, Column, TableDescriptor], bool]
    ) -> tuple[TableDescriptor, int]:
        """The first (table, column index) whose declaration satisfies `predicate` and has a non-empty value."""
        for table in self.meta.tables:
            declaration = self.declarations.get(table.row_type)
            if declaration is None:
                continue
            for column in declaration.columns:
                index = table.index_of(column.term)
                if index is None or index == table.id_index or not predicate(declaration, column, table):
                    continue
                if any(row[index] for row in self.rows(table)[1]):
                    return table, index
        raise NotApplicable("no declared column of that kind with a value")

    # -- rows --------------------------------------------------------------------------------

    def rows(self, table: TableDescriptor) -> tuple[list[str], list[list[str]]]:
        if table.dialect.header_lines != 1:
            raise NotApplicable("edits need exactly one header line")
        reader = TableReader(io.BytesIO(self.members[table.file]), table.dialect, member=table.file, width=table.width)
        header = reader.read_header() or []
        return header, [values for _, values in reader]

    def write_rows(self, table: TableDescriptor, header: list[str], rows: list[list[str]]) -> None:
        buffer = io.BytesIO()
        writer = TableWriter(buffer, FULL_DIALECT if table.dialect.enclosure else GBIF_DIALECT)
        writer.write_header(header)
        for row in rows:
            writer.write_row(row)
        self.members[table.file] = buffer.getvalue()

    def set_value(
        self, table: TableDescriptor, index: int, value: str, row_number: int = 0, only_non_empty: bool = True
    ) -> None:
        """Set column `index` of the `row_number`-th row (counting rows with a value there)."""
        header, rows = self.rows(table)
        candidates = [row for row in rows if row[index] or not only_non_empty]
        if len(candidates) <= row_number:
            raise NotApplicable(f"{table.file} has too few rows with column {index}")
        candidates[row_number][index] = value
        self.write_rows(table, header, rows)

    def append_row(self, table: TableDescriptor, row: list[str]) -> None:
        header, rows = self.rows(table)
        self.write_rows(table, header, rows + [row])

    def first_row(self, table: TableDescriptor) -> list[str]:
        rows = self.rows(table)[1]
        if not rows:
            raise NotApplicable(f"{table.file} has no rows")
        return list(rows[0])

    def edit_bytes(self, member: str, change: Callable[[bytes], bytes]) -> None:
        self.members[member] = change(self.members[member])

    def build(self) -> bytes:
        return zip_members(list(self.members.items()))


def _last_line_edit(change: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    """Apply `change` to the last physical line (without its \\n) of a data file."""

    def edit(data: bytes) -> bytes:
        body = data[:-1] if data.endswith(b"\n") else data
        head, _, last = body.rpartition(b"\n")
        return head + b"\n" + change(last) + b"\n"

    return edit


# ----------------------------------------------------------------------------------------------
# The defects


@dataclass(frozen=True)
class Defect:
    name: str
    item: int  # checklist item the validator must report
    code: str  # and its code
    make: Callable[[bytes, Sequence[Table]], bytes]
    profile: str | None = None  # validate with this profile (None: detect)
    doc: str = ""


def _editing(change: Callable[[Editor], None]) -> Callable[[bytes, Sequence[Table]], bytes]:
    def make(archive: bytes, tables: Sequence[Table]) -> bytes:
        editor = Editor(archive, tables)
        change(editor)
        return editor.build()

    return make


def _raw(change: Callable[[bytes], bytes]) -> Callable[[bytes, Sequence[Table]], bytes]:
    return lambda archive, tables: change(archive)


def _with_member(name: str | zipfile.ZipInfo, data: bytes) -> Callable[[bytes, Sequence[Table]], bytes]:
    return lambda archive, tables: zip_members(read_members(archive) + [(name, data)])


def _meta_edit(change: Callable[[bytes], bytes]) -> Callable[[bytes, Sequence[Table]], bytes]:
    return _editing(lambda editor: editor.edit_bytes("meta.xml", change))


def _eml_name(editor: Editor) -> str:
    name = editor.meta.metadata or "eml.xml"
    if name not in editor.members:
        raise NotApplicable("no eml.xml")
    return name


def _eml_edit(change: Callable[[bytes], bytes]) -> Callable[[bytes, Sequence[Table]], bytes]:
    return _editing(lambda editor: editor.edit_bytes(_eml_name(editor), change))


def _with_doctype(declaration: bytes) -> Callable[[bytes], bytes]:
    """Insert a DTD after the XML declaration and use its entity in the root element."""

    def change(document: bytes) -> bytes:
        end_of_declaration = document.index(b"?>") + 2 if document.startswith(b"<?xml") else 0
        document = document[:end_of_declaration] + b"\n" + declaration + document[end_of_declaration:]
        root_end = document.index(b">", document.index(b"<", document.index(b"]>") + 2)) + 1
        return document[:root_end] + b"&e;" + document[root_end:]

    return change


BILLION_LAUGHS = b"""<!DOCTYPE archive [
 <!ENTITY a "lol">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
]>"""
EXTERNAL_ENTITY = b"""<!DOCTYPE archive [ <!ENTITY e SYSTEM "file:///etc/passwd"> ]>"""


def _zip_bomb(archive: bytes, tables: Sequence[Table]) -> bytes:
    return zip_members(read_members(archive) + [("padding.txt", b"\0" * (24 * 1024 * 1024))])


def _lying_sizes(archive: bytes, tables: Sequence[Table]) -> bytes:
    """The central directory declares a data file smaller than it inflates to."""
    core = Editor(archive, tables).core.file
    return _patch_central_directory(archive, core, lambda data, offset: struct.pack_into("<I", data, offset + 24, 10))


def _encrypted(archive: bytes, tables: Sequence[Table]) -> bytes:
    core = Editor(archive, tables).core.file

    def set_flag(data: bytearray, offset: int) -> None:
        flags = struct.unpack_from("<H", data, offset + 8)[0]
        struct.pack_into("<H", data, offset + 8, flags | 0x1)

    return _patch_central_directory(archive, core, set_flag)


def _symlink(archive: bytes, tables: Sequence[Table]) -> bytes:
    info = zipfile.ZipInfo("link.txt")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return zip_members(read_members(archive) + [(info, b"/etc/passwd")])


def _in_folder(archive: bytes, tables: Sequence[Table]) -> bytes:
    return zip_members([(f"dataset/{name}", data) for name, data in read_members(archive)])


def _drop_member(which: Callable[[Editor], str]) -> Callable[[bytes, Sequence[Table]], bytes]:
    def change(editor: Editor) -> None:
        del editor.members[which(editor)]

    return _editing(change)


def _first_extension(editor: Editor) -> TableDescriptor:
    if not editor.meta.extensions:
        raise NotApplicable("no extension")
    return editor.meta.extensions[0]


def _empty_file(editor: Editor) -> None:
    editor.members[_first_extension(editor).file] = b""


def _short_row(editor: Editor) -> None:
    editor.edit_bytes(editor.core.file, _last_line_edit(lambda line: line.rsplit(b"\t", 1)[0]))


def _long_row(editor: Editor) -> None:
    editor.edit_bytes(editor.core.file, _last_line_edit(lambda line: line + b"\textra"))


def _thousands_of_columns(editor: Editor) -> None:
    editor.edit_bytes(editor.core.file, _last_line_edit(lambda line: line + b"\tx" * 5000))


def _blank_line(editor: Editor) -> None:
    editor.edit_bytes(editor.core.file, lambda data: data.replace(b"\n", b"\n\n", 1))


def _blank_line_at_end(editor: Editor) -> None:
    editor.edit_bytes(editor.core.file, lambda data: data + b"\n")


def _crlf(editor: Editor) -> None:
    editor.edit_bytes(editor.core.file, lambda data: data.replace(b"\n", b"\r\n"))


def _bom(editor: Editor) -> None:
    editor.edit_bytes(editor.core.file, lambda data: b"\xef\xbb\xbf" + data)


def _nul_byte(editor: Editor) -> None:
    editor.edit_bytes(editor.core.file, _last_line_edit(lambda line: line + b"\x00"))


def _text_column(editor: Editor) -> tuple[TableDescriptor, int]:
    """A column of free text (declared TEXT without vocabulary, or an undeclared term)."""
    for table in editor.meta.tables:
        declaration = editor.declarations.get(table.row_type)
        for field in table.fields:
            if field.index is None or field.index == table.id_index:
                continue
            column = declaration.column(field.term) if declaration and field.term in declaration.terms else None
            if column is not None and (
                column.kind is not Kind.TEXT or column.vocabulary or column.references or column.unique
            ):
                continue
            if column is None and field.term in (
                DWC + "basisOfRecord",
                DWC + "occurrenceStatus",
                DCTERMS + "type",
                DCTERMS + "format",
                DCTERMS + "license",
            ):
                continue
            if editor.rows(table)[1]:
                return table, field.index
    raise NotApplicable("no text column")


def _latin1(editor: Editor) -> None:
    table, index = _text_column(editor)
    editor.set_value(table, index, "Rivière-du-Loup", only_non_empty=False)
    editor.edit_bytes(table.file, lambda data: data.decode("utf-8").encode("latin-1", errors="replace"))


def _ten_megabyte_field(editor: Editor) -> None:
    table, index = _text_column(editor)
    # random text: a run of one letter would compress 1000x and be refused as a zip bomb instead
    editor.set_value(table, index, base64.b64encode(os.urandom(7_600_000)).decode(), only_non_empty=False)


def _duplicate_row(editor: Editor) -> None:
    table = editor.core
    editor.append_row(table, editor.first_row(table))


def _duplicate_id_but_case(editor: Editor) -> None:
    table = editor.core
    row = editor.first_row(table)
    if row[table.id_index].upper() == row[table.id_index]:
        raise NotApplicable("the first core id has no letters")
    row[table.id_index] = row[table.id_index].upper()
    editor.append_row(table, row)


def _occurrence(editor: Editor) -> TableDescriptor:
    return editor.table_with(term=DWC + "occurrenceID", row_type=DWC + "Occurrence")


def _duplicate_occurrence_id(editor: Editor) -> None:
    table = _occurrence(editor)
    rows = editor.rows(table)[1]
    if len(rows) < 2:
        raise NotApplicable("one occurrence only")
    index = table.index_of(DWC + "occurrenceID")
    editor.set_value(table, index, rows[0][index], row_number=1)


def _empty_occurrence_id(editor: Editor) -> None:
    table = _occurrence(editor)
    editor.set_value(table, table.index_of(DWC + "occurrenceID"), "")


def _dangling_coreid(editor: Editor) -> None:
    table = _first_extension(editor)
    editor.set_value(table, table.id_index, FRESH_UUID)


def _dangling_occurrence_id(editor: Editor) -> None:
    for table in editor.meta.extensions:
        index = table.index_of(DWC + "occurrenceID")
        if (
            table.row_type != DWC + "Occurrence"
            and index is not None
            and any(row[index] for row in editor.rows(table)[1])
        ):
            editor.set_value(table, index, FRESH_UUID)
            return
    raise NotApplicable("no occurrenceID outside the occurrence table")


def _dangling_parent_event(editor: Editor) -> None:
    table = editor.core
    index = table.index_of(DWC + "parentEventID")
    if index is None:
        raise NotApplicable("no parentEventID")
    editor.set_value(table, index, FRESH_UUID, only_non_empty=False)


def _dangling_foreign_key(editor: Editor) -> None:
    table, index = editor.declared_columns(
        lambda declaration, column, table: (
            bool(column.references) and column.term not in (DWC + "parentEventID", DWC + "occurrenceID")
        )
    )
    editor.set_value(table, index, FRESH_UUID)


def _malformed_uuid(editor: Editor) -> None:
    table, index = editor.declared_columns(lambda declaration, column, table: column.kind is Kind.UUID)
    editor.set_value(table, index, "not-a-uuid")


def _term_value(term: str, value: str) -> Callable[[Editor], None]:
    def change(editor: Editor) -> None:
        table = editor.table_with(term=term)
        editor.set_value(table, table.index_of(term), value)

    return change


def _outside_coverage(editor: Editor) -> None:
    table = editor.table_with(term=DWC + "decimalLatitude")
    editor.set_value(table, table.index_of(DWC + "decimalLatitude"), "-33.5")
    editor.set_value(table, table.index_of(DWC + "decimalLongitude"), "151.2")


def _newer_format_version(editor: Editor) -> None:
    _term_value(ANTENNA + "formatVersion", str(FORMAT_VERSION + 1))(editor)


def _record_licence_conflict(editor: Editor) -> None:
    """A record licence other than the dataset's (CC0 on the record; the sample EML says CC BY 4.0)."""
    _term_value(DCTERMS + "license", "http://creativecommons.org/publicdomain/zero/1.0/legalcode")(editor)


def _email_in_data(editor: Editor) -> None:
    table, index = _text_column(editor)
    editor.set_value(table, index, "jane.doe@example.org", only_non_empty=False)


def _unbalanced_quote(editor: Editor) -> None:
    table, index = _text_column(editor)
    if not table.dialect.enclosure:
        raise NotApplicable("the file is not quoted")
    editor.set_value(table, index, "PLACEHOLDER-QUOTE", only_non_empty=False)
    editor.edit_bytes(table.file, lambda data: data.replace(b"PLACEHOLDER-QUOTE", b'"open but never closed', 1))


def _duplicated_term(data: bytes) -> bytes:
    meta = read_meta_xml(data)
    for table in meta.tables:
        terms = [field.term for field in table.fields if field.index != table.id_index]
        if len(terms) >= 2:
            return data.replace(f'term="{terms[1]}"'.encode(), f'term="{terms[0]}"'.encode(), 1)
    raise NotApplicable("no table with two terms")


def _unknown_row_type(editor: Editor) -> None:
    table = _first_extension(editor)
    editor.edit_bytes(
        "meta.xml",
        lambda data: data.replace(
            f'rowType="{table.row_type}"'.encode(), b'rowType="http://example.org/terms/Thing"', 1
        ),
    )


def _drop_licence(data: bytes) -> bytes:
    start, end = data.find(b"<intellectualRights"), data.find(b"</intellectualRights>")
    if start < 0 or end < 0:
        raise NotApplicable("no intellectualRights")
    return data[:start] + data[end + len(b"</intellectualRights>") :]


def _email_in_contact(data: bytes) -> bytes:
    start = data.find(b"<contact>")
    if start < 0:
        raise NotApplicable("no <contact>")
    end = data.index(b"</contact>", start)
    return data[:end] + b"<electronicMailAddress>jane.doe@example.org</electronicMailAddress>" + data[end:]


def _remove_element(tag: bytes) -> Callable[[bytes], bytes]:
    def change(data: bytes) -> bytes:
        start = data.find(b"<" + tag)
        if start < 0:
            raise NotApplicable(f"no <{tag.decode()}>")
        end = data.index(b"/>", start) + 2
        return data[:start] + data[end:]

    return change


def _extension_only(change: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    """Apply `change` to the first <extension> element only."""

    def apply(data: bytes) -> bytes:
        start = data.find(b"<extension")
        if start < 0:
            raise NotApplicable("no extension")
        return data[:start] + change(data[start:])

    return apply


def _too_many_declared_columns(data: bytes) -> bytes:
    fields = "".join(f'<field index="{index}" term="http://example.org/terms/c{index}"/>' for index in range(100, 5100))
    position = data.index(b"</core>")
    return data[:position] + fields.encode() + data[position:]


DEFECTS: tuple[Defect, ...] = (
    # container (items 1-5)
    Defect("not_a_zip", 1, "DWCA_UNREADABLE", _raw(lambda archive: b"eventID\teventDate\nnot a zip at all\n")),
    Defect("truncated_zip", 1, "DWCA_UNREADABLE", _raw(lambda archive: archive[: len(archive) // 2])),
    Defect("empty_file", 1, "DWCA_UNREADABLE", _raw(lambda archive: b"")),
    Defect("zip_bomb", 1, "ARCHIVE_COMPRESSION_RATIO", _zip_bomb, doc="24 MB of zeros deflated 1000x"),
    Defect(
        "lying_sizes", 1, "DWCA_UNREADABLE", _lying_sizes, doc="central directory declares 10 bytes for the core file"
    ),
    Defect("zip_slip", 1, "ARCHIVE_UNSAFE_PATH", _with_member("../evil.txt", b"x")),
    Defect("absolute_path", 1, "ARCHIVE_UNSAFE_PATH", _with_member("/tmp/evil.txt", b"x")),
    Defect("backslash_path", 1, "ARCHIVE_UNSAFE_PATH", _with_member("..\\evil.txt", b"x")),
    Defect("symlink_member", 1, "ARCHIVE_SYMLINK", _symlink),
    Defect(
        "duplicate_member",
        1,
        "ARCHIVE_DUPLICATE_MEMBER",
        lambda archive, tables: zip_members(read_members(archive) + [("meta.xml", b"<archive/>")]),
    ),
    Defect(
        "nested_archive",
        1,
        "ARCHIVE_NESTED",
        lambda archive, tables: zip_members(read_members(archive) + [("inner.zip", archive)]),
    ),
    Defect("encrypted_member", 1, "ARCHIVE_ENCRYPTED", _encrypted),
    Defect("meta_xml_missing", 2, "DWCA_META_XML_NOT_FOUND", _drop_member(lambda editor: "meta.xml")),
    Defect("files_in_a_folder", 2, "DWCA_META_XML_NOT_FOUND", _in_folder),
    Defect("data_file_missing", 4, "DATA_FILE_NOT_FOUND", _drop_member(lambda editor: _first_extension(editor).file)),
    Defect("macosx_entry", 4, "EXTRA_FILE", _with_member("__MACOSX/._meta.xml", b"\0\5\26\7")),
    Defect("data_file_empty", 5, "DATA_FILE_EMPTY", _editing(_empty_file)),
    # meta.xml (items 6-16)
    Defect(
        "meta_xml_malformed",
        6,
        "XML_NOT_WELL_FORMED",
        _meta_edit(lambda data: data.replace(b"</archive>", b"</archiv>")),
    ),
    Defect(
        "meta_xml_wrong_namespace",
        6,
        "DWCA_META_XML_SCHEMA",
        _meta_edit(lambda data: data.replace(b"http://rs.tdwg.org/dwc/text/", b"http://rs.tdwg.org/dwc/txt/")),
    ),
    Defect("meta_xml_entity_expansion", 6, "XML_DTD_FORBIDDEN", _meta_edit(_with_doctype(BILLION_LAUGHS))),
    Defect("meta_xml_external_entity", 6, "XML_DTD_FORBIDDEN", _meta_edit(_with_doctype(EXTERNAL_ENTITY))),
    Defect("core_without_id", 8, "CORE_ID_MISSING", _meta_edit(_remove_element(b"id "))),
    Defect(
        "extension_without_coreid",
        9,
        "EXTENSION_COREID_MISSING",
        _meta_edit(_extension_only(_remove_element(b"coreid"))),
    ),
    Defect(
        "field_without_index_or_default",
        10,
        "FIELD_MAPPED_TO_NOTHING",
        _meta_edit(
            lambda data: data.replace(
                b"</core>", b'<field term="http://purl.org/dc/terms/bibliographicCitation"/></core>'
            )
        ),
    ),
    Defect("duplicated_term", 11, "DUPLICATED_TERM", _meta_edit(_duplicated_term)),
    Defect(
        "xmlns_single_quotes",
        14,
        "XMLNS_DECLARATION",
        _meta_edit(
            lambda data: data.replace(b'xmlns="http://rs.tdwg.org/dwc/text/"', b"xmlns='http://rs.tdwg.org/dwc/text/'")
        ),
    ),
    Defect(
        "unknown_row_type_in_gbif_profile", 15, "UNKNOWN_ROWTYPE", _editing(_unknown_row_type), profile=GBIF_PROFILE
    ),
    Defect("declared_thousands_of_columns", 0, "TOO_MANY_COLUMNS", _meta_edit(_too_many_declared_columns)),
    # data files (items 17-23)
    Defect("bom", 17, "BOM_PRESENT", _editing(_bom)),
    Defect("latin1_declared_utf8", 17, "ENCODING_INVALID", _editing(_latin1)),
    Defect("short_row", 18, "COLUMN_MISMATCH", _editing(_short_row)),
    Defect("long_row", 18, "COLUMN_MISMATCH", _editing(_long_row)),
    Defect("blank_line", 20, "BLANK_LINE", _editing(_blank_line)),
    Defect("blank_line_at_end", 20, "BLANK_LINE", _editing(_blank_line_at_end)),
    Defect("crlf", 21, "CARRIAGE_RETURN", _editing(_crlf)),
    Defect("nul_byte", 22, "NUL_BYTE", _editing(_nul_byte)),
    Defect("unbalanced_quote", 22, "QUOTING_INVALID", _editing(_unbalanced_quote)),
    Defect("ten_megabyte_field", 0, "FIELD_TOO_LARGE", _editing(_ten_megabyte_field)),
    Defect("thousands_of_columns", 0, "TOO_MANY_COLUMNS", _editing(_thousands_of_columns)),
    # identifiers and integrity (items 24-31)
    Defect("duplicate_core_id", 24, "RECORD_NOT_UNIQUELY_IDENTIFIED", _editing(_duplicate_row)),
    Defect("duplicate_core_id_but_case", 24, "ID_NOT_UNIQUE_CASE_INSENSITIVE", _editing(_duplicate_id_but_case)),
    Defect("dangling_coreid", 25, "RECORD_REFERENTIAL_INTEGRITY_VIOLATION", _editing(_dangling_coreid)),
    Defect("dangling_foreign_key", 25, "REFERENCE_NOT_FOUND", _editing(_dangling_foreign_key)),
    Defect("duplicate_occurrence_id", 26, "OCCURRENCE_NOT_UNIQUELY_IDENTIFIED", _editing(_duplicate_occurrence_id)),
    Defect("empty_occurrence_id", 26, "OCCURRENCE_NOT_UNIQUELY_IDENTIFIED", _editing(_empty_occurrence_id)),
    Defect("dangling_occurrence_id", 27, "OCCURRENCE_ID_NOT_FOUND", _editing(_dangling_occurrence_id)),
    Defect("dangling_parent_event_id", 29, "PARENT_EVENT_NOT_FOUND", _editing(_dangling_parent_event)),
    Defect("malformed_uuid", 0, "UUID_INVALID", _editing(_malformed_uuid)),
    # term content (items 32-40)
    Defect(
        "basis_of_record_invalid",
        32,
        "BASIS_OF_RECORD_INVALID",
        _editing(_term_value(DWC + "basisOfRecord", "Photograph")),
    ),
    Defect(
        "impossible_event_date", 33, "RECORDED_DATE_INVALID", _editing(_term_value(DWC + "eventDate", "2024-02-30"))
    ),
    Defect(
        "reversed_event_date_interval",
        33,
        "RECORDED_DATE_INVALID",
        _editing(_term_value(DWC + "eventDate", "2024-06-16/2024-06-15")),
    ),
    Defect(
        "impossible_latitude", 34, "COORDINATE_OUT_OF_RANGE", _editing(_term_value(DWC + "decimalLatitude", "95.5"))
    ),
    Defect("record_licence_conflict", 40, "LICENSE_CONFLICT", _editing(_record_licence_conflict)),
    Defect("newer_format_version", 0, "FORMAT_VERSION_UNSUPPORTED", _editing(_newer_format_version)),
    # EML (items 41-47)
    Defect(
        "eml_malformed", 41, "EML_NOT_WELL_FORMED", _eml_edit(lambda data: data.replace(b"</dataset>", b"</datset>"))
    ),
    Defect(
        "eml_entity_expansion",
        41,
        "EML_DOCTYPE_REFUSED",
        _eml_edit(_with_doctype(BILLION_LAUGHS.replace(b"archive", b"eml:eml"))),
    ),
    Defect(
        "eml_external_entity",
        41,
        "EML_DOCTYPE_REFUSED",
        _eml_edit(_with_doctype(EXTERNAL_ENTITY.replace(b"archive", b"eml:eml"))),
    ),
    Defect("missing_licence", 43, "LICENSE_MISSING_OR_UNKNOWN", _eml_edit(_drop_licence)),
    Defect("email_in_eml_contact", 47, "EML_EMAIL_ADDRESS", _eml_edit(_email_in_contact)),
    Defect("coordinates_outside_coverage", 46, "COVERAGE_MISMATCH", _editing(_outside_coverage)),
    Defect("email_in_gbif_data", 47, "PERSONAL_DATA_EMAIL", _editing(_email_in_data), profile=GBIF_PROFILE),
)


# ----------------------------------------------------------------------------------------------
# A small good archive of our own (until the exporter exists), valid in both profiles


def _uuid(number: int) -> str:
    return f"{number:08x}-feed-4bee-8cab-{number:012x}"


PROJECT_TYPE = ANTENNA + "Project"
DEPLOYMENT_TYPE = ANTENNA + "Deployment"
SOURCE_IMAGE_TYPE = ANTENNA + "SourceImage"
DETECTION_TYPE = ANTENNA + "Detection"
_FULL_ONLY = frozenset({FULL})
_UUID_REQUIRED = dict(kind=Kind.UUID, required=True, unique=True)

SAMPLE_TABLES: tuple[Table, ...] = (
    Table(
        "event.txt",
        DWC + "Event",
        (
            Column(DWC + "eventID", **_UUID_REQUIRED),
            Column(DWC + "parentEventID", Kind.UUID, references=DWC + "Event"),
            Column(DWC + "eventType"),
            Column(DWC + "eventDate", Kind.EVENT_DATE, required=True),
            Column(DWC + "samplingProtocol"),
            Column(DWC + "sampleSizeValue", Kind.DECIMAL),
            Column(DWC + "sampleSizeUnit"),
            Column(DWC + "locationID"),
            Column(DWC + "decimalLatitude", Kind.DECIMAL),
            Column(DWC + "decimalLongitude", Kind.DECIMAL),
            Column(DWC + "geodeticDatum"),
            Column(DWC + "coordinateUncertaintyInMeters", Kind.DECIMAL),
            Column(DWC + "eventRemarks"),
            Column(DCTERMS + "license", Kind.URI),
        ),
        core=True,
        identifier_term=DWC + "eventID",
    ),
    Table(
        "occurrence.txt",
        DWC + "Occurrence",
        (
            Column(DWC + "eventID", Kind.UUID, required=True),
            Column(DWC + "occurrenceID", **_UUID_REQUIRED),
            Column(DWC + "basisOfRecord", required=True, vocabulary=("MachineObservation",)),
            Column(DWC + "occurrenceStatus", required=True, vocabulary=("present", "absent")),
            Column(DWC + "individualCount", Kind.INTEGER),
            Column(DWC + "scientificName", required=True),
            Column(DWC + "kingdom"),
            Column(DWC + "taxonRank"),
            Column(DWC + "identifiedBy"),
            Column(DWC + "dateIdentified", Kind.DATETIME),
            Column(DWC + "identificationRemarks"),
        ),
        identifier_term=DWC + "occurrenceID",
    ),
    Table(
        "humboldt.txt",
        ECO + "Event",
        (
            Column(DWC + "eventID", Kind.UUID, required=True, mapped=False),  # the coreid only
            Column(ECO + "isSamplingEffortReported", Kind.BOOLEAN),
            Column(ECO + "samplingEffortValue", Kind.DECIMAL),
            Column(ECO + "samplingEffortUnit"),
            Column(ECO + "isAbsenceReported", Kind.BOOLEAN),
            Column(ECO + "hasMaterialSamples", Kind.BOOLEAN),
        ),
    ),
    Table(
        "extendedmeasurementorfact.txt",
        OBIS + "ExtendedMeasurementOrFact",
        (
            Column(DWC + "eventID", Kind.UUID, required=True, mapped=False),  # the coreid only
            Column(DWC + "occurrenceID", Kind.UUID, references=DWC + "Occurrence"),
            Column(DWC + "measurementType", required=True),
            Column(DWC + "measurementValue", required=True),
            Column(DWC + "measurementUnit"),
        ),
    ),
    Table(
        "multimedia.txt",
        GBIF + "Multimedia",
        (
            Column(DWC + "eventID", Kind.UUID, required=True, mapped=False),  # the coreid only
            Column(DCTERMS + "type"),
            Column(DCTERMS + "format"),
            Column(DCTERMS + "identifier", Kind.URI, required=True),
            Column(DCTERMS + "created", Kind.DATETIME),
            Column(DCTERMS + "license", Kind.URI),
        ),
    ),
    Table(
        "project.txt",
        PROJECT_TYPE,
        (
            Column(DWC + "eventID", Kind.UUID, required=True),
            Column(ANTENNA + "projectID", **_UUID_REQUIRED),
            Column(ANTENNA + "name", required=True),
            Column(ANTENNA + "description"),
            Column(ANTENNA + "formatVersion", Kind.INTEGER, required=True),
        ),
        registered=False,
        profiles=_FULL_ONLY,
        identifier_term=ANTENNA + "projectID",
    ),
    Table(
        "deployment.txt",
        DEPLOYMENT_TYPE,
        (
            Column(DWC + "eventID", Kind.UUID, required=True),
            Column(ANTENNA + "deploymentID", **_UUID_REQUIRED),
            Column(ANTENNA + "project", Kind.UUID, required=True, references=PROJECT_TYPE),
            Column(ANTENNA + "name", required=True),
        ),
        registered=False,
        profiles=_FULL_ONLY,
        identifier_term=ANTENNA + "deploymentID",
    ),
    Table(
        "sourceimage.txt",
        SOURCE_IMAGE_TYPE,
        (
            Column(DWC + "eventID", Kind.UUID, required=True),
            Column(ANTENNA + "sourceImageID", **_UUID_REQUIRED),
            Column(ANTENNA + "deployment", Kind.UUID, required=True, references=DEPLOYMENT_TYPE),
            Column(ANTENNA + "timestamp", Kind.DATETIME),
            Column(ANTENNA + "path", required=True),
        ),
        registered=False,
        profiles=_FULL_ONLY,
        identifier_term=ANTENNA + "sourceImageID",
    ),
    Table(
        "detection.txt",
        DETECTION_TYPE,
        (
            Column(DWC + "eventID", Kind.UUID, required=True),
            Column(ANTENNA + "detectionID", **_UUID_REQUIRED),
            Column(ANTENNA + "sourceImage", Kind.UUID, required=True, references=SOURCE_IMAGE_TYPE),
            Column(ANTENNA + "occurrence", Kind.UUID, references=DWC + "Occurrence"),
            Column(ANTENNA + "bbox", Kind.JSON),
        ),
        registered=False,
        profiles=_FULL_ONLY,
        identifier_term=ANTENNA + "detectionID",
    ),
)

CC_BY = "http://creativecommons.org/licenses/by/4.0/legalcode"
PROJECT_EVENT, DEPLOYMENT_EVENT, NIGHT_1, NIGHT_2 = _uuid(1), _uuid(2), _uuid(3), _uuid(4)
OCCURRENCES = [_uuid(0x100 + n) for n in range(3)]
IMAGES = [_uuid(0x200 + n) for n in range(3)]

SAMPLE_ROWS: dict[str, list[list[str]]] = {
    "event.txt": [
        [
            PROJECT_EVENT,
            "",
            "project",
            "2024-06-14/2024-06-17",
            "automated light trap with time-lapse camera",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "Root event of the project",
            CC_BY,
        ],
        [
            DEPLOYMENT_EVENT,
            PROJECT_EVENT,
            "cameraTrapDeployment",
            "2024-06-14T18:00:00-04:00/2024-06-17T08:00:00-04:00",
            "automated light trap with time-lapse camera",
            "3",
            "day",
            "site-1",
            "45.5017",
            "-73.5673",
            "EPSG:4326",
            "30",
            'Roof of the "Insectarium"\tbuilding',
            CC_BY,
        ],
        [
            NIGHT_1,
            DEPLOYMENT_EVENT,
            "siteVisit",
            "2024-06-15T20:00:00-04:00/2024-06-16T06:00:00-04:00",
            "automated light trap with time-lapse camera",
            "10",
            "hour",
            "site-1",
            "45.5017",
            "-73.5673",
            "EPSG:4326",
            "30",
            "Clear night; température 18 °C",
            CC_BY,
        ],
        [
            NIGHT_2,
            DEPLOYMENT_EVENT,
            "siteVisit",
            "2024-06-16T20:00:00-04:00/2024-06-17T06:00:00-04:00",
            "automated light trap with time-lapse camera",
            "10",
            "hour",
            "site-1",
            "45.5017",
            "-73.5673",
            "EPSG:4326",
            "30",
            "",
            CC_BY,
        ],
    ],
    "occurrence.txt": [
        [
            NIGHT_1,
            OCCURRENCES[0],
            "MachineObservation",
            "present",
            "2",
            "Noctua pronuba Linnaeus, 1758",
            "Animalia",
            "species",
            "moth-classifier v2",
            "2024-06-16T09:00:00-04:00",
            "classified by a machine with a degree of certainty of 89%",
        ],
        [
            NIGHT_1,
            OCCURRENCES[1],
            "MachineObservation",
            "present",
            "1",
            "Lepidoptera",
            "Animalia",
            "order",
            "moth-classifier v2",
            "2024-06-16T09:00:00-04:00",
            "",
        ],
        [
            NIGHT_2,
            OCCURRENCES[2],
            "MachineObservation",
            "absent",
            "0",
            "Catocala relicta Walker, 1858",
            "Animalia",
            "species",
            "moth-classifier v2",
            "2024-06-17T09:00:00-04:00",
            "",
        ],
    ],
    "humboldt.txt": [
        [NIGHT_1, "true", "10", "hour", "true", "false"],
        [NIGHT_2, "true", "10", "hour", "true", "false"],
    ],
    "extendedmeasurementorfact.txt": [
        [NIGHT_1, OCCURRENCES[0], "classification score", "0.89", ""],
        [NIGHT_1, OCCURRENCES[1], "classification score", "0.61", ""],
        [NIGHT_2, "", "air temperature", "16.5", "°C"],
    ],
    "multimedia.txt": [
        [
            NIGHT_1,
            "StillImage",
            "image/jpeg",
            f"https://example.org/images/{IMAGES[0]}.jpg",
            "2024-06-15T23:10:00-04:00",
            CC_BY,
        ],
        [
            NIGHT_1,
            "StillImage",
            "image/jpeg",
            f"https://example.org/images/{IMAGES[1]}.jpg",
            "2024-06-16T01:20:00-04:00",
            CC_BY,
        ],
        [
            NIGHT_2,
            "StillImage",
            "image/jpeg",
            f"https://example.org/images/{IMAGES[2]}.jpg",
            "2024-06-16T22:00:00-04:00",
            CC_BY,
        ],
    ],
    "project.txt": [[PROJECT_EVENT, _uuid(0x300), "Sample moths", 'Multi-line\ndescription with a "quote"', "1"]],
    "deployment.txt": [[DEPLOYMENT_EVENT, _uuid(0x400), _uuid(0x300), "Insectarium roof"]],
    "sourceimage.txt": [
        [NIGHT_1, IMAGES[0], _uuid(0x400), "2024-06-15T23:10:00-04:00", "2024/06/15/231000.jpg"],
        [NIGHT_1, IMAGES[1], _uuid(0x400), "2024-06-16T01:20:00-04:00", "2024/06/16/012000.jpg"],
        [NIGHT_2, IMAGES[2], _uuid(0x400), "2024-06-16T22:00:00-04:00", "2024/06/16/220000.jpg"],
    ],
    "detection.txt": [
        [NIGHT_1, _uuid(0x500), IMAGES[0], OCCURRENCES[0], '{"x1":10,"x2":50,"y1":20,"y2":60}'],
        [NIGHT_1, _uuid(0x501), IMAGES[1], OCCURRENCES[1], '{"x1":5,"x2":25,"y1":5,"y2":30}'],
    ],
}

SAMPLE_EML = f"""<?xml version="1.0" encoding="UTF-8"?>
<eml:eml xmlns:eml="https://eml.ecoinformatics.org/eml-2.2.0" xmlns:dc="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="https://eml.ecoinformatics.org/eml-2.2.0 https://rs.gbif.org/schema/eml-gbif-profile/1.3/eml.xsd" packageId="{_uuid(0x300)}/v1" system="http://gbif.org" scope="system" xml:lang="en">
  <dataset>
    <title xml:lang="en">Sample moths: automated light-trap survey</title>
    <creator>
      <organizationName>Sample Insect Monitoring Lab</organizationName>
    </creator>
    <pubDate>2024-07-01</pubDate>
    <language>en</language>
    <abstract>
      <para>Nightly captures of an automated light trap with a time-lapse camera, classified by machine.</para>
    </abstract>
    <intellectualRights>
      <para>This work is licensed under a <ulink url="{CC_BY}"><citetitle>Creative Commons Attribution (CC-BY 4.0) License</citetitle></ulink>.</para>
    </intellectualRights>
    <coverage>
      <geographicCoverage>
        <geographicDescription>Montreal, Quebec, Canada</geographicDescription>
        <boundingCoordinates>
          <westBoundingCoordinate>-74</westBoundingCoordinate>
          <eastBoundingCoordinate>-73</eastBoundingCoordinate>
          <northBoundingCoordinate>46</northBoundingCoordinate>
          <southBoundingCoordinate>45</southBoundingCoordinate>
        </boundingCoordinates>
      </geographicCoverage>
      <temporalCoverage>
        <rangeOfDates>
          <beginDate><calendarDate>2024-06-14</calendarDate></beginDate>
          <endDate><calendarDate>2024-06-17</calendarDate></endDate>
        </rangeOfDates>
      </temporalCoverage>
    </coverage>
    <contact>
      <organizationName>Sample Insect Monitoring Lab</organizationName>
    </contact>
  </dataset>
</eml:eml>
""".encode()


def sample_tables(profile: str = FULL) -> tuple[Table, ...]:
    return tuple(table for table in SAMPLE_TABLES if profile in table.profiles)


def build_archive(
    tables: Sequence[Table], rows: dict[str, list[list[str]]], profile: str = FULL, eml: bytes = SAMPLE_EML
) -> bytes:
    """An archive of `tables` holding `rows` (per file): meta.xml from the declarations, data files from TableWriter."""
    dialect = dialect_for_profile(profile)
    members = [("meta.xml", write_meta_xml(tables, dialect)), ("eml.xml", eml)]
    for table in tables:
        buffer = io.BytesIO()
        writer = TableWriter(buffer, dialect)
        writer.write_header([column.name for column in table.columns])
        for row in rows.get(table.file, []):
            writer.write_row(row)
        members.append((table.file, buffer.getvalue()))
    return zip_members(members)


def sample_archive(profile: str = FULL) -> bytes:
    """The sample archive in a profile."""
    return build_archive(sample_tables(profile), SAMPLE_ROWS, profile)
