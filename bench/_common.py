"""Helpers shared by bench/export.py and bench/import.py (PostgreSQL scratch databases,
per-step subprocesses with their own peak RSS, the COPY and dumpdata/loaddata baselines)."""

from __future__ import annotations

import multiprocessing
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVER = "postgres://postgres@127.0.0.1:5432"
WORKDIR = Path(os.environ.get("BENCH_WORKDIR", "/tmp/antenna-dwca-bench"))

# The four big tables of a project; everything else in an archive is a few hundred rows.
BIG_MODELS = ("main.SourceImage", "main.Occurrence", "main.Detection", "main.Classification")


def run_sizes(args, run_size, report) -> None:
    """run_size at the asked size (with --scale, at a tenth of it first), then the report; the
    scratch database is dropped at the end unless --keep."""
    sizes = [(args.images, args.detections, args.occurrences)]
    if args.scale:
        sizes.insert(0, (args.images // 10, args.detections // 10, args.occurrences // 10))
    results = []
    try:
        for images, detections, occurrences in sizes:
            results.append(run_size(args, images, detections, occurrences))
    finally:
        if not args.keep:
            drop_database(args.database)
    report(results)


def db_url(name: str) -> str:
    return f"{SERVER}/{name}"


def recreate_database(name: str) -> str:
    import psycopg

    if not name.startswith("bench_"):
        raise SystemExit(f"refusing to drop {name!r}: scratch database names start with bench_")
    with psycopg.connect(db_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return db_url(name)


def drop_database(name: str) -> None:
    import psycopg

    if not name.startswith("bench_"):
        raise SystemExit(f"refusing to drop {name!r}")
    with psycopg.connect(db_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _call(function, args):
    """Run in the child: the step's result plus its own peak RSS and the RSS Django's set-up cost."""
    url = args[0]
    setup_django(url)
    baseline = peak_rss_mb()
    result = function(*args)
    result = dict(result or {})
    result["rss"] = peak_rss_mb()
    result["rss_after_setup"] = baseline
    return result


def in_fresh_process(function, *args) -> dict:
    """Each step in its own spawned process, so getrusage's maxrss is that step's own peak."""
    with multiprocessing.get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
        return pool.apply(_call, (function, args))


def migrate(url: str) -> dict:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    return {"seconds": time.perf_counter() - started}


def table_rows(url: str, project_id: int | None = None) -> dict:
    """Rows of the big tables (of one project, when given)."""
    from django.apps import apps

    counts = {}
    for label in BIG_MODELS:
        model = apps.get_model(label)
        qs = model._base_manager.all()
        if project_id is not None:
            qs = qs.filter(**_project_filter(label, project_id))
        counts[label] = qs.count()
    return counts


def _project_filter(label: str, project_id: int) -> dict:
    return {
        "main.SourceImage": {"project_id": project_id},
        "main.Occurrence": {"project_id": project_id},
        "main.Detection": {"source_image__project_id": project_id},
        "main.Classification": {"detection__source_image__project_id": project_id},
    }[label]


# -- seeding, exporting, validating (steps of bench/export.py and bench/import.py) -------------------------


def seed_project(url: str, images: int, detections: int, occurrences: int) -> dict:
    from ami.main.synthetic import SyntheticSpec, seed_synthetic_project

    started = time.perf_counter()
    project = seed_synthetic_project(
        SyntheticSpec(
            images=images,
            detections_per_image=detections / images,
            occurrences=occurrences,
            name=f"Export benchmark {images}",
        ),
        progress=None,
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # as a real instance would be: visibility map set, statistics known
    return {"seconds": time.perf_counter() - started, "project": project.pk, "rows": table_rows(url, project.pk)}


def find_seeded(url: str, images: int) -> dict:
    """The project seed_project made in an earlier run (its seeding time unknown here)."""
    from ami.main.models import Project

    project = Project.objects.get(name=f"Export benchmark {images}")
    return {"seconds": float("nan"), "project": project.pk, "rows": table_rows(url, project.pk)}


class StageClock:
    """A progress listener that keeps when each stage ended (seconds since it was made)."""

    def __init__(self):
        self.started = time.perf_counter()
        self.ends: dict[str, float] = {}
        self._current: str | None = None

    def stage(self, name: str, total=None, unit: str = "rows") -> None:
        self.finish()
        self._current = name

    def advance(self, amount: int) -> None:
        pass

    def say(self, message: str) -> None:
        pass

    def finish(self) -> None:
        if self._current is not None:
            self.ends[self._current] = time.perf_counter() - self.started
        self._current = None


def export_archive(
    url: str, project_id: int, path: str, cprofile: bool, validate: bool = False, connections: int | None = None
) -> dict:
    from ami.main.models import Project
    from dwca_port.export import export_project

    project = Project.objects.get(pk=project_id)
    profiler = None
    if cprofile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    progress = StageClock()  # one stage per table: per-table times
    started = time.perf_counter()
    summary = export_project(project, path, "full", progress=progress, validate=validate, connections=connections)
    seconds = time.perf_counter() - started
    ends = progress.ends
    table_seconds, previous = {}, 0.0
    for t in summary.tables:
        if t.file in ends:
            table_seconds[t.file] = ends[t.file] - previous
            previous = ends[t.file]
    result = {
        "seconds": seconds,
        "rows": summary.rows,
        "bytes": Path(path).stat().st_size,
        "tables": {t.file: t.rows for t in summary.tables},
        "table_seconds": table_seconds,
        "validation": _stage_seconds(ends, "validate"),
        "connections": summary.connections,
    }
    if profiler:
        profiler.disable()
        result["profile"] = profile_text(profiler, path + ".prof")
    return result


def _stage_seconds(ends: dict[str, float], name: str) -> float:
    """How long stage `name` ran: from the end of the stage before it to its own end."""
    if name not in ends:
        return 0.0
    before = [at for other, at in ends.items() if at < ends[name]]
    return ends[name] - max(before, default=0.0)


def profile_text(profiler, dump: str, top: int = 30) -> str:
    import io
    import pstats

    profiler.dump_stats(dump)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    out.write("== by own time (tottime) ==\n")
    stats.sort_stats("tottime").print_stats(top)
    out.write("== by cumulative time ==\n")
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def validate_step(url: str, path: str, columnar: bool | None = None) -> dict:
    """validate_archive on its own: the default (columnar=None: the fast path past its threshold), or
    columnar=False, the precise line-by-line reader alone (what every validation ran before)."""
    from dwca_port.validate import validate_archive

    started = time.perf_counter()
    report = validate_archive(path, profile="full", columnar=columnar)
    return {
        "seconds": time.perf_counter() - started,
        "ok": report.ok,
        "columnar": report.columnar,
        "blocking": [str(f) for f in report.blocking[:5]],
    }


# -- COPY baselines ----------------------------------------------------------------------------------


def copy_queries(project_id: int) -> dict[str, str]:
    """The rows of the big tables, with the UUIDs of their foreign keys joined in (as the archive
    carries them), ordered by UUID like the export."""
    p = int(project_id)
    return {
        "main.SourceImage": f"""
            SELECT s.uuid, s.*, pr.uuid AS project_uuid, d.uuid AS deployment_uuid, e.uuid AS event_uuid
            FROM main_sourceimage s JOIN main_project pr ON pr.id = s.project_id
            LEFT JOIN main_deployment d ON d.id = s.deployment_id LEFT JOIN main_event e ON e.id = s.event_id
            WHERE s.project_id = {p} ORDER BY s.uuid""",
        "main.Occurrence": f"""
            SELECT o.uuid, o.*, d.uuid AS deployment_uuid, e.uuid AS event_uuid, t.uuid AS determination_uuid
            FROM main_occurrence o LEFT JOIN main_deployment d ON d.id = o.deployment_id
            LEFT JOIN main_event e ON e.id = o.event_id LEFT JOIN main_taxon t ON t.id = o.determination_id
            WHERE o.project_id = {p} ORDER BY o.uuid""",
        "main.Detection": f"""
            SELECT x.uuid, x.*, s.uuid AS source_image_uuid, o.uuid AS occurrence_uuid, a.uuid AS algorithm_uuid
            FROM main_detection x JOIN main_sourceimage s ON s.id = x.source_image_id
            LEFT JOIN main_occurrence o ON o.id = x.occurrence_id
            LEFT JOIN ml_algorithm a ON a.id = x.detection_algorithm_id
            WHERE s.project_id = {p} ORDER BY x.uuid""",
        "main.Classification": f"""
            SELECT c.uuid, c.*, x.uuid AS detection_uuid, t.uuid AS taxon_uuid, a.uuid AS algorithm_uuid
            FROM main_classification c JOIN main_detection x ON x.id = c.detection_id
            JOIN main_sourceimage s ON s.id = x.source_image_id
            LEFT JOIN main_taxon t ON t.id = c.taxon_id LEFT JOIN ml_algorithm a ON a.id = c.algorithm_id
            WHERE s.project_id = {p} ORDER BY c.uuid""",
    }


def copy_out(url: str, project_id: int, directory: str) -> dict:
    """psycopg COPY (SELECT ...) TO STDOUT (csv) of the big tables into files: the export's ceiling."""
    from django.db import connection

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rows, nbytes, per = 0, 0, {}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for label, query in copy_queries(project_id).items():
            t0 = time.perf_counter()
            n = 0
            target = directory / f"{label}.csv"
            with (
                open(target, "wb") as out,
                cursor.cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT csv, HEADER)") as copy,
            ):
                for data in copy:
                    out.write(data)
            n = cursor.cursor.rowcount
            rows += n
            nbytes += target.stat().st_size
            per[label] = (n, time.perf_counter() - t0)
    return {"seconds": time.perf_counter() - started, "rows": rows, "bytes": nbytes, "per": per}


# -- dumpdata / loaddata baselines on a subset ---------------------------------------------------------


def subset_pks(project_id: int, images: int) -> dict[str, list[int]]:
    """A contiguous slice of the project: `images` source images, their detections and those
    detections' classifications and occurrences (the same proportions as the whole)."""
    from ami.main.models import Classification, Detection, Occurrence, SourceImage

    image_ids = list(
        SourceImage.objects.filter(project_id=project_id).order_by("pk").values_list("pk", flat=True)[:images]
    )
    lo, hi = image_ids[0], image_ids[-1]
    detections = list(
        Detection.objects.filter(source_image_id__gte=lo, source_image_id__lte=hi).values_list("pk", "occurrence_id")
    )
    detection_ids = [d for d, _ in detections]
    occurrence_ids = sorted({o for _, o in detections if o is not None})
    classification_ids = (
        list(Classification.objects.filter(detection_id__in=detection_ids).values_list("pk", flat=True))
        if detection_ids
        else []
    )
    # occurrences are far fewer than images: make sure the slice carries its proportional share
    total_images = SourceImage.objects.filter(project_id=project_id).count()
    want_occ = round(Occurrence.objects.filter(project_id=project_id).count() * len(image_ids) / max(total_images, 1))
    if len(occurrence_ids) < want_occ:
        extra = (
            Occurrence.objects.filter(project_id=project_id)
            .exclude(pk__in=occurrence_ids)
            .order_by("pk")
            .values_list("pk", flat=True)[: want_occ - len(occurrence_ids)]
        )
        occurrence_ids += list(extra)
    return {
        "main.SourceImage": image_ids,
        "main.Occurrence": occurrence_ids,
        "main.Detection": detection_ids,
        "main.Classification": classification_ids,
    }


def dumpdata_subset(url: str, project_id: int, images: int, directory: str) -> dict:
    """manage.py dumpdata (JSON) of a subset, one call per model with --pks; returns the files."""
    from django.core.management import call_command

    pks = subset_pks(project_id, images)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files, rows = [], 0
    started = time.perf_counter()
    for label, ids in pks.items():
        if not ids:
            continue
        target = directory / f"{label}.json"
        call_command("dumpdata", label, primary_keys=",".join(map(str, ids)), output=str(target), verbosity=0)
        files.append(str(target))
        rows += len(ids)
    return {
        "seconds": time.perf_counter() - started,
        "rows": rows,
        "files": files,
        "per": {label: len(ids) for label, ids in pks.items()},
    }


def loaddata_subset(url: str, files: list[str]) -> dict:
    """manage.py loaddata of the dumped subset, into the tables those rows were deleted from
    (raw DELETE inside one transaction, foreign keys are deferred), then rolled back."""
    import json

    from django.apps import apps
    from django.core.management import call_command
    from django.db import connection, transaction

    by_label = {}
    for path in files:
        with open(path) as f:
            by_label[Path(path).stem] = [obj["pk"] for obj in json.load(f)]
    rows = sum(len(v) for v in by_label.values())

    class Done(Exception):
        pass

    seconds = None
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                for label in reversed(BIG_MODELS):
                    if label in by_label:
                        table = apps.get_model(label)._meta.db_table
                        cursor.execute(f"DELETE FROM {table} WHERE id = ANY(%s)", [by_label[label]])
            started = time.perf_counter()
            call_command("loaddata", *files, verbosity=0)
            seconds = time.perf_counter() - started
            raise Done
    except Done:
        pass
    return {"seconds": seconds, "rows": rows}


def fmt_rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f} rows/s" if seconds else "-"
