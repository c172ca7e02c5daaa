"""The PostgreSQL import path (COPY into staging tables, one INSERT ... SELECT per model) against
the portable path (parse in Python, bulk_create), which also runs on PostgreSQL when asked
(ImportOptions(staging=False)). Both must write the same rows and report the same counts,
differences and errors; the error tests run on SQLite too (portable path only)."""

from __future__ import annotations

import datetime
import zipfile
from pathlib import Path

import pytest

from ami.main.models import Classification, Detection, Occurrence, Project, SourceImage
from dwca_port.importer import ImportOptions, ImportRefused, import_project
from dwca_port.values import with_offset
from tests.portability.corpus_helpers import database_fingerprint
from tests.portability.helpers import data_files, header, rows, table_counts, wipe_graph

pytestmark = pytest.mark.django_db


def _import(path, **options):
    options.setdefault("create_missing_users", True)
    return import_project(path, ImportOptions(**options))


def _paths() -> list[bool]:
    from django.db import connection

    return [False, True] if connection.vendor == "postgresql" else [False]


def _rewrite(path: Path, member: str, edit, target: Path) -> Path:
    """A copy of the archive with one data file's cells edited: edit(header, rows) -> rows."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == member:
                lines = data.decode().split("\n")
                names = lines[0].split("\t")
                cells = [line.split("\t") for line in lines[1:] if line]
                data = ("\n".join(["\t".join(names)] + ["\t".join(row) for row in edit(names, cells)]) + "\n").encode()
            out.writestr(info, data)
    return target


def _set(names, row, column, value):
    row[names.index(column)] = value
    return row


def _state(report) -> dict:
    """What an import did, path-independently: counts, drops, cache differences, and the rows."""
    return {
        "models": {label: vars(c) for label, c in report.models.items()},
        "dropped": sorted(report.dropped),
        "users_not_found": sorted(report.users_not_found),
        "caches": report.cache_differences,
        "examples": report.cache_difference_examples,
        "credentials": report.storage_sources_needing_credentials,
        "counts": table_counts(),
    }


def _both_paths(path, export, **options) -> list:
    """Import the archive with each path into an emptied database; per path: (state, the data
    files exported again, the archive's UUIDs in primary-key order)."""
    results = []
    for staging in _paths():
        wipe_graph()
        report = _import(path, staging=staging, **options)
        project = Project.objects.get()
        results.append((_state(report), data_files(export(project)) if project else None, _pk_order()))
    return results


def _pk_order() -> list:
    """Archive order is primary-key order on both paths (the rows are written in line order)."""
    return [
        list(model._base_manager.order_by("pk").values_list("uuid", flat=True))
        for model in (SourceImage, Detection, Classification, Occurrence)
    ]


def test_both_paths_write_the_same(demo, export):
    results = _both_paths(export(demo), export)
    assert all(result == results[0] for result in results)


def test_both_paths_drop_the_same_rows_of_unknown_users(demo, export):
    results = _both_paths(export(demo), export, create_missing_users=False)
    state = results[0][0]
    assert state["models"]["exports.DataExport"]["dropped"] == 1 and state["users_not_found"]
    assert all(result == results[0] for result in results)


def test_non_canonical_cells_are_read_as_parse_value_reads_them(demo, export, tmp_path):
    """Upper-case UUIDs, a date-time with a UTC offset and an integer with a non-ASCII digit:
    valid, not canonical; both paths store exactly what the canonical archive gives."""
    path = export(demo)

    def edit(names, cells):
        for row in cells:
            _set(names, row, "sourceImageID", row[names.index("sourceImageID")].upper())
        first = cells[0]
        stamp = first[names.index("timestamp")]
        frame = first[names.index("frameNum")]
        assert stamp and frame.isdigit()
        _set(names, first, "timestamp", with_offset(datetime.datetime.fromisoformat(stamp)))
        # ARABIC-INDIC digits: int() reads them
        _set(names, first, "frameNum", frame.translate({ord("0") + i: 0x660 + i for i in range(10)}))
        return cells

    edited = _rewrite(path, "antenna_detection.txt", edit, tmp_path / "edited.zip")
    canonical = _both_paths(path, export)[0]
    results = _both_paths(edited, export, validate=False)
    for state, files, order in results:
        assert state == canonical[0] and order == canonical[2]
        assert files == canonical[1]


def test_cache_differences_are_counted_and_shown_alike(demo, export, tmp_path):
    def edit(names, cells):
        for row in cells[:12]:
            _set(names, row, "detectionsCount", "77")
        return cells

    stale = _rewrite(export(demo), "antenna_sourceimage.txt", edit, tmp_path / "stale.zip")
    results = _both_paths(stale, export)
    state = results[0][0]
    assert state["caches"]["main.SourceImage.detections_count"] == 12
    assert len(state["examples"]) == 10 and "archived '77'" in state["examples"][0]
    assert all(result[0] == state for result in results)


@pytest.mark.parametrize("staging", [False, True], ids=["portable", "staging"])
def test_update_counts_created_updated_and_changes_exactly_the_edited_fields(demo, export, staging):
    if staging and "postgresql" not in _vendor():
        pytest.skip("the staging path is PostgreSQL's")
    path = export(demo)
    detection = Detection.objects.filter(source_image__project=demo).order_by("uuid").first()
    box = detection.bbox
    Detection.objects.filter(pk=detection.pk).update(bbox=[1, 2, 3, 4], path="edited.jpg")
    gone = list(Classification.objects.filter(detection__source_image__project=demo).order_by("uuid")[:5])
    Classification.objects.filter(applied_to__in=gone).update(applied_to=None)
    Classification.objects.filter(pk__in=[c.pk for c in gone]).delete()
    total = Classification.objects.filter(detection__source_image__project=demo).count()
    report = _import(path, on_conflict="update", staging=staging)
    detection.refresh_from_db()
    assert detection.bbox == box and detection.path != "edited.jpg"
    counts = report.models["main.Classification"]
    assert (counts.created, counts.updated, counts.skipped, counts.dropped) == (5, total, 0, 0)
    assert report.models["main.Detection"].updated == 333
    assert data_files(export(Project.objects.get(pk=demo.pk))) == data_files(path)


@pytest.mark.parametrize("staging", [False, True], ids=["portable", "staging"])
def test_skip_keeps_existing_rows_and_counts(demo, export, staging):
    if staging and "postgresql" not in _vendor():
        pytest.skip("the staging path is PostgreSQL's")
    path = export(demo)
    edited = Occurrence.objects.filter(project=demo).order_by("pk").first()
    Occurrence.objects.filter(pk=edited.pk).update(determination_score=0.5)
    before = table_counts()
    report = _import(path, on_conflict="skip", staging=staging)
    assert table_counts() == before
    edited.refresh_from_db()
    assert edited.determination_score == 0.5
    assert report.models["main.Occurrence"].skipped == 95 and report.models["main.Occurrence"].created == 0


def _vendor() -> str:
    from django.db import connection

    return connection.vendor


# -- errors: same message on both paths, database unchanged ----------------------------------------


def _refused(path, **options) -> list[str]:
    messages = []
    for staging in _paths():
        before = table_counts(), database_fingerprint()
        with pytest.raises(ImportRefused) as raised:
            _import(path, staging=staging, validate=False, **options)
        assert "\n" not in str(raised.value)
        assert (table_counts(), database_fingerprint()) == before
        messages.append(str(raised.value))
    assert all(message == messages[0] for message in messages), messages
    return messages


def test_a_dangling_reference_names_file_line_and_column(demo, export, tmp_path):
    path = export(demo)
    names = header(path, "antenna_detection.txt")
    line = 7
    dangling = "00000000-0000-4000-8000-000000000001"

    def edit(names, cells):
        _set(names, cells[line - 2], "occurrenceID", dangling)
        return cells

    bad = _rewrite(path, "antenna_detection.txt", edit, tmp_path / "dangling.zip")
    wipe_graph()
    message, *_ = _refused(bad)
    column = names.index("occurrenceID") + 1
    assert message == (
        f"antenna_detection.txt, line {line}, column {column} (occurrenceID): refers to Occurrence "
        f"{dangling}, which is neither in the archive nor here"
    )


@pytest.mark.parametrize(
    "column, value, reason",
    [
        ("frameNum", "seven", "'seven' is not a valid integer"),
        ("detectionScore", "0,5", "'0,5' is not a valid decimal"),
        ("timestamp", "2023-02-30T10:00:00", "'2023-02-30T10:00:00' is not a valid datetime"),
        ("sourceImageID", "not-a-uuid", "'not-a-uuid' is not a valid uuid"),
        ("bbox", "[1, 2.5,", "'[1, 2.5,' is not a valid json"),
    ],
)
def test_a_bad_cell_names_file_line_and_column(demo, export, tmp_path, column, value, reason):
    path = export(demo)
    names = header(path, "antenna_detection.txt")
    count = len(rows(path, "antenna_detection.txt"))

    def edit(names, cells):
        _set(names, cells[count - 1], column, value)  # the last row: after many good ones
        return cells

    bad = _rewrite(path, "antenna_detection.txt", edit, tmp_path / "bad.zip")
    wipe_graph()
    message, *_ = _refused(bad)
    assert message == (
        f"antenna_detection.txt, line {count + 1}, column {names.index(column) + 1} ({column}): {reason}"
    )


def test_an_unknown_owner_is_refused(demo, export, tmp_path):
    path = export(demo)
    wipe_graph()
    message, *_ = _refused(path, owner_email="nobody@example.org")
    assert "--owner" in message


@pytest.mark.parametrize(
    "kind, text",
    [
        ("uuid", "0f8b9c2e-1d3a-4b5c-8d6e-7f8091a2b3c4"),
        ("uuid", "0F8B9C2E-1D3A-4B5C-8D6E-7F8091A2B3C4"),
        ("uuid", "0f8b9c2e1d3a4b5c8d6e7f8091a2b3c4"),
        ("uuid", "{0f8b9c2e-1d3a-4b5c-8d6e-7f8091a2b3c4}"),
        ("uuid", "0f8b9c2e-1d3a-4b5c-8d6e-7f8091a2b3cg"),
        ("integer", "-12"),
        ("integer", "+12"),
        ("integer", " 12"),
        ("integer", "\u0661\u0662"),
        ("integer", "1" * 30),
        ("decimal", "0.5"),
        ("decimal", "-1e-05"),
        ("decimal", ".5"),
        ("decimal", "1."),
        ("decimal", "NaN"),
        ("decimal", "nan"),
        ("decimal", "-Infinity"),
        ("decimal", "1e400"),
        ("decimal", "1_000.5"),
        ("boolean", "true"),
        ("boolean", "True"),
        ("boolean", "t"),
        ("datetime", "2023-06-01T21:05:45"),
        ("datetime", "2023-06-01T21:05:45.123456"),
        ("datetime", "2023-06-01T24:00:00"),
        ("datetime", "2023-06-01T23:59:60"),
        ("datetime", "2023-06-01T21:05:45+02:00"),
        ("datetime", "2023-06-01 21:05:45"),
        ("datetime", "2023-02-30T10:00:00"),
        ("date", "2023-06-01"),
        ("date", "20230601"),
        ("date", "2023-13-01"),
    ],
)
def test_canonical_cells_are_a_subset_of_what_parse_value_reads(kind, text):
    """A cell the staging path passes to SQL as it is must be one parse_value reads, and SQL's
    cast of it must give the same value: its canonical text, up to the case of a UUID (or a
    date SQL refuses too, as parse_value does)."""
    import re

    from dwca_port.postgres.casts import CANONICAL
    from dwca_port.values import CellError, Kind, format_value, parse_value

    kind = Kind(kind)
    if not re.fullmatch(f"(?:{CANONICAL[kind]})?", text):
        return  # parse_value decides (refuses, or rewrites it canonically)
    try:
        canonical = format_value(kind, parse_value(kind, text))
    except CellError:
        # a calendar value out of range: SQL's cast refuses it too, and parse_value then names the cell
        assert text in ("2023-02-30T10:00:00", "2023-13-01"), f"{text!r} would reach SQL, which takes it"
        return
    if kind is Kind.DECIMAL:
        assert float(canonical) == float(text) or text == "NaN"
    else:
        assert canonical == text.lower() if kind is Kind.UUID else canonical == text
