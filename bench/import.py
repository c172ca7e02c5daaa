"""Benchmark import_project of a full-profile archive against COPY FROM and loaddata (PostgreSQL; not a timed test).

    .venv/bin/python bench/import.py [--images 1000000] [--detections 300000] [--occurrences 50000]
        [--scale] [--dump-images 2000] [--cprofile] [--keep]

The archive is the one bench/export.py left in $BENCH_WORKDIR (default /tmp/antenna-dwca-bench)
as export-<images>.zip; when it is missing it is made the same way (seeded in the scratch
database `<--database>_src` (`bench_import_src`), exported, the database dropped). Then, each step in its own
spawned process so that its peak RSS (getrusage maxrss) is its own:

1. in a fresh database `bench_import` (dropped, re-created, migrated with call_command):
   import_project(archive, ImportOptions(create_missing_users=True, validate=False)), rows
   created per second; the validation the importer runs first (validate_archive) is timed on its
   own and added;
2. PostgreSQL's own COPY ... FROM of the same rows: the imported rows of the four big tables
   are copied out to files (untimed), then loaded with COPY FROM into staging tables
   `CREATE TABLE ... (LIKE <target> INCLUDING ALL)` (same columns, primary keys, unique UUID and
   other indexes, no foreign keys): the ceiling;
3. manage.py loaddata (JSON) of the same four models on a subset (--dump-images source images and
   their detections, classifications and occurrences, dumped with dumpdata; the rows are deleted
   in a transaction with deferred foreign keys, loaded, and rolled back), extrapolated.

With --scale the same is first run at 1/10 of the size (needs export-<images/10>.zip too, or makes
it). --cprofile profiles the import step and prints the top costs. Databases are dropped at the
end unless --keep.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _common as common  # noqa: E402

DATABASE = "bench_import"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=1_000_000)
    parser.add_argument("--detections", type=int, default=300_000, help="detections, and as many classifications")
    parser.add_argument("--occurrences", type=int, default=50_000)
    parser.add_argument(
        "--scale", action="store_true", help="also run at 1/10 of the size (first), to compare peak memory"
    )
    parser.add_argument(
        "--dump-images",
        type=int,
        default=2_000,
        help="source images in the loaddata subset (with their detections, classifications, occurrences)",
    )
    parser.add_argument("--cprofile", action="store_true", help="profile the import step and print the top costs")
    parser.add_argument(
        "--default-only",
        action="store_true",
        help="only the default import (validation on) beside COPY FROM and loaddata: the lean run for 10M images",
    )
    parser.add_argument(
        "--without-baselines",
        action="store_true",
        help="with --default-only, no COPY FROM or loaddata (the time and memory of the import alone)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the databases (default: drop them at the end)")
    parser.add_argument("--database", default=DATABASE, help="scratch database name (must start with bench_)")
    args = parser.parse_args(argv)
    if not args.database.startswith("bench_"):
        parser.error("the scratch database name must start with bench_")
    return args


# -- steps, each in a fresh process -----------------------------------------------------------------


def do_import(url: str, archive: str, cprofile: bool, validate: bool = False) -> dict:
    from dwca_port.importer import ImportOptions, import_project

    profiler = None
    if cprofile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    progress = common.StageClock()  # when staging, writing and the caches ended
    started = time.perf_counter()
    report = import_project(archive, ImportOptions(create_missing_users=True, validate=validate), progress=progress)
    seconds = time.perf_counter() - started
    if profiler:
        profiler.disable()
    from ami.main.models import Project

    project = Project.objects.get(pk=report.project["id"])
    result = {
        "seconds": seconds,
        "project": project.pk,
        "created": {label: c.created for label, c in report.models.items()},
        "rows": sum(c.created for c in report.models.values()),
        "big_rows": common.table_rows(url, project.pk),
        "cache_differences": report.cache_differences,
        "phases": _phases(progress.ends, seconds),
    }
    if profiler:
        result["profile"] = common.profile_text(profiler, archive + ".import.prof")
    return result


def _phases(ends: dict[str, float], seconds: float) -> str:
    """Seconds per phase from the importer's stages: staging (read + COPY), shared rows (taxa...),
    writing (INSERT ... SELECT), caches and commit (deferred foreign-key checks)."""
    staged = [at for name, at in ends.items() if name.startswith("staging ")]
    if not staged or "main.Project" not in ends or "links" not in ends:
        return "-"
    marks = {"staged": max(staged), "written": ends["links"]}
    # the project's stage begins once the shared rows are resolved; it is short: its end stands for its start
    marks["shared"] = ends["main.Project"]
    validated = ends.get("validate", 0.0)
    return (
        (f"validation {validated:.1f} s, " if validated else "")
        + f"staging {marks['staged'] - validated:.1f} s, shared rows {marks['shared'] - marks['staged']:.1f} s, "
        f"writing {marks['written'] - marks['shared']:.1f} s, caches + commit {seconds - marks['written']:.1f} s"
    )


def validate(url: str, archive: str) -> dict:
    from dwca_port.validate import validate_archive

    started = time.perf_counter()
    report = validate_archive(archive, profile="full")
    return {"seconds": time.perf_counter() - started, "ok": report.ok}


def copy_in(url: str, project_id: int, directory: str) -> dict:
    """COPY the imported big-table rows out (untimed), then time COPY FROM into staging tables LIKE them."""
    from django.apps import apps
    from django.db import connection, transaction

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    pid = int(project_id)
    where = {
        "main.SourceImage": f"project_id = {pid}",
        "main.Occurrence": f"project_id = {pid}",
        "main.Detection": f"source_image_id IN (SELECT id FROM main_sourceimage WHERE project_id = {pid})",
        "main.Classification": "detection_id IN (SELECT d.id FROM main_detection d JOIN main_sourceimage s "
        f"ON s.id = d.source_image_id WHERE s.project_id = {pid})",
    }
    files = {}
    with connection.cursor() as cursor:
        for label in common.BIG_MODELS:
            table = apps.get_model(label)._meta.db_table
            target = directory / f"{table}.csv"
            with (
                open(target, "wb") as out,
                cursor.cursor.copy(f"COPY (SELECT * FROM {table} WHERE {where[label]}) TO STDOUT (FORMAT csv)") as copy,
            ):
                for data in copy:
                    out.write(data)
            files[table] = target
    rows, per = 0, {}
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for table, path in files.items():
            t0 = time.perf_counter()
            cursor.execute(f"CREATE TABLE staging_{table} (LIKE {table} INCLUDING ALL)")
            with (
                open(path, "rb") as source,
                cursor.cursor.copy(f"COPY staging_{table} FROM STDIN (FORMAT csv)") as copy,
            ):
                while data := source.read(1 << 20):
                    copy.write(data)
            n = cursor.cursor.rowcount
            rows += n
            per[table] = (n, time.perf_counter() - t0)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        for table in files:
            cursor.execute(f"DROP TABLE staging_{table}")
    for path in files.values():
        path.unlink()
    return {"seconds": seconds, "rows": rows, "per": per}


def load_subset(url: str, project_id: int, images: int, directory: str) -> dict:
    dumped = common.dumpdata_subset(url, project_id, images, directory)
    loaded = common.loaddata_subset(url, dumped["files"])
    loaded["per"] = dumped["per"]
    return loaded


# -- the parent ---------------------------------------------------------------------------------------------


def ensure_archive(args, images, detections, occurrences) -> Path:
    archive = common.WORKDIR / f"export-{images}.zip"
    if archive.exists():
        return archive
    print(f"  {archive} is missing: seeding and exporting it", flush=True)
    common.WORKDIR.mkdir(parents=True, exist_ok=True)
    source = args.database + "_src"  # where the archive's project is seeded and exported
    url = common.recreate_database(source)
    try:
        common.in_fresh_process(common.migrate, url)
        seeded = common.in_fresh_process(common.seed_project, url, images, detections, occurrences)
        common.in_fresh_process(common.export_archive, url, seeded["project"], str(archive), False)
    finally:
        common.drop_database(source)
    return archive


def run_size(args, images: int, detections: int, occurrences: int) -> dict:
    say = lambda message: print(f"  {message}", flush=True)
    print(
        f"\n## {images:,} source images, {detections:,} detections and classifications, {occurrences:,} occurrences",
        flush=True,
    )
    archive = ensure_archive(args, images, detections, occurrences)
    say(f"archive {archive} ({archive.stat().st_size / 1e6:.1f} MB)")
    url = common.recreate_database(args.database)
    common.in_fresh_process(common.migrate, url)
    if args.default_only:
        return run_default_only(args, url, images, archive)
    imported = common.in_fresh_process(do_import, url, str(archive), args.cprofile)
    say(
        f"import (validate=False): {imported['seconds']:.1f} s, {imported['rows']:,} rows created "
        f"{imported['big_rows']}, peak RSS {imported['rss']:.0f} MB ({imported['phases']}); "
        f"cache differences {imported['cache_differences']}"
    )
    if args.cprofile:
        print(imported["profile"])
    checked = common.in_fresh_process(validate, url, str(archive))
    say(f"validate_archive: {checked['seconds']:.1f} s ok={checked['ok']}, peak RSS {checked['rss']:.0f} MB")
    # the default path (validation on, as users run it), into a database of its own
    default_url = common.recreate_database(args.database + "_default")
    common.in_fresh_process(common.migrate, default_url)
    default = common.in_fresh_process(do_import, default_url, str(archive), False, True)
    common.drop_database(args.database + "_default")
    say(f"import (default: validation on): {default['seconds']:.1f} s, peak RSS {default['rss']:.0f} MB")
    copied = common.in_fresh_process(copy_in, url, imported["project"], str(common.WORKDIR / f"copy-in-{images}"))
    say(
        f"COPY FROM: {copied['seconds']:.1f} s, {copied['rows']:,} rows {copied['per']}, peak RSS {copied['rss']:.0f} "
        "MB"
    )
    loaded = common.in_fresh_process(
        load_subset, url, imported["project"], min(args.dump_images, images), str(common.WORKDIR / f"loaddata-{images}")
    )
    say(
        f"loaddata subset: {loaded['seconds']:.1f} s, {loaded['rows']:,} rows {loaded['per']}, peak RSS "
        f"{loaded['rss']:.0f} MB"
    )
    return {
        "images": images,
        "import": imported,
        "validate": checked,
        "default": default,
        "copy": copied,
        "load": loaded,
        "big_rows": sum(imported["big_rows"].values()),
    }


def run_default_only(args, url: str, images: int, archive: Path) -> dict:
    """The default import (validation on) and the baselines: what a 10M-image run can afford."""
    say = lambda message: print(f"  {message}", flush=True)
    default = common.in_fresh_process(do_import, url, str(archive), False, True)
    say(
        f"import (default: validation on): {default['seconds']:.1f} s, {default['rows']:,} rows created, "
        f"peak RSS {default['rss']:.0f} MB ({default['phases']})"
    )
    if args.without_baselines:
        return {"images": images, "default": default, "big_rows": sum(default["big_rows"].values())}
    copied = common.in_fresh_process(copy_in, url, default["project"], str(common.WORKDIR / f"copy-in-{images}"))
    say(f"COPY FROM: {copied['seconds']:.1f} s, {copied['rows']:,} rows, peak RSS {copied['rss']:.0f} MB")
    loaded = common.in_fresh_process(
        load_subset, url, default["project"], min(args.dump_images, images), str(common.WORKDIR / f"loaddata-{images}")
    )
    say(f"loaddata subset: {loaded['seconds']:.1f} s, {loaded['rows']:,} rows, peak RSS {loaded['rss']:.0f} MB")
    return {
        "images": images,
        "default": default,
        "copy": copied,
        "load": loaded,
        "big_rows": sum(default["big_rows"].values()),
    }


def default_only_report(r: dict) -> None:
    f, rows = r["default"], r["big_rows"]
    rate = rows / f["seconds"]
    print(f"\n### {r['images']:,} source images, default path only ({rows:,} rows in the four big tables)")
    if "copy" not in r:
        print(
            f"import_project, default (validation on): {f['seconds']:.1f} s ({f['phases']}), {rate:,.0f} rows/s, "
            f"peak RSS {f['rss']:.0f} MB"
        )
        return
    c, d = r["copy"], r["load"]
    copy_rate, load_rate = c["rows"] / c["seconds"], d["rows"] / d["seconds"]
    print("| Phase | Time | Four-table rows/s | / COPY FROM | / loaddata | Peak RSS |")
    print("|---|---|---|---|---|---|")
    print(
        f"| import_project, default (validation on) | {f['seconds']:.1f} s ({f['phases']}) | {rate:,.0f} | "
        f"{rate / copy_rate:.2f}x | {rate / load_rate:.1f}x | {f['rss']:.0f} MB |"
    )
    print(f"| COPY FROM, 4 tables | {c['seconds']:.1f} s | {copy_rate:,.0f} | 1 | - | {c['rss']:.0f} MB |")
    print(
        f"| loaddata (subset, extrapolated) | {rows / load_rate:.0f} s | {load_rate:,.0f} | - | 1 | {d['rss']:.0f} MB |"
    )


def report(results: list[dict]) -> None:
    print("\n## Results")
    if all("import" not in r for r in results):
        for r in results:
            default_only_report(r)
        return
    for r in results:
        i, v, c, d = r["import"], r["validate"], r["copy"], r["load"]
        same = r["big_rows"] / i["seconds"]
        all_rows = i["rows"] / i["seconds"]
        with_validation = r["big_rows"] / (i["seconds"] + v["seconds"])
        copy_rate = c["rows"] / c["seconds"]
        load_rate = d["rows"] / d["seconds"]
        print(
            f"\n### {r['images']:,} source images ({r['big_rows']:,} rows in the four big tables; {i['rows']:,} rows "
            "created)"
        )
        print("| Method | Time | Rows/s | Peak RSS |")
        print("|---|---|---|---|")
        print(
            f"| import_project(create_missing_users, validate=False) | {i['seconds']:.1f} s | {same:,.0f} (same 4 "
            "tables' rows); "
            f"{all_rows:,.0f} (all rows created) | {i['rss']:.0f} MB |"
        )
        print(
            f"| validate_archive (the importer's first step, separately) | {v['seconds']:.1f} s | - | {v['rss']:.0f} "
            "MB |"
        )
        print(f"| import + validation | {i['seconds'] + v['seconds']:.1f} s | {with_validation:,.0f} (same rows) | - |")
        print(
            f"| COPY FROM into staging tables LIKE the targets INCLUDING ALL, 4 tables | {c['seconds']:.1f} s | "
            f"{copy_rate:,.0f} | {c['rss']:.0f} MB |"
        )
        print(
            f"| loaddata JSON, subset of {d['rows']:,} rows | {d['seconds']:.1f} s, extrapolated to all: "
            f"**{r['big_rows'] / load_rate:.0f} s** "
            f"(extrapolated) | {load_rate:,.0f} | {d['rss']:.0f} MB |"
        )
        default = r["big_rows"] / r["default"]["seconds"]
        print(
            f"| **import_project, default (validation on)** | {r['default']['seconds']:.1f} s | {default:,.0f} (same "
            f"rows) | {r['default']['rss']:.0f} MB |"
        )
        print(
            f"\ndefault import (validation on): {default / copy_rate:.2f}x COPY FROM (goal >= 0.4), "
            f"{default / load_rate:.1f}x loaddata (goal >= 15), four big tables' rows"
        )
        print(
            f"\nimport / COPY = {same / copy_rate:.3f} (target >= 0.25: "
            f"{'met' if same / copy_rate >= 0.25 else 'NOT met'}); "
            f"with validation {with_validation / copy_rate:.2f}"
        )
        print(
            f"import / loaddata = {same / load_rate:.2f}x (target >= 10x: "
            f"{'met' if same / load_rate >= 10 else 'NOT met'}); "
            f"with validation {with_validation / load_rate:.1f}x"
        )
    if len(results) == 2:
        small, big = results
        ratio = big["import"]["rss"] / small["import"]["rss"]
        print(
            f"\npeak RSS at 10x: import {small['import']['rss']:.0f} -> {big['import']['rss']:.0f} MB ({ratio:.2f}x) "
            f"(target flat: {'met' if ratio < 1.25 else 'NOT met'})"
        )


def main(argv=None) -> None:
    common.run_sizes(parse_args(argv), run_size, report)


if __name__ == "__main__":
    main()
