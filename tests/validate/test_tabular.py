"""The data-file writer and the streaming reader: round trips, and every text-format defect found with its place."""

import io
import tracemalloc

import pytest

from dwca_port.findings import Severity
from dwca_port.tabular import FULL_DIALECT, GBIF_DIALECT, Dialect, TableReader, TableWriter, TabularError

AWKWARD = ["tab\there", "new\nline", "cr\rlf\r\n", 'say "hi"', '"quoted"', "", "naïve café 🦋", "trailing\t", "\t"]


def written(dialect, rows, header=None):
    buffer = io.BytesIO()
    writer = TableWriter(buffer, dialect)
    writer.write_header(header or [f"c{index}" for index in range(len(rows[0]))])
    for row in rows:
        writer.write_row(row)
    return buffer.getvalue()


def read(data: bytes, dialect=FULL_DIALECT, width=None):
    findings = []
    reader = TableReader(io.BytesIO(data), dialect, member="t.txt", width=width, on_finding=findings.append)
    rows = list(reader)
    return reader, rows, findings


def codes(findings):
    return [finding.code for finding in findings]


def test_full_dialect_round_trips_every_awkward_value():
    rows = [AWKWARD, list(reversed(AWKWARD))]
    data = written(FULL_DIALECT, rows)
    assert not data.startswith(b"\xef\xbb\xbf") and b"\r\n" not in data.replace(b'cr\rlf\r\n"', b"")
    reader, read_rows, findings = read(data, width=len(AWKWARD))
    assert [values for _, values in read_rows] == rows
    assert findings == []
    assert reader.header == [f"c{index}" for index in range(len(AWKWARD))]
    assert [line for line, _ in read_rows] == [2, 5]  # records start on their first physical line


def test_gbif_dialect_scrubs_tab_cr_lf_to_spaces():
    data = written(GBIF_DIALECT, [AWKWARD])
    _, rows, findings = read(data, GBIF_DIALECT, width=len(AWKWARD))
    assert rows[0][1] == [
        "tab here",
        "new line",
        "cr lf  ",
        'say "hi"',
        '"quoted"',
        "",
        "naïve café 🦋",
        "trailing ",
        " ",
    ]
    assert codes(findings) == ["LEADING_QUOTE"]  # a warning: '"quoted"' is read literally without quoting


def test_writer_refuses_rows_of_the_wrong_width_and_nul_in_lossless_form():
    writer = TableWriter(io.BytesIO(), FULL_DIALECT)
    writer.write_header(["a", "b"])
    with pytest.raises(ValueError):
        writer.write_row(["only one"])
    with pytest.raises(ValueError):
        writer.write_row(["nul\x00", "x"])


@pytest.mark.parametrize(
    "data, code, line, column",
    [
        (b"\xef\xbb\xbfa\tb\n1\t2\n", "BOM_PRESENT", 1, None),
        (b"a\tb\r\n1\t2\r\n", "CARRIAGE_RETURN", 1, None),
        (b"a\tb\n1\tx\ry\n", "CARRIAGE_RETURN", 2, 2),
        (b"a\tb\n1\t2\x00\n", "NUL_BYTE", 2, 2),
        (b"a\tb\n\n1\t2\n", "BLANK_LINE", 2, None),
        (b"a\tb\n1\t2\n\n", "BLANK_LINE", 3, None),
        (b"a\tb\n1\n", "COLUMN_MISMATCH", 2, None),
        (b"a\tb\n1\t2\t3\n", "COLUMN_MISMATCH", 2, None),
        (b"a\tb\n1\tRivi\xe8re\n", "ENCODING_INVALID", 2, 2),
        (b"a\tb\tc\n1\t2\n", "HEADER_COLUMN_MISMATCH", 1, None),
        (b'a\tb\n1\t"open\n', "QUOTING_INVALID", 2, None),
        (b'a\tb\n1\t"x"y\n', "QUOTING_INVALID", 2, 2),
        (b'a\tb\n1\tx"y\n', "QUOTING_INVALID", 2, 2),
    ],
)
def test_reader_reports_each_defect_with_its_place(data, code, line, column):
    _, _, findings = read(data, width=2)
    found = [finding for finding in findings if finding.code == code]
    assert found, codes(findings)
    assert (found[0].file, found[0].line, found[0].column) == ("t.txt", line, column)


