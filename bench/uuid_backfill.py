"""Benchmark the identity migration's UUID backfill on a big main_sourceimage table (PostgreSQL).

    .venv/bin/python bench/uuid_backfill.py [--images 10000000] [--batch-size 10000]
        [--database-url postgres://postgres@127.0.0.1:5432/h_identity_bench]

In a fresh database (dropped and re-created; the name must start with "h_identity"):
1. migrate to just before the UUID migrations, then insert N source images with generate_series
   (spread over 10 deployments, as on a real instance, with every index of the table present);
2. a raw-SQL reference: add the uuid column nullable, then a plain psycopg loop of
   `UPDATE ... SET uuid = gen_random_uuid() WHERE id BETWEEN lo AND hi AND uuid IS NULL` + commit;
3. reset (DROP COLUMN, VACUUM FULL), then the migration's own code: add the column nullable and
   run ami.base.uuid_backfill.backfill_uuids, the function AddUUIDField calls;
4. the rest of AddUUIDField (unique index CONCURRENTLY, NOT NULL through a NOT VALID check),
   by running the operation itself on the backfilled table.
Each phase runs in its own process, so its peak RSS (resource.getrusage) is its own. Meanwhile a
prober writes one random row every 0.1 s from another connection and records how long its
UPDATE took: the longest any application write waited on the migration.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TABLE = "main_sourceimage"
DEPLOYMENTS = 10
LOAD_CHUNK = 1_000_000
LOCK_PROBE_TIMEOUT = 0.5  # seconds a probe write may wait for a lock before it counts as blocked


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=10_000_000, help="source images to create (default 10 million)")
    parser.add_argument(
        "--batch-size", type=int, default=None, help="rows per batch (default: settings.UUID_BACKFILL_BATCH_SIZE)"
    )
    parser.add_argument(
        "--database-url",
        default="postgres://postgres@127.0.0.1:5432/h_identity_bench",
        help="the scratch database to create (it is dropped first)",
    )
    args = parser.parse_args()
    database = urlsplit(args.database_url).path.lstrip("/")
    if not urlsplit(args.database_url).scheme.startswith("postgres"):
        parser.error("--database-url must be a postgres:// URL")
    if not database.startswith("h_identity"):
        parser.error(f"refusing to drop {database!r}: the benchmark database name must start with h_identity")
    if args.images < 1:
        parser.error("--images must be at least 1")
    return args


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


# -- phases, each run in a fresh process ----------------------------------------------------------


def setup_django(url: str, batch_size: int | None) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if batch_size:
        os.environ["UUID_BACKFILL_BATCH_SIZE"] = str(batch_size)
    import django

    django.setup()


def prepare_schema(url: str) -> dict:
    """Migrate to the state before the UUID migrations; one project and its deployments."""
    setup_django(url, None)
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    target = [("main", "0005_organization")]
    executor = MigrationExecutor(connection)
    executor.migrate(target)
    apps = executor.loader.project_state(target).apps
    project = apps.get_model("main", "Project").objects.create(name="Backfill benchmark")
    Deployment = apps.get_model("main", "Deployment")
    deployments = [Deployment.objects.create(name=f"Station {n}", project=project).pk for n in range(DEPLOYMENTS)]
    from django.conf import settings

    return {
        "project": project.pk,
        "first_deployment": min(deployments),
        "batch_size": settings.UUID_BACKFILL_BATCH_SIZE,
    }


def raw_sql_phase(url: str, batch_size: int) -> dict:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(f"ALTER TABLE {TABLE} ADD COLUMN uuid uuid NULL")
        conn.commit()
        lo, hi = conn.execute(f"SELECT min(id), max(id) FROM {TABLE}").fetchone()
        started, durations = time.perf_counter(), []
        for start in range(lo, hi + 1, batch_size):
            batch_started = time.perf_counter()
            conn.execute(
                f"UPDATE {TABLE} SET uuid = gen_random_uuid() WHERE id BETWEEN %s AND %s AND uuid IS NULL",
                (start, start + batch_size - 1),
            )
            conn.commit()
            durations.append(time.perf_counter() - batch_started)
        seconds = time.perf_counter() - started
    durations.sort()
    return {
        "seconds": seconds,
        "batches": len(durations),
        "longest": durations[-1],
        "rss": peak_rss_mb(),
        "p50": durations[len(durations) // 2],
        "p99": durations[min(len(durations) - 1, len(durations) * 99 // 100)],
        "rows_per_batch": batch_size,
    }


def migration_backfill_phase(url: str, batch_size: int) -> dict:
    setup_django(url, batch_size)
    baseline = peak_rss_mb()
    from django.db import connection

    from ami.base.uuid_backfill import backfill_uuids

    with connection.cursor() as cursor:  # AddUUIDField's first two steps
        cursor.execute(f"ALTER TABLE {TABLE} ADD COLUMN uuid uuid NULL")
        cursor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN uuid SET DEFAULT gen_random_uuid()")
    report = backfill_uuids(connection, TABLE)
    sizes = sorted(report.batch_sizes)
    return {
        "seconds": report.seconds,
        "batches": report.batches,
        "longest": report.longest_batch_seconds,
        "rows": report.rows,
        "rss": peak_rss_mb(),
        "rss_after_django_setup": baseline,
        "p50": report.batch_seconds_percentile(50),
        "p99": report.batch_seconds_percentile(99),
        "rows_per_batch": sizes[len(sizes) // 2],
    }


def migration_finish_phase(url: str, batch_size: int) -> dict:
    """Run AddUUIDField itself on the backfilled table: its backfill finds nothing left to do,
    then it builds the unique index concurrently and sets NOT NULL."""
    setup_django(url, batch_size)
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from ami.base.migration_operations import AddUUIDField

    state = MigrationExecutor(connection).loader.project_state([("main", "0005_organization")])
    operation = AddUUIDField("sourceimage")
    new_state = state.clone()
    operation.state_forwards("main", new_state)
    started = time.perf_counter()
    connection.force_debug_cursor = True  # records every statement's duration in connection.queries
    with connection.schema_editor(atomic=False) as editor:
        operation.database_forwards("main", editor, state, new_state)
    seconds = time.perf_counter() - started
    statements = [(float(q["time"]), q["sql"]) for q in connection.queries]
    exclusive = [(t, sql) for t, sql in statements if sql.startswith("ALTER TABLE") and "VALIDATE" not in sql]
    connection.force_debug_cursor = False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT is_nullable FROM information_schema.columns WHERE table_name = %s AND column_name = 'uuid'", [TABLE]
        )
        nullable = cursor.fetchone()[0]
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = %s",
            [f"{TABLE}_uuid_key"],
        )
        valid = cursor.fetchone()[0]

    def longest(matching):
        return max((t for t, sql in statements if matching(sql)), default=0.0)

    return {
        "seconds": seconds,
        "nullable": nullable,
        "index_valid": valid,
        "rss": peak_rss_mb(),
        "resume_pass": sum(t for t, sql in statements if sql.startswith("UPDATE")),
        "create_index": longest(lambda sql: sql.startswith("CREATE UNIQUE INDEX CONCURRENTLY")),
        "validate": longest(lambda sql: "VALIDATE CONSTRAINT" in sql),
        "longest_exclusive": max(exclusive, default=(0.0, ""))[0],
        "exclusive_count": len(exclusive),
    }


def run_in_fresh_process(function, *args):
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


# -- the parent: database set-up, the prober, the report ------------------------------------------


class Prober(threading.Thread):
    """Writes one random row every 0.1 s and keeps, per phase, the slowest write and the number
    of writes that waited more than LOCK_PROBE_TIMEOUT for a lock (lock_timeout errors). A slow
    write that is not a lock wait is I/O: on this machine, checkpoints' fsyncs."""

    def __init__(self, url: str, max_id: int):
        super().__init__(daemon=True)
        self.url, self.max_id = url, max_id
        self.phase = None
        self.slowest: dict[str, float] = {}
        self.blocked: dict[str, int] = {}
        self.stopping = threading.Event()

    def run(self):
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"SET lock_timeout = '{int(LOCK_PROBE_TIMEOUT * 1000)}ms'")
            while not self.stopping.is_set():
                phase = self.phase
                started = time.perf_counter()
                try:
                    conn.execute(f"UPDATE {TABLE} SET size = size WHERE id = %s", (random.randint(1, self.max_id),))
                except psycopg.errors.LockNotAvailable:
                    if phase:
                        self.blocked[phase] = self.blocked.get(phase, 0) + 1
                elapsed = time.perf_counter() - started
                if phase:
                    self.slowest[phase] = max(self.slowest.get(phase, 0.0), elapsed)
                self.stopping.wait(0.1)


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def load_images(url: str, images: int, project: int, first_deployment: int) -> float:
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        for lo in range(1, images + 1, LOAD_CHUNK):
            hi = min(lo + LOAD_CHUNK - 1, images)
            conn.execute(
                f"""
                INSERT INTO {TABLE} (created_at, updated_at, path, timestamp, width, height, size,
                                     checksum, test_image, project_id, deployment_id)
                SELECT now(), now(),
                       'night-' || lpad((g / 5000)::text, 5, '0') || '/' || lpad(g::text, 9, '0') || '-snapshot.jpg',
                       timestamp '2023-06-01 22:00' + g * interval '10 seconds', 4096, 2160,
                       1500000 + g %% 100000, md5(g::text), false, %s, %s + g %% {DEPLOYMENTS}
                FROM generate_series(%s::bigint, %s::bigint) AS g
                """,
                (project, first_deployment, lo, hi),
            )
            conn.commit()
            print(f"  loaded {hi:,} / {images:,} rows ({time.perf_counter() - started:.0f} s)", flush=True)
    return time.perf_counter() - started


