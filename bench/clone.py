"""Benchmark clone_project on templates of two sizes (not a timed test).

    .venv/bin/python bench/clone.py                      # SQLite scratch file
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_clone_bench .venv/bin/python bench/clone.py

Each template has N deployments (default 100 and 1,000) spread over 10 storage sources, 10
devices and 20 sites, and 50 taxa links per deployment (5,000 and 50,000 taxa, each linked to the
project through Taxon.projects and held by its taxa list), plus members with roles, tags, pipeline
configs, a processing service and capture-set definitions. Each is cloned twice: once timed,
once under CaptureQueriesContext (logging every statement slows it down). The statement counts
of the two sizes are equal: the clone is set-wise.

The database is a scratch one, dropped and re-created: a temporary SQLite file by default; on
PostgreSQL its name must start with h_clone.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TAXA_PER_DEPLOYMENT = 50
SCRATCH_SQLITE = Path(tempfile.gettempdir()) / "antenna-clone-bench.sqlite3"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--deployments",
        type=int,
        nargs="+",
        default=[100, 1000],
        help="template sizes, in deployments (default: 100 1000)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL") or f"sqlite:///{SCRATCH_SQLITE}",
        help="scratch database, dropped first (default: DATABASE_URL, else a temporary SQLite file)",
    )
    args = parser.parse_args()
    parts = urlsplit(args.database_url)
    name = parts.path.lstrip("/")
    if parts.scheme.startswith("postgres") and not name.startswith("h_clone"):
        parser.error(f"refusing to drop {name!r}: the benchmark database name must start with h_clone")
    if parts.scheme == "sqlite" and "bench" not in Path(parts.path).name:
        parser.error(f"refusing to delete {parts.path!r}: the benchmark SQLite file name must contain 'bench'")
    return args


def recreate_database(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        Path(parts.path[1:] if parts.path.startswith("//") else parts.path).unlink(missing_ok=True)
        return
    import psycopg

    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def build_template(deployments: int):
    """A template of the given size, written set-wise (shared taxa are reused between sizes)."""
    from django.db import transaction

    from ami.main.models import (
        Deployment,
        Device,
        Project,
        S3StorageSource,
        Site,
        SourceImageCollection,
        Tag,
        TaxaList,
        Taxon,
    )
    from ami.ml.models import Pipeline, ProcessingService, ProjectPipelineConfig
    from ami.users.models import User
    from ami.users.roles import Identifier, MLDataManager, Researcher, assign_role

    taxa_count = deployments * TAXA_PER_DEPLOYMENT
    with transaction.atomic():
        owner, _ = User.objects.get_or_create(email="bench-owner@example.org")
        project = Project.objects.create(
            name=f"Template with {deployments} deployments",
            owner=owner,
            create_defaults=False,
            description="Benchmark template",
        )
        for n, role in enumerate((Researcher, Identifier, MLDataManager)):
            member, _ = User.objects.get_or_create(email=f"bench-member-{n}@example.org")
            assign_role(project, member, role)

        names = [f"Benchgenus{n // 20} species{n}" for n in range(taxa_count)]
        Taxon.objects.bulk_create([Taxon(name=name) for name in names], batch_size=5000, ignore_conflicts=True)
        # Any taxa_count benchmark taxa will do (a name__in list would pass SQLite's variable limit).
        taxon_ids = list(
            Taxon.objects.filter(name__startswith="Benchgenus").order_by("pk").values_list("pk", flat=True)[:taxa_count]
        )
        links = Taxon.projects.through
        links.objects.bulk_create([links(taxon_id=t, project_id=project.pk) for t in taxon_ids], batch_size=5000)
        species_list = TaxaList.objects.create(name=f"{project.name}: species")
        species_list.projects.add(project)
        members = TaxaList.taxa.through
        members.objects.bulk_create(
            [members(taxalist_id=species_list.pk, taxon_id=t) for t in taxon_ids], batch_size=5000
        )
        project.default_filters_include_taxa.add(taxon_ids[0])
        project.default_filters_exclude_taxa.add(taxon_ids[1])
        for n in range(5):
            Tag.objects.create(name=f"Tag {n}", project=project).taxa.add(*taxon_ids[n * 100 : (n + 1) * 100])

        pipelines = [
            Pipeline.objects.get_or_create(
                name=f"Bench pipeline {n}", version=1, defaults={"slug": f"bench-pipeline-{n}"}
            )[0]
            for n in range(2)
        ]
        for pipeline in pipelines:
            ProjectPipelineConfig.objects.create(project=project, pipeline=pipeline, config={"batch_size": 8})
        service = ProcessingService(name="Bench service")
        service.save()
        service.projects.add(project)

        sources = S3StorageSource.objects.bulk_create(
            [
                S3StorageSource(
                    name=f"Bucket {n}", bucket=f"bucket-{n}", access_key="AK", secret_key="SK", project=project
                )
                for n in range(10)
            ]
        )
        devices = Device.objects.bulk_create([Device(name=f"Trap {n}", project=project) for n in range(10)])
        sites = Site.objects.bulk_create([Site(name=f"Site {n}", project=project) for n in range(20)])
        if not all(row.pk for row in (*sources, *devices, *sites)):  # SQLite before 3.35 returns no keys
            sources, devices, sites = (
                list(m.objects.filter(project=project).order_by("pk")) for m in (S3StorageSource, Device, Site)
            )
        Deployment.objects.bulk_create(
            [
                Deployment(
                    name=f"Station {n}",
                    project=project,
                    data_source=sources[n % 10],
                    device=devices[n % 10],
                    research_site=sites[n % 20],
                    latitude=45 + n / 10_000,
                    longitude=-73 - n / 10_000,
                    data_source_subdir=f"station-{n}",
                    events_count=30,
                    captures_count=3000,
                )
                for n in range(deployments)
            ],
            batch_size=1000,
        )
        SourceImageCollection.objects.bulk_create(
            [
                SourceImageCollection(name=f"Sample {n}", project=project, method="random", kwargs={"size": 100})
                for n in range(5)
            ]
        )
    return project, len(taxon_ids)


def main() -> None:
    args = parse_args()
    recreate_database(args.database_url)
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from dwca_port.clone import clone_project

    call_command("migrate", verbosity=0)
    print(f"Database: {connection.vendor} {connection.settings_dict['NAME']}")
    results = []
    for size in args.deployments:
        started = time.perf_counter()
        template, taxa = build_template(size)
        built = time.perf_counter() - started

        started = time.perf_counter()
        report = clone_project(template, f"Clone of {size}")
        seconds = time.perf_counter() - started
        with CaptureQueriesContext(connection) as queries:
            clone_project(template, f"Second clone of {size}")
        statements = len(queries.captured_queries)

        rows = sum(report.created.values())
        results.append((size, statements))
        print(
            f"{size:>6,} deployments, {taxa:>7,} taxa (Taxon.projects + taxa list links: {2 * taxa:,}); "
            f"template built in {built:5.1f} s; clone: {seconds:6.2f} s, {rows:>7,} rows created, "
            f"{statements} statements"
        )
    counts = {statements for _, statements in results}
    verdict = "the same for every size" if len(counts) == 1 else "DIFFERENT between sizes"
    print(f"Statements per clone: {', '.join(str(s) for _, s in results)} ({verdict})")


if __name__ == "__main__":
    main()