def test_latin1_bytes_are_a_finding_never_a_replacement_character():
    _, rows, findings = read(b"a\tb\n1\tok\n2\tRivi\xe8re-du-Loup\n3\tok\n", width=2)
    assert [values for _, values in rows] == [["1", "ok"], ["3", "ok"]]
    assert not any("\ufffd" in value for _, values in rows for value in values)
    assert codes(findings) == ["ENCODING_INVALID"] and "e8" in findings[0].message


def test_crlf_inside_a_quoted_value_is_data_not_a_line_end():
    data = written(FULL_DIALECT, [["x\r\ny", "z"]])
    _, rows, findings = read(data, width=2)
    assert rows[0][1] == ["x\r\ny", "z"] and findings == []


def _refusal_peak(field_bytes: int):
    data = b"a\tb\n1\t" + b"x" * field_bytes + b"\n"
    tracemalloc.start()
    with pytest.raises(TabularError) as refused:
        read(data, GBIF_DIALECT, width=2)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return refused.value.finding, peak


def test_a_ten_megabyte_field_is_refused_without_reading_it_whole():
    finding, peak = _refusal_peak(10 * 1024 * 1024)
    assert (finding.code, finding.line, finding.column) == ("FIELD_TOO_LARGE", 2, 2)
    assert "longer than" in finding.message
    # what is held is bounded by the 8 MiB line cap, not by the value: a 40 MB value costs no more
    _, peak_for_forty = _refusal_peak(40 * 1024 * 1024)
    assert peak_for_forty < peak * 1.1 + 1024 * 1024
    assert peak < 20 * 1024 * 1024


def test_thousands_of_columns_are_refused_before_splitting():
    with pytest.raises(TabularError) as refused:
        read(b"a\tb\n" + b"\t".join([b"x"] * 5000) + b"\n", width=2)
    assert refused.value.finding.code == "TOO_MANY_COLUMNS" and refused.value.finding.severity is Severity.LOCAL


def test_limits_come_from_django_settings(settings):
    settings.DWCA_MAX_FIELD_BYTES = 10
    settings.DWCA_MAX_RECORD_BYTES = 20
    with pytest.raises(TabularError) as refused:
        read(b"a\tb\n1\t" + b"y" * 30 + b"\n", GBIF_DIALECT, width=2)
    assert refused.value.finding.code == "FIELD_TOO_LARGE"


@pytest.mark.parametrize(
    "dialect, code",
    [
        (Dialect(encoding="UTF-16"), "ENCODING_UNSUPPORTED"),
        (Dialect(encoding="no-such-codec"), "ENCODING_UNKNOWN"),
        (Dialect(delimiter="||"), "DELIMITER_UNSUPPORTED"),
        (Dialect(enclosure="''"), "ENCLOSURE_TOO_LONG"),
        (Dialect(line_terminator="\r"), "LINE_TERMINATOR_UNSUPPORTED"),
    ],
)
def test_unsupported_declared_settings_are_refused(dialect, code):
    with pytest.raises(TabularError) as refused:
        read(b"a\n", dialect)
    assert refused.value.finding.code == code


def test_declared_settings_are_honoured():
    dialect = Dialect(delimiter=",", enclosure='"', line_terminator="\r\n", encoding="ISO-8859-1", header_lines=2)
    _, rows, findings = read(b'title\r\na,b\r\n1,"Rivi\xe8re, QC"\r\n', dialect, width=2)
    assert [values for _, values in rows] == [["1", "Rivière, QC"]] and findings == []


def test_the_reader_streams_with_flat_memory():
    """Memory does not grow with the row count: 100,000 rows read with a small, constant peak."""

    class Rows(io.RawIOBase):  # generates the file on the fly: nothing large exists anywhere
        def __init__(self, count):
            self.pending, self.left = b"id\tvalue\n", count

        def readable(self):
            return True

        def readinto(self, buffer):
            while len(self.pending) < len(buffer) and self.left:
                self.pending += b"".join(
                    b"%08d-aaaa-4bbb-8ccc-dddddddddddd\tsome text value\n" % n
                    for n in range(self.left, max(self.left - 1000, 0), -1)
                )
                self.left = max(self.left - 1000, 0)
            size = min(len(buffer), len(self.pending))
            buffer[:size], self.pending = self.pending[:size], self.pending[size:]
            return size

    tracemalloc.start()
    count = 0
    for _ in TableReader(io.BufferedReader(Rows(100_000)), GBIF_DIALECT, member="big.txt", width=2):
        count += 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 100_000
    assert peak < 8 * 1024 * 1024