def maintenance(url: str, sql: str) -> float:
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)
    return time.perf_counter() - started


def table_size(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT pg_size_pretty(pg_relation_size(%s)) || ' heap, ' || pg_size_pretty(pg_total_relation_size(%s)) "
            "|| ' with indexes'",
            (TABLE, TABLE),
        ).fetchone()[0]


def main() -> None:
    args = parse_args()
    url = args.database_url
    import psycopg

    print(f"Fresh database {urlsplit(url).path.lstrip('/')}; migrating to main 0005 (before the UUIDs)...", flush=True)
    recreate_database(url)
    setup = run_in_fresh_process(prepare_schema, url)
    batch_size = args.batch_size or setup["batch_size"]
    with psycopg.connect(url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]

    print(f"Loading {args.images:,} source images with generate_series...", flush=True)
    load_seconds = load_images(url, args.images, setup["project"], setup["first_deployment"])
    maintenance(url, f"VACUUM (FULL, ANALYZE) {TABLE}")
    print(f"  table: {table_size(url)}", flush=True)

    prober = Prober(url, args.images)
    prober.start()

    print("Raw SQL backfill (plain psycopg loop)...", flush=True)
    prober.phase = "raw"
    raw = run_in_fresh_process(raw_sql_phase, url, batch_size)
    prober.phase = None

    print("Reset: DROP COLUMN uuid, VACUUM FULL...", flush=True)
    maintenance(url, f"ALTER TABLE {TABLE} DROP COLUMN uuid")
    reset_seconds = maintenance(url, f"VACUUM (FULL, ANALYZE) {TABLE}")

    print("The migration's backfill (ami.base.uuid_backfill.backfill_uuids)...", flush=True)
    prober.phase = "migration"
    ours = run_in_fresh_process(migration_backfill_phase, url, batch_size)
    prober.phase = None
    assert ours["rows"] == args.images, ours

    print("The rest of AddUUIDField (unique index CONCURRENTLY, NOT NULL via a NOT VALID check)...", flush=True)
    prober.phase = "finish"
    finish = run_in_fresh_process(migration_finish_phase, url, batch_size)
    prober.phase = None
    prober.stopping.set()
    prober.join()

    ratio = ours["seconds"] / raw["seconds"]
    print()
    print(
        f"UUID backfill of {args.images:,} source images, batches of at most {batch_size:,} rows, PostgreSQL {version}"
    )
    print(
        f"(load {load_seconds:.0f} s; reset VACUUM FULL {reset_seconds:.0f} s; table after backfill: {table_size(url)})"
    )
    print()
    print(
        f"{'':36} {'total s':>8} {'batches':>8} {'median rows':>11} {'p50 s':>6} {'p99 s':>6} "
        f"{'longest batch s':>15} {'peak RSS MB':>11} {'slowest app write s':>19}"
    )
    for label, figures, phase in (
        ("migration backfill (backfill_uuids)", ours, "migration"),
        ("raw SQL psycopg loop", raw, "raw"),
    ):
        print(
            f"{label:36} {figures['seconds']:8.1f} {figures['batches']:8,} {figures['rows_per_batch']:11,} "
            f"{figures['p50']:6.3f} {figures['p99']:6.3f} {figures['longest']:15.3f} {figures['rss']:11.0f} "
            f"{prober.slowest.get(phase, 0):19.3f}"
        )
    print(
        f"(slowest app write: a single-row UPDATE every 0.1 s from another connection; writes that waited "
        f"over {LOCK_PROBE_TIMEOUT} s for a lock: migration {prober.blocked.get('migration', 0)}, raw "
        f"{prober.blocked.get('raw', 0)})"
    )
    print(
        f"ratio migration / raw: {ratio:.2f}x (target: within 1.5x); longest migration batch {ours['longest']:.3f} s "
        "(target: under 1 s)"
    )
    print(
        f"(the migration process's RSS includes Django: {ours['rss_after_django_setup']:.0f} MB right after "
        "django.setup())"
    )
    print(
        f"rest of AddUUIDField: {finish['seconds']:.1f} s = resume pass over the filled table "
        f"{finish['resume_pass']:.1f} s "
        f"+ CREATE UNIQUE INDEX CONCURRENTLY {finish['create_index']:.1f} s + VALIDATE CONSTRAINT "
        f"{finish['validate']:.1f} s "
        f"+ {finish['exclusive_count']} ALTER TABLE statements under ACCESS EXCLUSIVE, the longest "
        f"{finish['longest_exclusive'] * 1000:.0f} ms"
    )
    print(
        f"  slowest app write meanwhile {prober.slowest.get('finish', 0):.3f} s, writes blocked over "
        f"{LOCK_PROBE_TIMEOUT} s by a lock: "
        f"{prober.blocked.get('finish', 0)}; column nullable afterwards: {finish['nullable']}, unique index valid: "
        f"{finish['index_valid']}"
    )


if __name__ == "__main__":
    main()
