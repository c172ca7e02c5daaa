"""Lossless round trips (issue 12): local times around daylight-saving changes, and empty text.

Upstream stores naive America/New_York times (USE_TZ=False). SQLite keeps them as text; on
PostgreSQL the column is a timestamptz, which holds instants: the hour the clocks repeat in
autumn is two different instants with one wall time, and the hour they skip in spring does not
exist. Export, empty database, import: every capture time is stored exactly as before.
"""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count

from ami.main.models import Deployment, Occurrence, Project, SourceImage
from dwca_port.importer import ImportOptions, import_project
from tests.archive_corpus import Editor
from tests.portability.corpus_helpers import database_fingerprint
from tests.portability.helpers import column, data_files, members, wipe_graph

pytestmark = pytest.mark.django_db

ON_POSTGRESQL = connection.vendor == "postgresql"


def _stored_times() -> dict[str, str]:
    """Capture UUID -> its time as the database holds it (an instant on PostgreSQL)."""
    with connection.cursor() as cursor:
        cast = "::text" if ON_POSTGRESQL else ""
        cursor.execute(f"SELECT uuid{cast}, timestamp{cast} FROM main_sourceimage WHERE timestamp IS NOT NULL")
        return {str(uuid).replace("-", ""): str(moment) for uuid, moment in cursor.fetchall()}


def _set_times(project, moments: list[str]) -> None:
    """Set the first captures' times: instants on PostgreSQL, naive local text on SQLite."""
    images = list(SourceImage.objects.filter(project=project).order_by("pk")[: len(moments)])
    with connection.cursor() as cursor:
        for image, moment in zip(images, moments):
            cast = "%s::timestamptz" if ON_POSTGRESQL else "%s"
            cursor.execute(f"UPDATE main_sourceimage SET timestamp = {cast} WHERE id = %s", [moment, image.pk])


def _import(path, **options):
    options.setdefault("create_missing_users", True)
    return import_project(path, ImportOptions(**options))


# The autumn hour twice (01:30 daylight, then 01:30 standard time), and on SQLite the spring hour
# that never happens (PostgreSQL cannot hold it: see the refusal below).
TIMES = (
    ["2024-11-03T05:30:00Z", "2024-11-03T06:30:00Z", "2024-11-03T05:59:59.5Z", "2024-03-10T07:30:00Z"]
    if ON_POSTGRESQL
    else ["2024-11-03 01:30:00", "2024-03-10 02:30:00", "2024-03-10 02:00:00.25", "2024-11-03 01:59:59"]
)


@pytest.mark.parametrize(
    "staging", [None, False] if ON_POSTGRESQL else [None], ids=lambda s: "portable" if s is False else "default"
)
def test_times_around_daylight_saving_changes_round_trip_as_stored(demo, export, staging):
    _set_times(demo, TIMES)
    before = _stored_times()
    first = export(demo)
    cells = column(first, "antenna_sourceimage.txt", "timestamp")
    if ON_POSTGRESQL:  # the earlier reading of the repeated hour carries its offset, the later one not
        assert "2024-11-03T01:30:00-04:00" in cells and "2024-11-03T01:30:00" in cells
    else:
        assert "2024-03-10T02:30:00" in cells
    wipe_graph()
    _import(first, staging=staging)
    assert _stored_times() == before
    second = export(Project.objects.get())
    assert column(second, "antenna_sourceimage.txt", "timestamp") == cells


@pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite stores the skipped hour as it is (the round trip above)")
@pytest.mark.parametrize("staging", [None, False], ids=["staging", "portable"])
def test_a_time_the_clocks_skip_is_refused_where_it_cannot_be_stored(demo, export, tmp_path, staging):
    editor = Editor(export(demo).read_bytes())
    table = next(t for t in editor.meta.tables if t.file == "antenna_sourceimage.txt")
    header, rows = editor.rows(table)
    index = header.index("timestamp")
    rows[0][index] = "2024-03-10T02:30:00"
    editor.write_rows(table, header, rows)
    path = tmp_path / "gap.zip"
    path.write_bytes(editor.build())
    wipe_graph()
    before = database_fingerprint()
    if staging is None:
        with pytest.raises(CommandError) as caught:
            call_command("import_project", str(path), "--create-missing-users", "--quiet")
    else:
        from dwca_port.importer import ImportRefused

        with pytest.raises(ImportRefused) as caught:
            _import(path, staging=staging)
    message = str(caught.value)
    assert "\n" not in message
    assert f"antenna_sourceimage.txt, line 2, column {index + 1} (timestamp)" in message, message
    assert "never happens in America/New_York" in message
    assert database_fingerprint() == before


