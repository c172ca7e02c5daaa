"""Benchmark export_project (full profile) against COPY and dumpdata (PostgreSQL; not a timed test).

    .venv/bin/python bench/export.py [--images 1000000] [--detections 300000] [--occurrences 50000]
        [--scale] [--dump-images 20000] [--cprofile] [--keep]

In a fresh scratch database (`bench_export` on 127.0.0.1:5432, dropped and re-created, migrated
with call_command) a synthetic project is seeded (ami.main.synthetic, COPY-based; one
classification per detection), then, each step in its own spawned process so that its peak RSS
(getrusage maxrss) is its own:

1. export_project(project, path, "full", validate=False): rows written per second, on the default
   connections (DWCA_EXPORT_CONNECTIONS) and on one; then the default export (validation on);
2. validate_archive(path, profile="full") of that archive, timed on its own;
3. PostgreSQL's own `COPY (SELECT ...) TO STDOUT (FORMAT csv)` of the same rows of the four big
   tables (source images, occurrences, detections, classifications, with joins for the UUIDs of
   their foreign keys, ordered by UUID), written to files: the ceiling;
4. export_project(project, path, format="camtrap-dp", validate=False): the Camtrap DP package
   of the same project (docs/camtrap-dp.md), its rows per second against COPY's and its peak
   RSS; with --camtrap-validate its offline check is timed too, saying which path ran (the fast
   path, DuckDB, past DWCA_CAMTRAP_COLUMNAR_ABOVE_BYTES, else frictionless), and with
   --camtrap-both frictionless alone as well (columnar=False);
5. manage.py dumpdata (JSON) of the same four models on a subset (--dump-images source images
   and their detections, classifications and occurrences), extrapolated to the whole project.

With --scale the same is first run at 1/10 of the size, to show whether peak memory stays flat
when the project grows 10x. The archive is kept in $BENCH_WORKDIR (default /tmp/antenna-dwca-bench)
as export-<images>.zip, for bench/import.py. --cprofile profiles the export step (in its own
process) and prints the top costs. The database is dropped at the end unless --keep.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as common

DATABASE = "bench_export"
BIG_FILES = ("antenna_sourceimage.txt", "antenna_occurrence.txt", "antenna_detection.txt", "antenna_classification.txt")


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
        default=20_000,
        help="source images in the dumpdata subset (with their detections, classifications, occurrences)",
    )
    parser.add_argument("--cprofile", action="store_true", help="profile the export step and print the top costs")
    parser.add_argument(
        "--camtrap-validate",
        action="store_true",
        help="also time the Camtrap DP package's check (default path: DuckDB past its threshold, else frictionless)",
    )
    parser.add_argument(
        "--camtrap-both", action="store_true", help="with --camtrap-validate, also time frictionless alone"
    )
    parser.add_argument(
        "--default-only",
        action="store_true",
        help="only the default export (validation on) beside COPY and dumpdata: the lean run for 10M images",
    )
    parser.add_argument(
        "--compare-connections",
        action="store_true",
        help="with --default-only, also export (validate=False) on one connection and on the default's",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database (default: drop it at the end)")
    parser.add_argument(
        "--reuse", action="store_true", help="use the project a run with --keep seeded in the database (no seeding)"
    )
    parser.add_argument("--database", default=DATABASE, help="scratch database name (must start with bench_)")
    args = parser.parse_args(argv)
    if not args.database.startswith("bench_"):
        parser.error("the scratch database name must start with bench_")
    return args


# -- steps, each in a fresh process (in _common, so that bench/import.py can run them too) -----------

seed = common.seed_project
export = common.export_archive
validate = common.validate_step
profile_text = common.profile_text


def export_camtrap(url: str, project_id: int, path: str) -> dict:
    """The Camtrap DP package of the project (a step, in its own process)."""
    import time

    from ami.main.models import Project
    from dwca_port.export import export_project

    started = time.perf_counter()
    summary = export_project(Project.objects.get(pk=project_id), path, format="camtrap-dp", validate=False)
    return {
        "seconds": time.perf_counter() - started,
        "rows": summary.rows,
        "bytes": Path(path).stat().st_size,
        "tables": {t.file: t.rows for t in summary.tables},
    }


def validate_camtrap(url: str, path: str, columnar: bool | None = None) -> dict:
    """validate_package on its own: the default (columnar=None: the fast path past its threshold), or
    columnar=False, frictionless alone (what every check ran before)."""
    import time

    from dwca_port.formats.camtrap_dp.validate import validate_package

    started = time.perf_counter()
    report = validate_package(path, columnar=columnar)
    return {
        "seconds": time.perf_counter() - started,
        "ok": report.ok,
        "path": "columnar" if report.columnar else "frictionless",
        "blocking": [str(f) for f in report.blocking[:5]],
    }


# -- the parent ---------------------------------------------------------------------------------------------


def run_size(args, images: int, detections: int, occurrences: int) -> dict:
    workdir = common.WORKDIR
    workdir.mkdir(parents=True, exist_ok=True)
    archive = workdir / f"export-{images}.zip"
    archive.unlink(missing_ok=True)
    say = lambda message: print(f"  {message}", flush=True)
    print(
        f"\n## {images:,} source images, {detections:,} detections and classifications, {occurrences:,} occurrences",
        flush=True,
    )
    if args.reuse:  # the project a run with --keep seeded
        url = common.db_url(args.database)
        seeded = common.in_fresh_process(common.find_seeded, url, images)
    else:
        url = common.recreate_database(args.database)
        common.in_fresh_process(common.migrate, url)
        seeded = common.in_fresh_process(seed, url, images, detections, occurrences)
    project = seeded["project"]
    big_rows = sum(seeded["rows"].values())
    say(f"seeded in {seeded['seconds']:.1f} s: {seeded['rows']}, peak RSS {seeded['rss']:.0f} MB")
    if args.default_only:
        return run_default_only(args, url, project, images, seeded, archive)

    exported = common.in_fresh_process(export, url, project, str(archive), args.cprofile)
    say(
        f"export (validate=False): {exported['seconds']:.1f} s, {exported['rows']:,} archive rows, "
        f"{exported['bytes'] / 1e6:.1f} MB, peak RSS {exported['rss']:.0f} MB"
    )
    slowest = sorted(exported.get("table_seconds", {}).items(), key=lambda kv: -kv[1])[:8]
    say("slowest tables: " + ", ".join(f"{name} {s:.1f} s ({exported['tables'][name]:,} rows)" for name, s in slowest))
    if args.cprofile:
        print(exported["profile"])
    single = common.in_fresh_process(export, url, project, str(workdir / f"export-one-{images}.zip"), False, False, 1)
    say(
        f"export (validate=False) on one connection: {single['seconds']:.1f} s, peak RSS {single['rss']:.0f} MB; "
        f"on {exported['connections']}: {exported['seconds']:.1f} s"
    )
    default = common.in_fresh_process(export, url, project, str(workdir / f"export-default-{images}.zip"), False, True)
    say(
        f"export (default: validation on, {default['connections']} connections): {default['seconds']:.1f} s, "
        f"peak RSS {default['rss']:.0f} MB"
    )
    checked = common.in_fresh_process(validate, str(url), str(archive))
    say(
        f"validate_archive (default): {checked['seconds']:.1f} s, ok={checked['ok']} {checked['blocking']}, "
        f"proven clean set-wise: {checked['columnar']}, peak RSS {checked['rss']:.0f} MB"
    )
    precise = common.in_fresh_process(validate, str(url), str(archive), False)
    say(
        f"validate_archive (precise reader only, as before): {precise['seconds']:.1f} s, ok={precise['ok']}, peak RSS "
        f"{precise['rss']:.0f} MB"
    )
    copied = common.in_fresh_process(common.copy_out, url, project, str(workdir / f"copy-out-{images}"))
    say(
        f"COPY TO: {copied['seconds']:.1f} s, {copied['rows']:,} rows, {copied['bytes'] / 1e6:.1f} MB, peak RSS "
        f"{copied['rss']:.0f} MB"
    )
    package = workdir / f"camtrap-dp-{images}.zip"
    package.unlink(missing_ok=True)
    camtrap = common.in_fresh_process(export_camtrap, url, project, str(package))
    say(
        f"Camtrap DP export (validate=False): {camtrap['seconds']:.1f} s, {camtrap['rows']:,} rows "
        f"{camtrap['tables']}, "
        f"{camtrap['bytes'] / 1e6:.1f} MB, peak RSS {camtrap['rss']:.0f} MB"
    )
    if args.camtrap_validate:
        checked_package = common.in_fresh_process(validate_camtrap, str(url), str(package))
        camtrap["validate"] = checked_package
        say(
            f"Camtrap DP check (default, {checked_package['path']}): {checked_package['seconds']:.1f} s, "
            f"ok={checked_package['ok']} {checked_package['blocking']}, peak RSS {checked_package['rss']:.0f} MB"
        )
        if args.camtrap_both:
            alone = common.in_fresh_process(validate_camtrap, str(url), str(package), False)
            camtrap["frictionless"] = alone
            say(
                f"Camtrap DP check (frictionless alone): {alone['seconds']:.1f} s, ok={alone['ok']}, peak RSS "
                f"{alone['rss']:.0f} MB; the default took {checked_package['seconds'] / alone['seconds']:.2f} of it"
            )
    dumped = common.in_fresh_process(
        common.dumpdata_subset, url, project, min(args.dump_images, images), str(workdir / f"dumpdata-{images}")
    )
    say(
        f"dumpdata subset: {dumped['seconds']:.1f} s, {dumped['rows']:,} rows {dumped['per']}, peak RSS "
        f"{dumped['rss']:.0f} MB"
    )

    big_in_archive = sum(exported["tables"].get(f, 0) for f in BIG_FILES)
    return {
        "images": images,
        "big_rows": big_rows,
        "archive_rows": exported["rows"],
        "big_in_archive": big_in_archive,
        "export": exported,
        "validate": checked,
        "precise": precise,
        "default": default,
        "single": single,
        "copy": copied,
        "dump": dumped,
        "camtrap": camtrap,
        "seed": seeded,
        "archive": str(archive),
    }


def run_default_only(args, url: str, project: int, images: int, seeded: dict, archive: Path) -> dict:
    """The default export (validation on) and the baselines: what a 10M-image run can afford."""
    say = lambda message: print(f"  {message}", flush=True)
    default = common.in_fresh_process(export, url, project, str(archive), False, True)
    say(
        f"export (default: validation on): {default['seconds']:.1f} s, {default['rows']:,} archive rows, "
        f"{default['bytes'] / 1e6:.1f} MB, peak RSS {default['rss']:.0f} MB; validation {default['validation']:.1f} s"
    )
    copied = common.in_fresh_process(common.copy_out, url, project, str(common.WORKDIR / f"copy-out-{images}"))
    say(f"COPY TO: {copied['seconds']:.1f} s, {copied['rows']:,} rows, peak RSS {copied['rss']:.0f} MB")
    dumped = common.in_fresh_process(
        common.dumpdata_subset, url, project, min(args.dump_images, images), str(common.WORKDIR / f"dumpdata-{images}")
    )
    say(f"dumpdata subset: {dumped['seconds']:.1f} s, {dumped['rows']:,} rows, peak RSS {dumped['rss']:.0f} MB")
    result = {
        "images": images,
        "big_rows": sum(seeded["rows"].values()),
        "seed": seeded,
        "default": default,
        "copy": copied,
        "dump": dumped,
    }
    if args.compare_connections:  # validate=False, so that only the reading differs
        for connections in (1, default["connections"]):
            step = common.in_fresh_process(
                export, url, project, str(common.WORKDIR / f"export-{connections}c.zip"), False, False, connections
            )
            result[f"export on {connections}"] = step
            say(f"export (validate=False) on {connections} connection(s): {step['seconds']:.1f} s")
    return result


def default_only_report(r: dict) -> None:
    f, c, d, s = r["default"], r["copy"], r["dump"], r["seed"]
    rows, copy_rate, dump_rate = r["big_rows"], c["rows"] / c["seconds"], d["rows"] / d["seconds"]
    rate = rows / f["seconds"]
    print(f"\n### {r['images']:,} source images, default path only ({rows:,} rows in the four big tables)")
    print("| Phase | Time | Four-table rows/s | / COPY TO | / dumpdata | Peak RSS |")
    print("|---|---|---|---|---|---|")
    print(f"| seed | {s['seconds']:.1f} s | - | - | - | {s['rss']:.0f} MB |")
    print(
        f"| export_project, default (validation on, {f.get('connections', '?')} connections) | {f['seconds']:.1f} s "
        f"(writing {f['seconds'] - f['validation']:.1f} s, validation {f['validation']:.1f} s) | {rate:,.0f} | "
        f"{rate / copy_rate:.2f}x | {rate / dump_rate:.1f}x | {f['rss']:.0f} MB |"
    )
    for name, step in r.items():
        if name.startswith("export on "):
            rate = rows / step["seconds"]
            print(
                f"| export_project(validate=False), {step['connections']} connection(s) | {step['seconds']:.1f} s | "
                f"{rate:,.0f} | {rate / copy_rate:.2f}x | {rate / dump_rate:.1f}x | {step['rss']:.0f} MB |"
            )
    print(f"| COPY TO, 4 tables | {c['seconds']:.1f} s | {copy_rate:,.0f} | 1 | - | {c['rss']:.0f} MB |")
    print(
        f"| dumpdata (subset, extrapolated) | {rows / dump_rate:.0f} s | {dump_rate:,.0f} | - | 1 | {d['rss']:.0f} MB |"
    )


def report(results: list[dict]) -> None:
    print("\n## Results")
    if all("export" not in r for r in results):
        for r in results:
            default_only_report(r)
        return
    for r in results:
        default_report(r)
    for r in results:
        e, v, c, d = r["export"], r["validate"], r["copy"], r["dump"]
        export_rate_all = r["archive_rows"] / e["seconds"]
        # the like-for-like rate: the rows of the same four tables COPY writes, over the export's whole time
        export_rate_same = r["big_rows"] / e["seconds"]
        with_validation = r["big_rows"] / (e["seconds"] + v["seconds"])
        copy_rate = c["rows"] / c["seconds"]
        dump_rate = d["rows"] / d["seconds"]
        dump_extrapolated = r["big_rows"] / dump_rate
        print(
            f"\n### {r['images']:,} source images ({r['big_rows']:,} rows in the four big tables; "
            f"{r['archive_rows']:,} rows in the archive, {e['bytes'] / 1e6:.1f} MB)"
        )
        print("| Method | Time | Rows/s | Peak RSS |")
        print("|---|---|---|---|")
        print(
            f"| export_project(full, validate=False) | {e['seconds']:.1f} s | {export_rate_same:,.0f} (same 4 tables' "
            "rows); "
            f"{export_rate_all:,.0f} (all {r['archive_rows']:,} archive rows) | {e['rss']:.0f} MB |"
        )
        print(
            f"| validate_archive (separately) | {v['seconds']:.1f} s | {r['archive_rows'] / v['seconds']:,.0f} "
            f"archive rows/s | {v['rss']:.0f} MB |"
        )
        print(f"| export + validation | {e['seconds'] + v['seconds']:.1f} s | {with_validation:,.0f} (same rows) | - |")
        print(
            f"| COPY (SELECT ... joins) TO STDOUT csv, 4 tables | {c['seconds']:.1f} s | {copy_rate:,.0f} | "
            f"{c['rss']:.0f} MB |"
        )
        print(
            f"| dumpdata JSON, subset of {d['rows']:,} rows | {d['seconds']:.1f} s, extrapolated to all: "
            f"**{dump_extrapolated:.0f} s** "
            f"(extrapolated) | {dump_rate:,.0f} | {d['rss']:.0f} MB |"
        )
        all_vs_copy = export_rate_all / copy_rate
        same_vs_copy = export_rate_same / copy_rate
        print(
            f"\nexport / COPY, rows per second: {all_vs_copy:.2f} counting every row the export writes "
            f"(target >= 0.5: {'met' if all_vs_copy >= 0.5 else 'NOT met'}); {same_vs_copy:.2f} counting only the four "
            f"tables COPY writes; with validation {r['archive_rows'] / (e['seconds'] + v['seconds']) / copy_rate:.2f}"
        )
        k = r["camtrap"]
        camtrap_rate = k["rows"] / k["seconds"]
        print(
            f"Camtrap DP package (validate=False): {k['seconds']:.1f} s, {camtrap_rate:,.0f} rows/s = "
            f"{camtrap_rate / copy_rate:.2f} of COPY's rate; {k['bytes'] / 1e6:.1f} MB; peak RSS {k['rss']:.0f} MB"
            + (f"; its check {k['validate']['seconds']:.1f} s ({k['validate']['path']})" if "validate" in k else "")
            + (f", frictionless alone {k['frictionless']['seconds']:.1f} s" if "frictionless" in k else "")
        )
        all_vs_dump, same_vs_dump = export_rate_all / dump_rate, export_rate_same / dump_rate
        print(
            f"export / dumpdata, rows per second: {all_vs_dump:.1f}x counting every row the export writes "
            f"(target >= 10x: {'met' if all_vs_dump >= 10 else 'NOT met'}); {same_vs_dump:.1f}x counting only the "
            "four tables; "
            f"with validation {r['archive_rows'] / (e['seconds'] + v['seconds']) / dump_rate:.1f}x"
        )
    if len(results) == 2:
        small, big = results
        ratio = big["export"]["rss"] / small["export"]["rss"]
        vratio = big["validate"]["rss"] / small["validate"]["rss"]
        print(
            f"\npeak RSS at 10x: export {small['export']['rss']:.0f} -> {big['export']['rss']:.0f} MB ({ratio:.2f}x, "
            f"target flat: {'met' if ratio < 1.25 else 'NOT met'}); validation {small['validate']['rss']:.0f} -> "
            f"{big['validate']['rss']:.0f} MB ({vratio:.2f}x: it holds 16 bytes per identifier to check uniqueness "
            f"and references)"
        )
        kratio = big["camtrap"]["rss"] / small["camtrap"]["rss"]
        print(
            f"peak RSS at 10x, Camtrap DP export: {small['camtrap']['rss']:.0f} -> {big['camtrap']['rss']:.0f} MB "
            f"({kratio:.2f}x, target flat: {'met' if kratio < 1.25 else 'NOT met'})"
        )


def default_report(r: dict) -> None:
    """The default path (validation on, as users run it) on the four big tables' rows, against COPY and dumpdata."""
    e, f, v, p, c, d = r["export"], r["default"], r["validate"], r["precise"], r["copy"], r["dump"]
    rows, copy_rate, dump_rate = r["big_rows"], r["copy"]["rows"] / c["seconds"], d["rows"] / d["seconds"]
    print(f"\n### {r['images']:,} source images: the default path ({rows:,} rows in the four big tables)")
    print("| Step | Time | Four-table rows/s | / COPY TO | / dumpdata | Peak RSS |")
    print("|---|---|---|---|---|---|")
    for label, step in (
        (f"export_project, default (validation on, {f['connections']} connections)", f),
        (f"export_project(validate=False), {e['connections']} connections", e),
        ("export_project(validate=False), 1 connection", r["single"]),
    ):
        rate = rows / step["seconds"]
        print(
            f"| {label} | {step['seconds']:.1f} s | {rate:,.0f} | {rate / copy_rate:.2f}x | {rate / dump_rate:.1f}x | "
            f"{step['rss']:.0f} MB |"
        )
    print(f"| COPY TO, 4 tables | {c['seconds']:.1f} s | {copy_rate:,.0f} | 1 | - | {c['rss']:.0f} MB |")
    print(
        f"| dumpdata (subset, extrapolated) | {rows / dump_rate:.0f} s | {dump_rate:,.0f} | - | 1 | {d['rss']:.0f} MB |"
    )
    for label, step in (("validate_archive, default", v), ("validate_archive, precise reader only", p)):
        print(
            f"| {label} | {step['seconds']:.1f} s | {r['archive_rows'] / step['seconds']:,.0f} archive rows/s | - | "
            f"- | {step['rss']:.0f} MB |"
        )
    print(
        f"\ndefault export: {rows / f['seconds'] / copy_rate:.2f}x COPY TO (goal >= 0.5), "
        f"{rows / f['seconds'] / dump_rate:.1f}x dumpdata (goal >= 10); validation {p['seconds'] / v['seconds']:.1f}x "
        f"faster than the precise reader alone (goal >= 5), proven clean set-wise: {v['columnar']}"
    )


def main(argv=None) -> None:
    common.run_sizes(parse_args(argv), run_size, report)


if __name__ == "__main__":
    main()