def test_empty_text_round_trip_follows_the_documented_rule(demo, export):
    """docs/format.md: an empty cell is NULL where the column allows NULL, else the empty string.
    An empty string in a nullable text column comes back as NULL; in a not-null one it stays."""
    deployment = Deployment.objects.filter(project=demo).order_by("pk").first()
    Deployment.objects.filter(pk=deployment.pk).update(data_source_subdir="", data_source_regex=None, description="")
    first = export(demo)
    wipe_graph()
    _import(first)
    imported = Deployment.objects.get(uuid=deployment.uuid)
    assert imported.data_source_subdir is None  # nullable: "" and NULL are one value in the archive
    assert imported.data_source_regex is None
    assert imported.description == ""  # not nullable: the empty string


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the SQL fast path is PostgreSQL's")
def test_the_sql_and_python_exports_agree_on_repeated_wall_times(demo, export):
    """The SQL forms and the Python builders write the same offsets, and order times by their
    instants, in every table: the earlier reading of the repeated hour is daylight time (-04:00)
    in the Darwin Core views too, and an occurrence seen across the change ends at its last instant."""
    _set_times(demo, TIMES)
    python, sql = export(demo, in_sql=False), export(demo, in_sql=True)
    assert "2024-11-03T01:30:00-04:00" in column(python, "antenna_sourceimage.txt", "timestamp")
    assert "2024-11-03T01:30:00-04:00" in column(python, "multimedia.txt", "created")
    assert data_files(python) == data_files(sql)


def _occurrence_across_the_change(project, moments: list[str]) -> None:
    """Give the captures of one occurrence (one seen on as many captures) the instants `moments`."""
    occurrence = (
        Occurrence.objects.filter(project=project)
        .annotate(shots=Count("detections__source_image", distinct=True))
        .filter(shots=len(moments))
        .order_by("pk")
        .first()
    )
    captures = list(SourceImage.objects.filter(detections__occurrence=occurrence).distinct().order_by("pk"))
    with connection.cursor() as cursor:
        for capture, moment in zip(captures, moments):
            cursor.execute(
                "UPDATE main_sourceimage SET timestamp = %s::timestamptz WHERE id = %s", [moment, capture.pk]
            )


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the SQL fast path is PostgreSQL's")
@pytest.mark.parametrize(
    "moments, written",
    [  # 01:30 daylight, then 01:30 standard time; 01:50 daylight, then 01:10: wall times out of order
        (["2024-11-03T05:30:00Z", "2024-11-03T06:30:00Z"], "2024-11-03T01:30:00-04:00/2024-11-03T01:30:00-05:00"),
        (["2024-11-03T05:50:00Z", "2024-11-03T06:10:00Z"], "2024-11-03T01:50:00-04:00/2024-11-03T01:10:00-05:00"),
    ],
    ids=["one wall time", "wall times out of order"],
)
def test_an_occurrence_seen_across_the_autumn_change_is_written_alike_in_sql_and_python(demo, export, moments, written):
    """Its first and last captures are its first and last instants, in the Darwin Core views and in
    the Camtrap DP package: the Python builders compare instants as the SQL forms do."""
    _occurrence_across_the_change(demo, moments)
    python, sql = export(demo, in_sql=False), export(demo, in_sql=True)
    assert written in column(sql, "occurrence.txt", "eventDate")
    assert data_files(python) == data_files(sql)
    camtrap = [members(export(demo, format="camtrap-dp", in_sql=in_sql)) for in_sql in (False, True)]
    for name in ("deployments.csv", "media.csv", "observations.csv"):
        assert camtrap[0][name] == camtrap[1][name], name


@pytest.mark.skipif(ON_POSTGRESQL, reason="PostgreSQL cannot hold a time the clocks skip")
def test_a_capture_in_the_skipped_spring_hour_reads_before_the_captures_after_it(demo, export):
    """SQLite keeps 02:30 on the night the clocks skip from 02:00 to 03:00; with 03:10 after it in
    the same station, its offset (-04:00, the one after the change) keeps the station's interval
    in order, and the archive passes validation."""
    deployment = Deployment.objects.filter(project=demo).order_by("pk").first()
    captures = SourceImage.objects.filter(deployment=deployment).order_by("pk")
    captures.update(timestamp="2024-03-10 03:10:00")
    SourceImage.objects.filter(pk=captures.first().pk).update(timestamp="2024-03-10 02:30:00")
    archive = export(demo)  # validated: an interval ending before it starts is refused
    assert "2024-03-10T02:30:00-04:00/2024-03-10T03:10:00-04:00" in column(archive, "event.txt", "eventDate")
